"""One small network, several learning rates side by side; or an LR range test.

Compare mode trains identical copies of an MLP (same initial weights, same data) on a
2-D two-arm spiral, one copy per learning rate, so the only difference between the
curves is the learning rate and its schedule. Range-test mode (Smith 2015) trains a
single copy while the learning rate grows exponentially, and suggests a rate.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from app.demos.base import Chart, Demo, DemoParams, log_slider, only_when
from app.demos.fields import Pace, Seed, Steps


class Params(DemoParams):
    mode: Literal["compare", "range_test"] = Field("compare", description="Side by side, or an LR range test.")
    lr_min: float = Field(
        0.01,
        gt=0,
        le=10,
        description="Smallest learning rate (where a range test starts).",
        json_schema_extra=log_slider(1e-4),
    )
    lr_max: float = Field(
        10.0,
        gt=0,
        le=10,
        description="Largest learning rate (a range test stops before it once the loss blows up).",
        json_schema_extra=log_slider(1e-4),
    )
    series: int = Field(
        5,
        ge=1,
        le=6,
        description="How many learning rates to compare (log-spaced).",
        json_schema_extra=only_when(mode="compare"),
    )
    schedule: Literal["constant", "step", "cosine", "warmup_cosine"] = Field(
        "constant",
        description="How each learning rate changes over the run.",
        json_schema_extra=only_when(mode="compare"),
    )
    steps: Annotated[Steps, Field(ge=10, le=3000, description="Full-batch updates per learning rate.")] = 300
    hidden: int = Field(32, ge=4, le=128, description="Width of the two hidden layers.")
    seed: Seed = 0
    pace: Pace = 60

    @model_validator(mode="after")
    def _ordered(self) -> Params:
        if self.lr_min > self.lr_max:
            raise ValueError(f"lr_min ({self.lr_min}) must not exceed lr_max ({self.lr_max})")
        return self


DEMO = Demo(
    name="learning-rate",
    title="Learning rates side by side",
    terms=("learning-rate",),
    Params=Params,
    train="app.training.learning_rate:train",
    live=frozenset({"pace"}),
    charts=(
        Chart("Training loss by step", ("loss",), log_y=True),
        Chart("Training accuracy by step", ("accuracy",)),
        Chart("Learning rate by step", ("lr",), log_y=True),
        Chart(
            "Loss against learning rate (range test)",
            ("loss",),
            x="lr",
            log_x=True,
            log_y=True,
            only_when={"mode": ("range_test",)},
        ),
    ),
    blurb=(
        "The same small network learns to separate two spiral arms at several learning rates at once. "
        "Too small crawls, about right converges, too big oscillates or diverges. Switch mode to range_test "
        "to sweep the rate upward and get a suggestion."
    ),
)
