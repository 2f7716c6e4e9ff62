"""The same data under different losses, side by side in one run.

Regression: a line y = w x + b fitted to points with a few outliers, once each with MSE, MAE and
Huber; squared error lets the outliers drag the line, the other two do not. Classification: a
logistic model started confidently wrong, trained with cross-entropy and with MSE on the sigmoid
output; cross-entropy's gradient stays large for a confident mistake, MSE's vanishes.
Every series starts from the same parameters and takes full-batch SGD steps at the same lr.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.demos.base import Chart, Demo, DemoParams, log_slider
from app.demos.fields import LearningRate, Pace, Seed, Steps

LOSS_BOUND = 1e6


class Params(DemoParams):
    mode: Literal["regression", "classification"] = Field(
        "regression", title="Task", description="A line with outliers, or a classifier started confidently wrong."
    )
    outlier_fraction: float = Field(
        0.1, ge=0, le=0.4, title="Outlier fraction", description="Share of regression points moved far off the line."
    )
    delta: float = Field(
        1.0, gt=0, le=10, title="Huber δ", description="Residual beyond which Huber's loss grows linearly."
    )
    lr: Annotated[LearningRate, Field(description="SGD step size.", json_schema_extra=log_slider(1e-4))] = 0.1
    steps: Annotated[Steps, Field(description="Full-batch updates per series.")] = 300
    seed: Seed = 0
    pace: Pace = 60


REGRESSION = {"mode": ("regression",)}
"""The charts of the fitted line: a classification run logs no slope or intercept."""

DEMO = Demo(
    name="loss-function",
    title="Loss functions side by side",
    terms=("loss-function",),
    Params=Params,
    train="app.training.loss_function:train",
    live=frozenset({"lr", "pace"}),
    charts=(
        Chart("Training loss (each series its own loss)", ("loss",), log_y=True),
        Chart("Fitted slope (the true slope is 2)", ("slope",), only_when=REGRESSION),
        Chart("Fitted intercept (the true intercept is 0.5)", ("intercept",), only_when=REGRESSION),
        Chart("Accuracy", ("accuracy",), only_when={"mode": ("classification",)}),
    ),
    loss_bound=LOSS_BOUND,
    blurb=(
        "Regression: one line, three losses. The outliers sit below the right end of the line; MSE tilts "
        "towards them, MAE and Huber hardly notice. Classification: a classifier starts confidently wrong; "
        "cross-entropy recovers in a few dozen steps while squared error on the probability stalls."
    ),
)
