"""The same data under different losses, side by side: a line with outliers under MSE, MAE and Huber,
or a logistic model started confidently wrong under cross-entropy and MSE. Every series starts
from the same parameters and takes full-batch SGD steps at the same live lr."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

import torch

from app.ml import losses, toy_data
from app.ml.backprop import grad_of

TRUE_SLOPE, TRUE_INTERCEPT = 2.0, 0.5
OUTLIER_SHIFT = 6.0  # how far below the line the outliers sit
N_POINTS = 50  # regression points
N_PER_CLASS = 100  # classification points per class
WRONG_START = (-3.0, -3.0)  # classification weights pointing the wrong way: the logits are about ∓6

Evaluate = Callable[[str, torch.Tensor], tuple[torch.Tensor, dict]]
"""evaluate(series, θ) -> (loss to descend, metrics for the point)."""

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.loss_function import Params


def least_squares_line(x: list[float], y: list[float]) -> tuple[float, float]:
    """The closed-form minimiser of MSE for a line: slope = cov(x, y) / var(x)."""
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    slope = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / sum((a - mx) ** 2 for a in x)
    return slope, my - slope * mx


def train(p: Params, ctl: Control[Params]) -> Generator[list[Point], None, dict]:
    if p.mode == "regression":
        return (yield from train_regression(p, ctl))
    return (yield from train_classification(p, ctl))


def train_regression(p: Params, ctl: Control[Params]) -> Generator[list[Point], None, dict]:
    x, y, is_outlier = toy_data.line_with_outliers(
        N_POINTS, p.outlier_fraction, p.seed, TRUE_SLOPE, TRUE_INTERCEPT, OUTLIER_SHIFT
    )
    objectives = {
        "mse": losses.mse,
        "mae": losses.mae,
        "huber": lambda pred, target: losses.huber(pred, target, p.delta),
    }
    clean = ~is_outlier
    ctl.announce(
        parameters=2,
        examples=N_POINTS,
        outliers=int(is_outlier.sum()),
        true_line={"slope": TRUE_SLOPE, "intercept": TRUE_INTERCEPT},
        least_squares={
            "all_points": least_squares_line(x.tolist(), y.tolist()),
            "without_outliers": least_squares_line(x[clean].tolist(), y[clean].tolist()),
        },
        data={"x": x.tolist(), "y": y.tolist(), "outlier": is_outlier.tolist()},
    )

    def evaluate(series: str, theta: torch.Tensor) -> tuple[torch.Tensor, dict]:
        slope, intercept = theta.tolist()
        return objectives[series](theta[0] * x + theta[1], y), {"slope": slope, "intercept": intercept}

    lines = {name: torch.zeros(2, requires_grad=True) for name in objectives}  # (w, b), all from 0
    points = yield from side_by_side(ctl, p.steps, lines, evaluate)
    return {"final": {q["series"]: {"slope": q["slope"], "intercept": q["intercept"]} for q in points}}


def train_classification(p: Params, ctl: Control[Params]) -> Generator[list[Point], None, dict]:
    x, y = toy_data.blobs(N_PER_CLASS, p.seed)
    objectives = {"cross_entropy": losses.binary_cross_entropy, "mse": losses.sigmoid_mse}
    ctl.announce(parameters=3, examples=len(y), start_weights=list(WRONG_START))

    def evaluate(series: str, theta: torch.Tensor) -> tuple[torch.Tensor, dict]:
        logits = x @ theta[:2] + theta[2]
        return objectives[series](logits, y), {"accuracy": ((logits > 0).float() == y).float().mean().item()}

    models = {name: torch.tensor([*WRONG_START, 0.0], requires_grad=True) for name in objectives}  # (w1, w2, b)
    points = yield from side_by_side(ctl, p.steps, models, evaluate)
    return {"final": {q["series"]: {"loss": q["loss"], "accuracy": q["accuracy"]} for q in points}}


def side_by_side(
    ctl: Control[Params], steps: int, thetas: dict[str, torch.Tensor], evaluate: Evaluate
) -> Generator[list[Point], None, list[Point]]:
    """Full-batch gradient descent θ ← θ − η ∇L on each series' parameters, in lockstep, at the live η.

    Each point reports the loss and metrics of the parameters before that step's update.
    Returns the last step's points (the final parameters are one update past them)."""

    points: list[Point] = []
    for step in range(steps):
        lr = ctl.params.lr
        points = []
        for name, theta in thetas.items():
            loss, metrics = evaluate(name, theta)
            points.append({"step": step, "series": name, "loss": loss.item(), **metrics, "lr": lr})
            theta.grad = None
            loss.backward()
            with torch.no_grad():
                theta -= lr * grad_of(theta)
        yield points
    return points
