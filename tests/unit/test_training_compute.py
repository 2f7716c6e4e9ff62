"""The training-compute playground: N counted two independent ways, FLOPs exact, throughput measured."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from app.demos.base import InlineControl, run_inline
from app.demos.training_compute import DEMO
from app.ml import flops
from app.ml.scaling import load_corpus, make_model

torch.set_num_threads(1)

V = len(load_corpus().vocab)
SMALL = {"width": 16, "depth": 2, "batch_size": 4, "seq_len": 16, "steps": 6}


def n_by_architecture(d: int, layers: int, vocab: int) -> int:
    """Non-embedding parameters of a CharLM from its shapes: per block qkv, out, mlp in, mlp out
    (weights and biases) and two layer norms; then the final norm and the untied head."""
    block = (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d) + 2 * 2 * d
    return layers * block + 2 * d + (d * vocab + vocab)


def n_by_name(model: torch.nn.Module) -> int:
    return sum(p.numel() for name, p in model.named_parameters() if not name.startswith(("tok_emb.", "pos_emb.")))


@pytest.mark.parametrize(("d", "layers"), [(8, 1), (16, 2), (64, 3)])
def test_non_embedding_params_match_the_architecture(d: int, layers: int) -> None:
    model = make_model(V, d, layers, 32, seed=0)
    assert flops.non_embedding_params(model) == n_by_architecture(d, layers, V) == n_by_name(model)
    embeddings = V * d + 32 * d
    assert sum(p.numel() for p in model.parameters()) == n_by_architecture(d, layers, V) + embeddings


def test_flop_formulas_by_hand() -> None:
    assert flops.training_flops(1000, 7) == 42_000
    # Kaplan et al.: forward attention 2·n_layer·n_ctx·d_attn per token, times 3 for training.
    assert flops.attention_flops_per_token(2, 64, 32) == 3 * 2 * 2 * 64 * 32
    assert flops.training_flops_with_attention(1000, 7, 2, 64, 32) == 7 * (6000 + 6 * 2 * 64 * 32)
    assert flops.time_at(3e10, 1e9) == {"flops": 3e10, "seconds": 30.0, "years": 30.0 / (365.25 * 86400)}


def test_every_point_counts_6_n_tokens_exactly() -> None:
    points, summary, control = run_inline(DEMO, DEMO.Params(**SMALL))
    facts = control.facts
    n = n_by_architecture(16, 2, V)
    assert facts["non_embedding_params"] == n == summary["non_embedding_params"]
    assert facts["flops_per_token"] == 6 * n
    assert facts["params_by_kind"]["tok_emb"] == V * 16 and facts["params_by_kind"]["pos_emb"] == 16 * 16
    assert "tok_emb" in facts["how_n_is_counted"] and "Kaplan" in facts["attention_convention"]
    assert [p["step"] for p in points] == list(range(6))
    for p in points:
        tokens = (p["step"] + 1) * 4 * 16
        assert p["tokens"] == tokens
        assert p["flops"] == 6 * n * tokens and isinstance(p["flops"], int)
        assert p["flops_attention"] == p["flops"] + 6 * 2 * 16 * 16 * tokens
        assert p["flops_per_second"] == p["flops"] / p["seconds"]
    seconds = [p["seconds"] for p in points]
    assert seconds == sorted(seconds) and seconds[0] > 0
    fps = summary["flops_per_second"]
    assert summary["gpt3"]["seconds"] == pytest.approx(3.14e23 / fps)
    assert summary["eu_ai_act_threshold"]["years"] == pytest.approx(1e25 / fps / (365.25 * 86400))
    assert summary["attention_share"] == pytest.approx(6 * 2 * 16 * 16 / (6 * n + 6 * 2 * 16 * 16))
    assert facts["first_step"]["at_flops_per_second"] == points[0]["flops_per_second"]


def test_loss_falls() -> None:
    points, _, _ = run_inline(DEMO, DEMO.Params(**SMALL | {"steps": 40}))
    assert sum(p["loss"] for p in points[-5:]) / 5 < 0.85 * points[0]["loss"]


def test_live_lr_change_applies_from_the_next_step() -> None:
    params = DEMO.Params(**SMALL)
    control = InlineControl(params)
    steps = DEMO.steps(params, control)
    assert next(steps)["lr"] == params.lr
    control.change(lr=1e-4)
    assert next(steps)["lr"] == 1e-4


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"width": 12}, "width"),
        ({"width": 264}, "width"),
        ({"depth": 0}, "depth"),
        ({"batch_size": 65}, "batch_size"),
        ({"seq_len": 4}, "seq_len"),
        ({"steps": 0}, "steps"),
        ({"lr": 0}, "lr"),
        ({"pace": 241}, "pace"),
    ],
)
def test_bad_params_name_the_field(raw: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        DEMO.parse(raw)
    assert info.value.errors()[0]["loc"][0] == field


def test_a_step_too_costly_for_a_shared_worker_is_refused() -> None:
    with pytest.raises(ValidationError, match="FLOPs per step"):
        DEMO.parse({"width": 256, "depth": 8, "batch_size": 64, "seq_len": 256})
