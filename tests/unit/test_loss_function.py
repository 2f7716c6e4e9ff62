"""The loss-function playground: what each loss converges to, against closed forms."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from app.demos.base import run_inline
from app.demos.loss_function import DEMO, Params
from app.training.loss_function import TRUE_INTERCEPT, TRUE_SLOPE, least_squares_line

torch.set_num_threads(1)


def final(points: list[dict], series: str) -> dict:
    return [q for q in points if q["series"] == series][-1]


def test_least_squares_line_recovers_an_exact_line() -> None:
    assert least_squares_line([0, 1, 2, 3], [1, 3, 5, 7]) == pytest.approx((2.0, 1.0))


def test_mse_converges_to_the_closed_form_and_mae_ignores_the_outliers() -> None:
    points, summary, control = run_inline(DEMO, Params(steps=600, pace=0))
    assert {q["series"] for q in points} == {"mse", "mae", "huber"}
    all_points = control.facts["least_squares"]["all_points"]
    assert summary["final"]["mse"]["slope"] == pytest.approx(all_points[0], abs=1e-4)
    assert summary["final"]["mse"]["intercept"] == pytest.approx(all_points[1], abs=1e-4)
    assert control.facts["outliers"] == 5
    mae, mse, huber = (summary["final"][s]["slope"] for s in ("mae", "mse", "huber"))
    assert abs(mae - TRUE_SLOPE) < 0.1 and abs(summary["final"]["mae"]["intercept"] - TRUE_INTERCEPT) < 0.1
    assert mse < huber < mae  # the outliers drag squared error most, Huber's capped pull less


def test_without_outliers_every_loss_finds_the_line() -> None:
    _, summary, _ = run_inline(DEMO, Params(outlier_fraction=0, steps=600, pace=0))
    for series in ("mse", "mae", "huber"):
        assert summary["final"][series]["slope"] == pytest.approx(TRUE_SLOPE, abs=0.15)


def test_cross_entropy_recovers_from_a_confident_mistake_and_mse_stalls() -> None:
    points, _, _ = run_inline(DEMO, Params(mode="classification", steps=100, pace=0))
    assert final(points, "cross_entropy")["accuracy"] > 0.95
    assert final(points, "mse")["accuracy"] < 0.1
    assert points[0]["accuracy"] < 0.05  # both start confidently wrong


@pytest.mark.parametrize(
    "bad", [{"outlier_fraction": 0.5}, {"delta": 0}, {"lr": 0}, {"steps": 0}, {"mode": "ranking"}, {"pace": 241}]
)
def test_bad_params_are_rejected(bad: dict) -> None:
    with pytest.raises(ValidationError):
        Params(**bad)
