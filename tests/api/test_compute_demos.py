"""The training-compute and scaling-laws playgrounds through the HTTP API and the real engine."""

from __future__ import annotations

from tests.api.test_demo_runs import run_to_end


def test_training_compute_counts_through_the_api(client) -> None:
    facts, points, summary = run_to_end(client, "training-compute", width=16, batch_size=4, seq_len=16, steps=8)
    n = facts["non_embedding_params"]
    assert [p["step"] for p in points] == list(range(8))
    assert all(p["flops"] == 6 * n * p["tokens"] for p in points)
    assert points[-1]["tokens"] == 8 * 4 * 16 == summary["tokens"]
    assert summary["flops_per_second"] > 0 and summary["gpt3"]["years"] > 0


def test_a_too_costly_step_is_422_and_says_why(client) -> None:
    response = client.post("/api/demos/training-compute/runs", json={"width": 256, "depth": 8, "batch_size": 64})
    assert response.status_code == 422
    assert "FLOPs per step" in response.json()["detail"][0]["message"]


def test_scaling_laws_sweeps_through_the_api(client) -> None:
    # 60 steps a model: the fewest for which some held-out losses fall below the unigram floor, which
    # the frontier admits (at 30 no point does, so there is no frontier and no fit).
    facts, points, summary = run_to_end(
        client, "scaling-laws", widths=[8, 16, 24], tokens=60 * 4 * 16, batch_size=4, seq_len=16
    )
    assert [m["series"] for m in facts["models"]] == ["d=8", "d=16", "d=24"]
    assert {p["series"] for p in points} == {"d=8", "d=16", "d=24", "frontier", "fit"}
    evaluated = [p["flops"] for p in points if "val_loss" in p and p["series"].startswith("d=")]
    assert evaluated == sorted(evaluated)
    assert summary["fit"]["b"] == [p for p in points if p["series"] == "fit"][-1]["exponent"]
    assert summary["best_per_compute"][-1]["best"] == "d=24"
