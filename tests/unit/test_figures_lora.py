"""The LoRA page's forgetting figures, from a fresh default run with compare_full (about a minute)."""

from __future__ import annotations

import torch

from app.demos.base import run_inline
from app.demos.lora import DEMO, Params
from app.glossary.content import split_front_matter
from app.ml import charlm
from app.settings import ROOT

torch.set_num_threads(1)


def test_task_a_loss_on_every_character_and_on_those_task_b_keeps() -> None:
    _, body, _ = split_front_matter((ROOT / "content" / "training" / "lora.md").read_text())
    text = " ".join(body.split())
    points, summary, _ = run_inline(DEMO, Params(pace=0, compare_full=True))
    first, final = points[0], summary["final"]
    _, y = charlm.eval_batch_a()
    changed = 1 - charlm.kept_in_task_b(y).float().mean().item()
    assert f"at a, e, i and o ({changed:.0%} of the characters)" in text
    assert (
        f"LoRA takes it from {first['loss_a_kept']:.2f} to {final['lora']['loss_a_kept']:.2f}, "
        f"full fine-tuning to only {final['full']['loss_a_kept']:.2f} (seed 0" in text
    )
    assert f"task-A loss rises from {first['loss_a']:.2f} to {final['lora']['loss_a']:.1f}" in text
    assert f"task A ends at {final['full']['loss_a']:.1f}" in text
    lora, full = final["lora"], final["full"]
    assert full["loss_a"] > lora["loss_a"] and full["loss_a_kept"] < lora["loss_a_kept"]
