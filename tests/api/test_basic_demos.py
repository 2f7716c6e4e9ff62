"""The gradient-descent, loss-function, backpropagation, synthetic-data and distillation playgrounds through
the API."""

from __future__ import annotations

import pytest

from tests.api.test_demo_runs import run_to_end


def test_gradient_descent_on_a_surface_named_alone_starts_at_its_suggested_start(client) -> None:
    """Only the surface given: the start and lr are that surface's, as picking it in the panel sets them."""
    facts, points, _ = run_to_end(client, "gradient-descent", function="rosenbrock", steps=5)
    assert facts["params"]["function"] == "rosenbrock"
    assert (points[0]["x"], points[0]["y"], points[0]["lr"]) == (-1.5, 2.0, 0.002)


def test_loss_function_regression_through_the_api(client) -> None:
    facts, points, summary = run_to_end(client, "loss-function", steps=50)
    assert facts["outliers"] == 5 and len(facts["data"]["x"]) == 50
    assert {p["series"] for p in points} == {"mse", "mae", "huber"}
    assert len(points) == 3 * 50 and {"slope", "intercept", "loss"} <= set(points[-1])
    assert set(summary["final"]) == {"mse", "mae", "huber"}


def test_loss_function_classification_through_the_api(client) -> None:
    _, points, summary = run_to_end(client, "loss-function", mode="classification", steps=60)
    assert {p["series"] for p in points} == {"cross_entropy", "mse"}
    assert summary["final"]["cross_entropy"]["accuracy"] > summary["final"]["mse"]["accuracy"]


def test_backpropagation_through_the_api(client) -> None:
    facts, points, summary = run_to_end(client, "backpropagation", steps=20, depth=3, activation="tanh")
    assert facts["layers"] == 4 and facts["gradient_check"]["max_relative_error"] < 1e-6
    assert set(facts["one_step"]) == {"network", "inputs", "forward", "backward", "after_step"}
    assert len(points) == 20 and len(points[0]["grad_norms"]) == 4
    assert points[0]["grad_norm_4"] == points[0]["grad_norms"][-1] and "grad_norm_5" not in points[0]
    assert len(summary["final_grad_norms"]) == 4


def test_synthetic_data_through_the_api(client) -> None:
    facts, points, summary = run_to_end(client, "synthetic-data", generations=30, vocab=500)
    assert facts["truth_types"] == 500 and facts["truth_entropy"] > 0
    assert [p["step"] for p in points] == list(range(30))
    assert points[-1]["types"] < points[0]["types"] and points[-1]["tv"] == points[-1]["loss"]
    assert summary["final"]["types"] == points[-1]["types"]


def test_distillation_through_the_api(client) -> None:
    facts, points, summary = run_to_end(client, "distillation", steps=20, temperature=2)
    assert facts["teacher_parameters"] > 10 * facts["student_parameters"]
    assert {p["series"] for p in points} == {"labels", "argmax", "soft"} and len(points) == 60
    assert set(summary["final_class_3"]) == {"labels", "argmax", "soft"} and points[-1]["temperature"] == 2


@pytest.mark.parametrize(
    ("demo", "body", "field"),
    [
        ("loss-function", {"outlier_fraction": 0.9}, "outlier_fraction"),
        ("loss-function", {"delta": -1}, "delta"),
        ("loss-function", {"mode": "ranking"}, "mode"),
        ("backpropagation", {"depth": 20}, "depth"),
        ("backpropagation", {"activation": "gelu"}, "activation"),
        ("synthetic-data", {"fresh_fraction": -0.1}, "fresh_fraction"),
        ("synthetic-data", {"samples": 10**6}, "samples"),
        ("distillation", {"temperature": 0}, "temperature"),
        ("distillation", {"transfer": 1000}, "transfer"),
    ],
)
def test_bad_params_are_422(client, demo: str, body: dict, field: str) -> None:
    response = client.post(f"/api/demos/{demo}/runs", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == field
