"""The LoRA, QLoRA and preference-learning demos through the HTTP API."""

from __future__ import annotations

import math

import pytest

from tests.api.test_runs import start
from tests.conftest import points_of, read_events


def run_to_end(client, demo: str, **params) -> tuple[dict, list[dict], dict]:
    events = read_events(client, start(client, demo, pace=0, **params)["id"])
    assert events[-1]["data"]["status"] == "done", events[-1]["data"]
    return events[0]["data"], points_of(events), events[-1]["data"]["summary"]


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def test_lora_counts_and_learning_through_the_api(client) -> None:
    facts, points, summary = run_to_end(client, "lora", steps=60, rank=4, targets=["attn_qkv", "mlp_out"])
    layers = facts["adapted_layers"]
    assert {layer["name"].rsplit(".", 1)[-1] for layer in layers} == {"attn_qkv", "mlp_out"}
    # Trainable parameters are r (d_in + d_out) for each adapted matrix, nothing else.
    assert facts["trainable_params"]["lora"] == sum(4 * (la["d_in"] + la["d_out"]) for la in layers)
    assert facts["rank"] == 4 and 0 < facts["trainable_fraction"] < 0.1
    assert facts["optimizer_state_bytes"]["lora"] == 2 * 4 * facts["trainable_params"]["lora"]
    losses = [p["loss"] for p in points]
    assert mean(losses[-10:]) < 0.8 * mean(losses[:5])
    assert set(summary["samples"]) >= {"prompt", "before", "after"}


def test_lora_compare_full_adds_a_second_series(client) -> None:
    facts, points, _ = run_to_end(client, "lora", steps=10, compare_full=True)
    assert {p["series"] for p in points} == {"lora", "full"}
    assert facts["trainable_params"]["full"] > 10 * facts["trainable_params"]["lora"]


def test_qlora_reports_its_quantization_through_the_api(client) -> None:
    facts, points, _ = run_to_end(client, "qlora", steps=20, blocksize=64, double_quant=True)
    assert facts["quant"] == {
        "type": "nf4",
        "blocksize": 64,
        "double_quant": True,
        "bits_per_param": 4 + 8 / 64 + 32 / (64 * 256),
    }
    assert facts["base_memory_bytes"]["nf4"] < facts["base_memory_bytes"]["fp32"] / 3
    assert 0 < facts["quant_error"]["mean_abs"] < facts["quant_error"]["max_abs"]
    assert {p["series"] for p in points} == {"qlora", "lora"}
    qlora = [p["loss"] for p in points if p["series"] == "qlora"]
    assert mean(qlora[-5:]) < mean(qlora[:5])


@pytest.mark.parametrize(
    ("demo", "body", "field"),
    [
        ("lora", {"rank": 0}, "rank"),
        ("lora", {"rank": 65}, "rank"),
        ("lora", {"targets": ["attn_qkv", "embeddings"]}, "targets.1"),
        ("lora", {"alpha": 0}, "alpha"),
        ("qlora", {"alpha": -1}, "alpha"),
        ("qlora", {"blocksize": 48}, "blocksize"),
        ("dpo", {"beta": 0}, "beta"),
        ("dpo", {"label_smoothing": 0.5}, "label_smoothing"),
        ("dpo", {"label_smoothing": -0.1}, "label_smoothing"),
        ("dpo", {"loss_type": "kto"}, "loss_type"),
        ("rlhf", {"beta": -1}, "beta"),
        ("reward-model", {"noise": 0.7}, "noise"),
        ("training-compute", {"width": 20}, "width"),
        ("training-compute", {"depth": 9}, "depth"),
        ("training-compute", {"seq_len": 300}, "seq_len"),
        ("scaling-laws", {"widths": [8, 16]}, "widths"),
        ("scaling-laws", {"widths": [8, 16, 20]}, "widths.2"),
        ("scaling-laws", {"tokens": 10}, "tokens"),
    ],
)
def test_bad_demo_params_are_422(client, demo: str, body: dict, field: str) -> None:
    response = client.post(f"/api/demos/{demo}/runs", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == field


def test_every_preference_demo_runs(client) -> None:
    for demo, params in [
        ("preference-data", {"steps": 10}),
        ("reward-model", {"steps": 20}),
        ("rlhf", {"steps": 20}),
        ("dpo", {"steps": 20}),
    ]:
        _, points, summary = run_to_end(client, demo, **params)
        assert len(points) >= 10 and summary


def test_dpo_starts_at_ln2_and_learns_the_pairs(client) -> None:
    _, points, _ = run_to_end(client, "dpo", steps=100, n_pairs=200, lr=3e-3, noise=0.0, label_smoothing=0.0)
    assert points[0]["loss"] == pytest.approx(math.log(2), abs=1e-6)  # policy == reference at step 0
    assert points[0]["reward_margin"] == pytest.approx(0.0, abs=1e-9)
    early, late = points[1:21], points[-20:]
    assert mean([p["reward_accuracy"] for p in late]) > mean([p["reward_accuracy"] for p in early]) + 0.05
    assert mean([p["reward_margin"] for p in late]) > mean([p["reward_margin"] for p in early]) + 0.3


def test_the_reward_model_beats_chance_and_degrades_with_noise(client) -> None:
    _, clean, _ = run_to_end(client, "reward-model", noise=0.0)
    _, noisy, _ = run_to_end(client, "reward-model", noise=0.45)
    assert clean[-1]["accuracy"] > 0.6
    assert clean[-1]["accuracy"] > noisy[-1]["accuracy"] + 0.05
