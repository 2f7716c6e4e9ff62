"""Update rules of the gradient-descent demo against closed forms."""

from __future__ import annotations

import math

import pytest
import torch
from pydantic import ValidationError

from app.demos.base import InlineControl
from app.demos.gradient_descent import DEMO, SUGGESTED, SURFACES, Params, surface_grid

torch.set_num_threads(1)


def run(params: Params, change_at: int | None = None, new_lr: float | None = None) -> list[dict]:
    control = InlineControl(params)
    points = []
    for point in DEMO.steps(params, control):
        points.append(point)
        if point["step"] + 1 == change_at:
            control.change(lr=new_lr)  # applies from the next step, as a PATCH would
    return points


@pytest.mark.parametrize("lr", [0.01, 0.05, 0.09])
def test_sgd_on_the_quadratic_follows_the_closed_form(lr: float) -> None:
    params = Params(function="quadratic", optimizer="sgd", lr=lr, steps=40, x0=-2.5, y0=1.5, pace=0)
    for point in run(params):
        t = point["step"]
        assert point["x"] == pytest.approx(-2.5 * (1 - 2 * lr) ** t, rel=1e-12, abs=1e-12)
        assert point["y"] == pytest.approx(1.5 * (1 - 20 * lr) ** t, rel=1e-12, abs=1e-12)


def test_an_lr_change_mid_run_gives_the_piecewise_product() -> None:
    params = Params(function="quadratic", optimizer="sgd", lr=0.02, steps=30, x0=2.0, y0=1.0, pace=0)
    points = run(params, change_at=10, new_lr=0.08)
    for point in points:
        t = point["step"]
        factors_x = [(1 - 2 * (0.02 if s < 10 else 0.08)) for s in range(t)]
        factors_y = [(1 - 20 * (0.02 if s < 10 else 0.08)) for s in range(t)]
        assert point["x"] == pytest.approx(2.0 * math.prod(factors_x), rel=1e-12)
        assert point["y"] == pytest.approx(1.0 * math.prod(factors_y), rel=1e-12, abs=1e-12)
        assert point["lr"] == (0.02 if t < 10 else 0.08)


def test_sgd_is_stable_on_the_quadratic_exactly_below_lr_one_tenth() -> None:
    below = run(Params(function="quadratic", lr=0.099, steps=300, pace=0))
    above = run(Params(function="quadratic", lr=0.101, steps=300, pace=0))
    assert abs(below[-1]["y"]) < abs(below[0]["y"])
    assert abs(above[-1]["y"]) > abs(above[0]["y"])


def test_heavy_ball_momentum_matches_a_hand_computed_recursion() -> None:
    lr, mu = 0.01, 0.9
    points = run(Params(function="quadratic", optimizer="momentum", lr=lr, momentum=mu, steps=20, x0=1, y0=1, pace=0))
    x, y, vx, vy = 1.0, 1.0, 0.0, 0.0
    for point in points:
        assert (point["x"], point["y"]) == pytest.approx((x, y), rel=1e-12)
        vx, vy = mu * vx + 2 * x, mu * vy + 20 * y  # PyTorch form: v <- mu v + g; theta <- theta - lr v
        x, y = x - lr * vx, y - lr * vy


def test_adam_first_step_moves_each_coordinate_by_lr() -> None:
    # With bias correction Adam's first update is lr * g / (|g| + eps) ~ lr * sign(g).
    points = run(Params(function="rosenbrock", optimizer="adam", lr=0.1, steps=2, x0=-1.5, y0=2.0, pace=0))
    dx, dy = points[1]["x"] - points[0]["x"], points[1]["y"] - points[0]["y"]
    assert abs(dx) == pytest.approx(0.1, rel=1e-6) and abs(dy) == pytest.approx(0.1, rel=1e-6)


def test_surfaces_have_their_known_minima() -> None:
    assert SURFACES["rosenbrock"](1.0, 1.0) == 0
    assert SURFACES["himmelblau"](3.0, 2.0) == 0
    assert SURFACES["quadratic"](0.0, 0.0) == 0
    grid = surface_grid("quadratic", size=5)
    assert grid["z"][2][2] == 0 and len(grid["z"]) == 5


@pytest.mark.parametrize(
    "bad",
    [
        {"lr": 0},
        {"lr": -1},
        {"lr": float("nan")},
        {"lr": "nan"},
        {"lr": float("inf")},
        {"lr": 11},
        {"steps": 0},
        {"steps": 5001},
        {"pace": -1},
        {"pace": 241},
        {"function": "banana"},
        {"optimizer": "lbfgs"},
    ],
)
def test_bad_params_are_rejected(bad: dict) -> None:
    with pytest.raises(ValidationError):
        Params(**bad)


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_each_surfaces_suggested_lr_survives_plain_sgd_from_its_suggested_start(surface: str) -> None:
    """What the panel sets on picking a surface: a default-length run that ends on the map."""
    points = run(Params(function=surface, optimizer="sgd", pace=0, **SUGGESTED[surface]))
    assert len(points) == Params().steps and all(math.isfinite(p["loss"]) for p in points)
    if surface != "saddle":  # the saddle has no bottom: rolling off it is its lesson
        x_min, x_max, y_min, y_max = surface_grid(surface, size=2)["view"]
        assert x_min <= points[-1]["x"] <= x_max and y_min <= points[-1]["y"] <= y_max


def test_a_start_off_the_surfaces_map_is_refused_naming_both_coordinates() -> None:
    with pytest.raises(ValidationError, match="rosenbrock map shows x0 from -2 to 2 and y0 from -1 to 3"):
        Params(function="rosenbrock", x0=-2.5)
    assert Params(function="rosenbrock", **SUGGESTED["rosenbrock"]).x0 == -1.5


def test_fields_left_out_take_the_chosen_surfaces_suggestions_and_given_ones_stay() -> None:
    """On the API as in the panel: {"function": "rosenbrock"} alone is a run that starts on its map."""
    assert DEMO.parse({"function": "rosenbrock"}).model_dump(include={"lr", "x0", "y0"}) == SUGGESTED["rosenbrock"]
    chosen = DEMO.parse({"function": "himmelblau", "lr": 0.001, "x0": 1.0})
    assert (chosen.lr, chosen.x0, chosen.y0) == (0.001, 1.0, SUGGESTED["himmelblau"]["y0"])
    assert DEMO.parse({}) == Params()  # the default surface's suggestions are the plain defaults
