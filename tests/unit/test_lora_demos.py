"""The LoRA and QLoRA playgrounds, run in-process with few steps on a quickly pretrained base."""

from __future__ import annotations

import math

import pytest
import torch
from pydantic import ValidationError

from app.demos import load_demos
from app.demos.base import Demo, InlineControl, Point, default_artifacts, run_inline
from app.demos.recipes import BASE_MODEL
from app.ml import charlm
from app.ml.charlm import CharLM

torch.set_num_threads(1)

D, V = 64, len(charlm.VOCAB)
BLOCK_SHAPES = {"attn_qkv": (D, 3 * D), "attn_out": (D, D), "mlp_in": (D, 4 * D), "mlp_out": (4 * D, D)}
LAYER_NORMS = 2 * 2 + 1  # two per block, one final
# Every parameter of the base, counted from the architecture rather than from the model.
BASE_PARAMS = V * D + 64 * D + LAYER_NORMS * 2 * D + 2 * sum(i * o + o for i, o in BLOCK_SHAPES.values()) + D * V + V


@pytest.fixture(scope="module", autouse=True)
def base() -> CharLM:
    """The prepared base model (`make test` prepares it first; built here if it is missing)."""
    return charlm.load_model(default_artifacts().ensure(BASE_MODEL))


@pytest.fixture(scope="module")
def demos() -> dict[str, Demo]:
    return load_demos()


def run(demo: Demo, **params: object) -> tuple[list[Point], dict, InlineControl]:
    return run_inline(demo, demo.Params(**params))


def losses(points: list[Point], series: str, key: str = "loss") -> list[float]:
    return [p[key] for p in points if p["series"] == series]


@pytest.mark.parametrize("name", ["lora", "qlora"])
def test_declaration(demos: dict[str, Demo], name: str) -> None:
    demo = demos[name]
    assert demo.terms == (name,)
    assert demo.live == {"lr", "pace"}
    forgetting = ("loss_a", "loss_a_kept") if name == "lora" else ("loss_a",)
    assert [c.y for c in demo.charts] == [("loss",), forgetting]
    for field_name, schema in demo.Params.model_json_schema()["properties"].items():
        if schema.get("type") in {"integer", "number"} and "enum" not in schema:
            assert {"minimum", "exclusiveMinimum"} & schema.keys(), field_name
            assert {"maximum", "exclusiveMaximum"} & schema.keys(), field_name


@pytest.mark.parametrize("name", ["lora", "qlora"])
@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"rank": 0}, "rank"),
        ({"rank": 65}, "rank"),
        ({"alpha": 0}, "alpha"),
        ({"alpha": -1.0}, "alpha"),
        ({"targets": ["attn_qkv", "nope"]}, "targets"),
        ({"targets": []}, "targets"),
        ({"targets": ["head", "head"]}, "targets"),
        ({"lr": 0}, "lr"),
        ({"steps": 2001}, "steps"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_params_name_the_field(demos: dict[str, Demo], name: str, raw: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        demos[name].parse(raw)
    assert info.value.errors()[0]["loc"][0] == field


def test_qlora_blocksize_is_a_choice(demos: dict[str, Demo]) -> None:
    with pytest.raises(ValidationError) as info:
        demos["qlora"].parse({"blocksize": 48})
    assert info.value.errors()[0]["loc"][0] == "blocksize"


def test_lora_loss_on_task_b_falls(demos: dict[str, Demo]) -> None:
    points, summary, _ = run(demos["lora"], steps=40)
    assert [p["step"] for p in points] == list(range(40))
    keys = {"step", "series", "loss", "loss_a", "loss_a_kept", "lr"}
    assert all(p.keys() == keys and p["series"] == "lora" for p in points)
    loss = losses(points, "lora")
    assert sum(loss[-5:]) / 5 < 0.6 * loss[0]
    assert all(math.isfinite(v) for v in losses(points, "lora", "loss_a"))
    samples = summary["samples"]
    assert samples["prompt"] == "L0R4 fr33z3s"
    assert samples["before"].startswith(samples["prompt"]) and len(samples["before"]) == 12 + 100
    assert samples["after"]["lora"] != samples["before"]
    assert summary["final"]["lora"]["loss"] == loss[-1]


def test_lora_counts_and_two_interleaved_series(demos: dict[str, Demo]) -> None:
    r = 3
    points, summary, control = run(demos["lora"], rank=r, targets=["attn_qkv", "head"], compare_full=True, steps=3)
    n_lora = 2 * r * (D + 3 * D) + r * (D + V)
    facts = control.facts
    assert facts["rank"] == r
    assert facts["adapted_layers"] == [
        {"name": "blocks.0.attn_qkv", "d_in": D, "d_out": 3 * D},
        {"name": "blocks.1.attn_qkv", "d_in": D, "d_out": 3 * D},
        {"name": "head", "d_in": D, "d_out": V},
    ]
    assert facts["trainable_params"] == {"lora": n_lora, "full": BASE_PARAMS}
    assert facts["total_params"] == BASE_PARAMS + n_lora
    assert facts["trainable_fraction"] == pytest.approx(n_lora / (BASE_PARAMS + n_lora))
    # Adam: two fp32 moments per trainable parameter.
    assert facts["optimizer_state_bytes"] == {"lora": 8 * n_lora, "full": 8 * BASE_PARAMS}

    assert [(p["step"], p["series"]) for p in points] == [(s, n) for s in range(3) for n in ("lora", "full")]
    # Same base, same batch, and LoRA starts exactly at the base: the first losses agree.
    assert points[0]["loss"] == points[1]["loss"] and points[0]["loss_a"] == points[1]["loss_a"]
    assert summary["samples"]["after"].keys() == {"lora", "full"}

    sv = summary["singular_values"]
    assert (sv["layer"], sv["of"]) == ("blocks.0.attn_qkv", "full")
    assert len(sv["values"]) == D
    assert sv["values"] == sorted(sv["values"], reverse=True)
    energy = torch.tensor(sv["values"]) ** 2
    assert sv["energy_top_r"] == pytest.approx((energy[:r].sum() / energy.sum()).item())
    assert sv["energy_top_r_if_even"] == r / D


def test_singular_values_only_come_with_full_fine_tuning(demos: dict[str, Demo]) -> None:
    # LoRA's own update has rank <= r by construction; only the full update's spectrum says anything.
    _, summary, _ = run(demos["lora"], rank=2, steps=3)
    assert "singular_values" not in summary


def test_live_lr_change_applies_from_the_next_step(demos: dict[str, Demo]) -> None:
    demo = demos["lora"]
    params = demo.Params(steps=3)
    control = InlineControl(params)
    steps = demo.steps(params, control)
    assert next(steps)[0]["lr"] == params.lr
    control.change(lr=1e-4)
    assert next(steps)[0]["lr"] == 1e-4


def test_runs_deterministically_under_a_seed(demos: dict[str, Demo]) -> None:
    options = {"steps": 5, "dropout": 0.2, "use_rslora": True}
    first, summary, _ = run(demos["lora"], seed=3, **options)
    again, summary_again, _ = run(demos["lora"], seed=3, **options)
    other, _, _ = run(demos["lora"], seed=4, **options)
    assert first == again and summary == summary_again
    assert losses(first, "lora") != losses(other, "lora")


@pytest.mark.parametrize(("blocksize", "double_quant"), [(64, True), (256, False)])
def test_qlora_quant_facts(demos: dict[str, Demo], base: CharLM, blocksize: int, double_quant: bool) -> None:
    points, summary, control = run(demos["qlora"], blocksize=blocksize, double_quant=double_quant, steps=3)
    facts = control.facts
    bits = 4 + 8 / blocksize + 32 / (256 * blocksize) if double_quant else 4 + 32 / blocksize
    assert facts["quant"] == {
        "type": "nf4",
        "blocksize": blocksize,
        "double_quant": double_quant,
        "bits_per_param": bits,
    }

    # The NF4 base by hand: half a byte per quantized weight, the block scales, the fp32 biases,
    # and every other parameter (embeddings, norms, head) still in fp32.
    nf4 = 0
    for d_in, d_out in 2 * list(BLOCK_SHAPES.values()):
        n_blocks = d_in * d_out // blocksize
        scales = n_blocks + 4 * math.ceil(n_blocks / 256) + 4 if double_quant else 4 * n_blocks
        nf4 += d_in * d_out // 2 + scales + 4 * d_out
    nf4 += 4 * (BASE_PARAMS - 2 * sum(i * o + o for i, o in BLOCK_SHAPES.values()))
    assert facts["base_memory_bytes"] == {"fp32": 4 * BASE_PARAMS, "nf4": nf4}

    error = facts["quant_error"]
    x, y = charlm.eval_batch_a()
    assert error["task_a_loss_fp32"] == pytest.approx(charlm.eval_loss(base, x, y))
    assert error["task_a_loss_nf4"] != error["task_a_loss_fp32"]
    largest = max(base.get_submodule(n).weight.abs().max().item() for n in charlm.layer_names(base, BLOCK_SHAPES))
    assert 0 < error["mean_abs"] < error["max_abs"] <= 0.1521 * largest * 1.01  # half NF4's widest gap

    assert facts["trainable_params"]["qlora"] == facts["trainable_params"]["lora"]
    assert {p["series"] for p in points} == {"qlora", "lora"}
    assert points[0]["loss_a"] == pytest.approx(error["task_a_loss_nf4"])
    assert points[1]["loss_a"] == pytest.approx(error["task_a_loss_fp32"])
    assert summary["samples"]["after"].keys() == {"qlora", "lora"}
    assert summary["samples"]["before_nf4"].startswith(summary["samples"]["prompt"])


def test_qlora_alone_learns_task_b(demos: dict[str, Demo]) -> None:
    points, _, control = run(demos["qlora"], compare_lora=False, steps=30)
    assert {p["series"] for p in points} == {"qlora"}
    assert control.facts["optimizer_state_bytes"].keys() == {"qlora"}
    loss = losses(points, "qlora")
    assert sum(loss[-5:]) / 5 < 0.6 * loss[0]


def test_saved_base_reloads_unchanged(base: CharLM, tmp_path) -> None:
    charlm.save_model(base, tmp_path / "base.pt")
    again = charlm.load_model(tmp_path / "base.pt")
    assert again.cfg == base.cfg
    for (name, tensor), (_, reloaded) in zip(base.state_dict().items(), again.state_dict().items(), strict=True):
        assert torch.equal(tensor, reloaded), name
