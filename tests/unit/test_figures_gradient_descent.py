"""Every figure the gradient-descent page quotes from its playground, from fresh runs: the body's
things to try (a live change of lr included, as a PATCH between two steps) and the exercises."""

from __future__ import annotations

import math
from typing import Any

import torch

from app.demos.base import InlineControl
from app.demos.gradient_descent import DEMO, Params
from tests.unit.page_figures import as_read

torch.set_num_threads(1)

BOUND = DEMO.loss_bound


def run(switch_after: int | None = None, **params: Any) -> tuple[list[dict], dict | None, int | None]:
    """(points, summary, the step at which the server would end the run as diverged), with lr
    set to 0.15 after step `switch_after`, as the reader's drag would."""
    p = Params(pace=0, **params)
    control = InlineControl(p)
    steps, points = DEMO.steps(p, control), []
    while True:
        try:
            point = next(steps)
        except StopIteration as done:
            return points, done.value, None
        points.append(point)
        if not math.isfinite(point["loss"]) or point["loss"] > BOUND:
            return points, None, point["step"]
        if point["step"] == switch_after:
            control.change(lr=0.15)


def test_the_things_to_try() -> None:
    text = as_read("gradient-descent")
    assert run(switch_after=29)[2] == 70 and "(step 70 when we switched at step 30)" in text
    assert run(switch_after=74)[2] is not None and run(switch_after=75)[2] is None
    assert "By step 75, drag lr to 0.15" in text

    points, summary, diverged = run(lr=0.05, switch_after=29)
    assert abs(points[1]["y"]) < 1e-15 and diverged is None and "from lr 0.05" in text  # 0 up to rounding

    start = {"function": "rosenbrock", "steps": 1000, "x0": -1.0, "y0": 1.0}
    _, sgd, _ = run(optimizer="sgd", lr=0.002, **start)
    assert f"sgd stalls at $({sgd['final']['x']:.2f}, {sgd['final']['y']:.2f})$" in text
    points, momentum, _ = run(optimizer="momentum", lr=0.002, **start)
    below = [pt["step"] for pt in points if pt["loss"] < 1e-3]
    assert below == list(range(below[0], 1000)) and f"below $10^{{-3}}$ from step {below[0]}" in text
    assert round(momentum["final"]["x"], 3) == round(momentum["final"]["y"], 3) == 1.0
    _, slow_adam, _ = run(optimizer="adam", lr=0.002, **start)
    _, adam, _ = run(optimizer="adam", lr=0.05, **start)
    assert slow_adam["final"]["loss"] > 0.1 and adam["final"]["loss"] < 1e-3 and "Adam needs lr 0.05" in text
    assert run(optimizer="sgd", lr=0.01, **start)[2] == 5 and "Sgd at lr 0.01 diverges at step 5" in text

    points, _, _ = run(function="saddle", lr=0.02, x0=-2.5, y0=0.05)
    assert next(pt["step"] for pt in points if abs(pt["y"]) > 1) == 77 and "($|y| > 1$ by step 77)" in text
    points, summary, _ = run(function="saddle", lr=0.02, x0=-2.5, y0=0.0)
    assert all(pt["y"] == 0.0 for pt in points) and abs(summary["final"]["x"]) < 0.01


def test_the_exercises() -> None:
    text = as_read("gradient-descent")
    points, summary, _ = run(function="quadratic", optimizer="sgd", lr=0.09)
    ys = ", ".join(f"{pt['y']:.3g}".replace("-", "−") for pt in points[:3])
    assert f"({ys}, ...)" in text
    assert 1e-26 < summary["final"]["loss"] < 1e-25 * 2 and "the loss is about 1e−25" in text

    points, _, diverged = run(function="quadratic", optimizer="sgd", lr=0.11)
    y = points[-1]["y"]
    assert f"at step {diverged} (y ≈ {y / 1e5:.1f}·10⁵)" in text

    start = {"function": "rosenbrock", "steps": 500, "x0": -1.5, "y0": 2.0}
    _, adam, _ = run(optimizer="adam", lr=0.05, **start)
    x, y, loss = adam["final"].values()
    assert f"it is at about ({x:.2f}, {y:.2f}) with loss {loss:.2f}" in text
    _, sgd, _ = run(optimizer="sgd", lr=0.001, **start)
    x, y, loss = sgd["final"].values()
    assert f"gets only to about ({x:.2f}, {y:.2f}), loss {loss:.1f}".replace("-", "−") in text  # the page's minus
