"""How the adaptation playgrounds measure forgetting: LoRA's task-A loss on the characters task B
keeps, and fine-tuning's replay of general English and its epoch count."""

from __future__ import annotations

import pytest
import torch

from app.demos.base import run_inline
from app.demos.fine_tuning import DEMO as FINE_TUNING
from app.demos.fine_tuning import Params as FineTuningParams
from app.ml import charlm, texts

torch.set_num_threads(1)


def test_kept_characters_are_those_leetspeak_leaves_alone() -> None:
    _, y = charlm.eval_batch_a(batch_size=4)
    kept = charlm.kept_in_task_b(y)
    text = charlm.VOCAB.decode(y.reshape(-1))
    assert kept.reshape(-1).tolist() == [texts.to_task_b(c) == c for c in text]
    assert 0 < kept.float().mean().item() < 1


def test_the_masked_eval_loss_is_the_mean_over_kept_positions() -> None:
    model = charlm.new_model(charlm.CharLMConfig(len(charlm.VOCAB), n_layer=1, d_model=16), seed=0)
    x, y = charlm.eval_batch_a(batch_size=2)
    kept = charlm.kept_in_task_b(y)
    with torch.no_grad():
        nll = charlm.token_nll(model.eval(), x, y)
    assert charlm.eval_loss(model, x, y, kept) == pytest.approx(nll[kept].mean().item(), rel=1e-5)
    assert charlm.eval_loss(model, x, y) == pytest.approx(nll.mean().item(), rel=1e-5)


@pytest.mark.parametrize(("replay", "windows"), [(0.0, 0), (0.25, 2), (0.75, 6)])
def test_replay_windows_and_epochs(replay: float, windows: int) -> None:
    params = FineTuningParams(steps=2, replay=replay, compare_scratch=False, pace=0)
    _, _, control = run_inline(FINE_TUNING, params)
    assert control.facts["replay_windows"] == f"{windows} of 8"
    assert control.facts["epochs"] == pytest.approx(2 * (8 - windows) * 64 / params.new_chars)


def test_replay_changes_the_batches_and_nothing_else_at_zero() -> None:
    def first_losses(replay: float) -> list[float]:
        points, _, _ = run_inline(FINE_TUNING, FineTuningParams(steps=2, replay=replay, pace=0))
        return [p["loss"] for p in points]

    plain = first_losses(0.0)
    assert first_losses(0.0) == plain
    assert first_losses(0.5) != plain
