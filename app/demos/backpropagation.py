"""Backpropagation: watch the gradient of every layer of an MLP as it trains.

Each point carries the loss, the accuracy and `grad_norms`, the norm of the gradient of each
weight layer (weight and bias together), input layer first. Since charts plot scalar keys, the
same norms are also keys `grad_norm_1` (the input layer) ... `grad_norm_L` (the output layer),
drawn on one log-scale chart; layers a shallower network lacks are absent from its points.
`slope_1` ... `slope_D` are each hidden layer's mean σ'(z) over the batch: the factor by which
that layer's activation scales the error on its way back (saturated or dead units bring it to 0).

The `start` event carries two checks: `gradient_check` (autograd against central finite
differences in float64 at the initial weights, the largest relative error) and `one_step`
(every forward value and backward gradient of one SGD step of a fixed 2-2-1 network, computed
by hand; the term page's table shows the same numbers).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.demos.base import Chart, Demo, DemoParams, log_slider
from app.demos.fields import LearningRate, Pace, Seed, Steps

MAX_DEPTH = 8
LOSS_BOUND = 50.0  # two-class cross-entropy starts near ln 2; 50 means the run blew up


class Params(DemoParams):
    dataset: Literal["moons", "spiral"] = Field("moons", title="Data set", description="Two classes in the plane.")
    depth: int = Field(4, ge=1, le=MAX_DEPTH, title="Hidden layers", description="How many hidden layers.")
    width: int = Field(16, ge=2, le=64, title="Width", description="Units per hidden layer.")
    activation: Literal["sigmoid", "tanh", "relu"] = Field(
        "sigmoid", title="Activation", description="The nonlinearity after each hidden layer."
    )
    init: Literal["default", "xavier", "kaiming"] = Field(
        "default",
        title="Initialisation",
        description="How the weights start: PyTorch's default U(±1/√fan_in), Xavier/Glorot normal "
        "√(2/(fan_in+fan_out)), or Kaiming/He normal √(2/fan_in).",
    )
    gain: float = Field(
        1.0,
        ge=0.1,
        le=16,
        title="Init gain",
        description="Multiplies every initial weight; 4 undoes the sigmoid's slope of 1/4 at 0.",
    )
    lr: Annotated[LearningRate, Field(description="SGD step size.", json_schema_extra=log_slider(1e-3))] = 0.5
    steps: Annotated[Steps, Field(description="Full-batch SGD updates.")] = 500
    seed: Seed = 0
    pace: Pace = 40


DEMO = Demo(
    name="backpropagation",
    title="Backpropagation: gradients layer by layer",
    terms=("backpropagation",),
    Params=Params,
    train="app.training.backpropagation:train",
    live=frozenset({"lr", "pace"}),
    charts=(
        Chart("Loss", ("loss",), log_y=True),
        Chart(
            "Gradient norm per layer (1 = input layer)",
            tuple(f"grad_norm_{i}" for i in range(1, MAX_DEPTH + 2)),
            log_y=True,
        ),
        Chart("Mean slope σ'(z) per hidden layer (1 = first)", tuple(f"slope_{i}" for i in range(1, MAX_DEPTH + 1))),
        Chart("Training accuracy", ("accuracy",)),
    ),
    loss_bound=LOSS_BOUND,
    blurb=(
        "An MLP learns two classes in the plane by plain SGD; the charts show every layer's gradient norm and "
        "mean slope σ'(z). On its way back the error is multiplied, layer after layer, by σ' (at most 0.25 for "
        "the sigmoid) and by the weights: with PyTorch's default init the deep sigmoid stack stalls at ln 2; "
        "Xavier init with gain 4 makes the same network learn. Try tanh or relu too."
    ),
)
