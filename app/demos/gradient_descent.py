"""Gradient descent on a 2-D surface: one point, four optimizers, a path you can watch."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from app.demos.base import Chart, Demo, DemoParams, log_slider, only_when, suggests
from app.demos.fields import LearningRate, Pace, Steps
from app.ml.surfaces import SURFACES

VIEW = {  # (x_min, x_max, y_min, y_max) shown on the contour map
    "quadratic": (-3.0, 3.0, -2.0, 2.0),
    "rosenbrock": (-2.0, 2.0, -1.0, 3.0),
    "saddle": (-3.0, 3.0, -3.0, 3.0),
    "himmelblau": (-5.0, 5.0, -5.0, 5.0),
}
SUGGESTED = {  # per surface: a start on its map, and a learning rate plain SGD survives from there
    "quadratic": {"lr": 0.08, "x0": -2.5, "y0": 1.5},
    "rosenbrock": {"lr": 0.002, "x0": -1.5, "y0": 2.0},  # lr 0.005 diverges within 5 steps
    "saddle": {"lr": 0.02, "x0": -2.5, "y0": 0.05},  # just off the ridge: it nears the saddle, then rolls off
    "himmelblau": {"lr": 0.01, "x0": -4.0, "y0": 4.0},  # lr 0.05 diverges within 5 steps
}
GRID = 72


def surface_grid(name: str, size: int = GRID) -> dict:
    """Values of a surface on a size x size grid over its view, for the contour map."""
    x0, x1, y0, y1 = VIEW[name]
    f = SURFACES[name]
    xs = [x0 + (x1 - x0) * i / (size - 1) for i in range(size)]
    ys = [y0 + (y1 - y0) * j / (size - 1) for j in range(size)]
    return {"view": VIEW[name], "z": [[round(f(x, y), 4) for x in xs] for y in ys]}


class Params(DemoParams):
    function: Literal["quadratic", "rosenbrock", "saddle", "himmelblau"] = Field(
        "quadratic", description="The surface: f(x, y) to minimise.", json_schema_extra=suggests(SUGGESTED)
    )
    optimizer: Literal["sgd", "momentum", "nesterov", "adam"] = Field("sgd", description="The update rule.")
    lr: Annotated[LearningRate, Field(description="Step size η.", json_schema_extra=log_slider(1e-4))] = 0.08
    momentum: float = Field(
        0.9,
        ge=0,
        lt=1,
        description="Heavy-ball coefficient β (momentum, nesterov).",
        json_schema_extra=only_when(optimizer=("momentum", "nesterov")),
    )
    steps: Steps = 150
    x0: float = Field(-2.5, ge=-5, le=5, description="Start x.")
    y0: float = Field(1.5, ge=-5, le=5, description="Start y.")
    pace: Pace = 30

    @model_validator(mode="after")
    def _start_on_the_map(self) -> Params:
        """A start off the drawn map would train where the reader cannot see it."""
        x_min, x_max, y_min, y_max = VIEW[self.function]
        if not (x_min <= self.x0 <= x_max and y_min <= self.y0 <= y_max):
            raise ValueError(
                f"the {self.function} map shows x0 from {x_min:g} to {x_max:g} and y0 from {y_min:g} to "
                f"{y_max:g}: start there to see the path"
            )
        return self


DEMO = Demo(
    name="gradient-descent",
    title="Gradient descent on a surface",
    terms=("gradient-descent",),
    Params=Params,
    train="app.training.gradient_descent:train",
    live=frozenset({"lr", "momentum", "pace"}),
    charts=(Chart("Path on the surface", ("y",), x="x"), Chart("Loss", ("loss",), log_y=True)),
    loss_bound=1e12,
    blurb=(
        "A single point rolls downhill on the surface you pick. On the quadratic, plain SGD is stable only "
        "while lr < 0.1: early in a run, drag the learning rate to 0.15 and watch the path zig-zag outward "
        "until the run diverges."
    ),
    summary_notes={"final": "after the last update: the charts end one point earlier, where that update started"},
    extras={"surfaces": {name: surface_grid(name) for name in SURFACES}},
)
