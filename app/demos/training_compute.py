"""Training compute: train a small transformer and count its FLOPs as it goes.

Each step adds 6·N·(batch × sequence length) FLOPs (Kaplan et al. 2020), and a clock around the
step measures what this server actually sustains, so the run can say how long GPT-3's compute
would take here.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from app.demos._compute import ComputeParams
from app.demos.base import Chart, Demo
from app.demos.fields import Steps


class Params(ComputeParams):
    width: int = Field(64, ge=8, le=256, multiple_of=8, title="Width", description="d_model (8 per head).")
    steps: Annotated[Steps, Field(description="Adam updates.")] = 200

    @model_validator(mode="after")
    def _step_cost(self) -> Params:
        self.check_step_cost(self.width)
        return self


DEMO = Demo(
    name="training-compute",
    title="Counting training compute",
    terms=("training-compute",),
    Params=Params,
    train="app.training.training_compute:train",
    live=frozenset({"lr", "pace"}),
    machine_metrics=frozenset({"seconds", "flops_per_second"}),  # this server's clock and speed
    charts=(
        Chart("Training loss", ("loss",), log_y=True, x_choices=("tokens", "flops", "seconds")),
        Chart(
            "Cumulative FLOPs: 6ND and with attention", ("flops", "flops_attention"), x_choices=("tokens", "seconds")
        ),
        Chart("Measured throughput (FLOP/s)", ("flops_per_second",)),
    ),
    blurb=(
        "A small character transformer trains from scratch while every step adds 6·N·tokens FLOPs to the "
        "count, and a clock measures how many FLOP/s this server sustains. The summary then says how long "
        "GPT-3's training compute would take here."
    ),
)
