"""The training-compute playground: N counted two independent ways, FLOPs exact, throughput measured."""

from __future__ import annotations

import itertools

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


# ---- FLOPs counted by PyTorch beside 6N ----


def linear_stack(widths: list[int]) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        layers += [torch.nn.Linear(a, b, bias=False)] + ([torch.nn.ReLU()] if i < len(widths) - 2 else [])
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("input_needs_grad", [True, False])
def test_the_counter_is_6n_per_token_on_a_bias_free_linear_stack(input_needs_grad: bool) -> None:
    widths, tokens = [12, 32, 24, 5], 7
    model = linear_stack(widths)
    n = sum(p.numel() for p in model.parameters())
    x = torch.randn(tokens, widths[0], requires_grad=input_needs_grad)
    _, by_op = flops.count_step(lambda: model(x).square().sum().backward())
    first_layer = widths[0] * widths[1]
    # Forward 2N per token; backward 2N for the weights' gradients and 2N for the inputs' ones,
    # which the first layer skips when its input needs no gradient (raw data).
    expected = 6 * n * tokens if input_needs_grad else 6 * n * tokens - 2 * first_layer * tokens
    assert sum(by_op.values()) == flops.training_flops(n, tokens) - (
        0 if input_needs_grad else 2 * first_layer * tokens
    )
    assert sum(by_op.values()) == expected


def test_what_6n_leaves_out_of_a_transformer_step() -> None:
    d, layers, seq, batch = 16, 2, 16, 3
    model = make_model(V, d, layers, seq, seed=0)
    x = torch.randint(V, (batch, seq))
    _, by_op = flops.count_step(
        lambda: torch.nn.functional.cross_entropy(model(x).flatten(0, 1), x.flatten()).backward()
    )
    tokens = batch * seq
    matrices = sum(
        p.numel() for name, p in model.named_parameters() if p.dim() == 2 and not name.startswith(("tok_", "pos_"))
    )
    n = flops.non_embedding_params(model)
    # The weights' products: exactly 6 per weight per token (the embeddings' output needs a gradient).
    assert by_op["mm"] + by_op["addmm"] == 6 * matrices * tokens
    # 6N counts the biases and layer norms too, which do no product: that is all it overcounts.
    assert flops.training_flops(n, tokens) - (by_op["mm"] + by_op["addmm"]) == 6 * (n - matrices) * tokens
    # Attention's two products over the full (masked) seq x seq matrix: twice Kaplan's term, which
    # counts the causal half.
    assert by_op["bmm"] == 2 * flops.attention_flops_per_token(layers, seq, d) * tokens


def test_the_run_counts_its_first_step_and_every_step_costs_the_same() -> None:
    points, summary, control = run_inline(DEMO, DEMO.Params(**SMALL))
    facts = control.facts
    per_step = facts["flops_counted_per_step"]
    assert per_step == sum(facts["counted_by_operator"].values())
    assert [p["flops_counted"] for p in points] == [per_step * (s + 1) for s in range(6)]
    # Another step of the same shapes, counted from scratch, costs the same.
    model = make_model(V, 16, 2, 16, seed=0)
    x = torch.randint(V, (4, 16))
    _, by_op = flops.count_step(
        lambda: torch.nn.functional.cross_entropy(model(x).flatten(0, 1), x.flatten()).backward()
    )
    assert by_op == facts["counted_by_operator"]
    assert summary["counted_over_6n"] == per_step / (6 * facts["non_embedding_params"] * 4 * 16)
    # On a CPU no peak is known: none is shown, and the run says why.
    assert facts["peak_flops_per_second"] is None and "not known" in facts["peak_source"]
    assert all("utilisation" not in p for p in points) and "utilisation" not in summary


@pytest.mark.parametrize(
    ("name", "peak"),
    [
        ("NVIDIA H100 80GB HBM3", 67e12),
        ("NVIDIA H100 PCIe", 51e12),
        ("NVIDIA H100 NVL", 60e12),
        ("NVIDIA H200", 67e12),
        ("NVIDIA A100-SXM4-80GB", 19.5e12),
        ("NVIDIA GeForce RTX 4090", None),
    ],
)
def test_peak_flops_by_gpu_name(monkeypatch: pytest.MonkeyPatch, name: str, peak: float | None) -> None:
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: name)
    found, source = flops.peak_flops(torch.device("cuda"))
    assert found == peak and name in source
    assert flops.peak_flops(torch.device("cpu"))[0] is None


def test_equal_compute_trains_twice_n_on_half_d() -> None:
    points, summary, control = run_inline(DEMO, DEMO.Params(**SMALL | {"steps": 10, "equal_compute": True}))
    plan = control.facts["equal_compute"]
    assert plan["N"]["depth"] == 2 and plan["2N"]["depth"] == 4
    n, n2 = plan["N"]["non_embedding_params"], plan["2N"]["non_embedding_params"]
    assert 1.8 < n2 / n < 2 and plan["2N"]["steps"] == round(10 * n / n2) == 5
    by_series = {s: [p for p in points if p["series"] == s] for s in ("N", "2N")}
    assert [p["step"] for p in by_series["N"]] == list(range(10))
    assert [p["step"] for p in by_series["2N"]] == list(range(5))
    big, small = by_series["2N"][-1], by_series["N"][-1]
    assert abs(big["flops"] - small["flops"]) <= 6 * n2 * 4 * 16  # equal 6ND, within one step
    assert summary["final"] == {"N": small["val_loss"], "2N": big["val_loss"]}


def test_equal_compute_counts_both_models_against_the_step_limit() -> None:
    DEMO.parse({"width": 64, "depth": 2, "batch_size": 16, "seq_len": 64})  # 6.0e8 FLOPs a step
    with pytest.raises(ValidationError, match="depth 6"):  # 2 + 4 layers a step: 1.8e9
        DEMO.parse({"width": 64, "depth": 2, "batch_size": 16, "seq_len": 64, "equal_compute": True})
