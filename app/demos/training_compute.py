"""Training compute: train a small transformer and count its FLOPs as it goes.

Each step adds 6·N·(batch × sequence length) FLOPs (Kaplan et al. 2020), beside what PyTorch's
FlopCounterMode counts, and a clock around the step measures what this server actually sustains
(and, on a GPU whose peak is known, the utilisation), so the run can say how long GPT-3's compute
would take here. equal_compute adds a model twice as deep trained on half the tokens.
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
    equal_compute: bool = Field(
        False,
        title="Equal compute: twice N on half D",
        description="Also train a model twice as deep (about twice N) on about half the tokens: the same 6ND.",
    )

    @model_validator(mode="after")
    def _step_cost(self) -> Params:
        # With equal_compute each step trains both models: the layers of the two add up.
        self.check_step_cost(self.width, 3 * self.depth if self.equal_compute else self.depth)
        return self


DEMO = Demo(
    name="training-compute",
    title="Counting training compute",
    terms=("training-compute",),
    Params=Params,
    train="app.training.training_compute:train",
    live=frozenset({"lr", "pace"}),
    machine_metrics=frozenset({"seconds", "flops_per_second", "utilisation"}),  # this server's clock and speed
    labels={
        "kaplan_estimate_12_l_d2": "Kaplan's estimate of N (12·n_layer·d_model²)",
        "flops_per_token": "FLOPs per token (6N)",
        "counted_over_6n": "counted ÷ 6N",
        "at_flops_per_second": "at FLOP/s",
        "gpt3": "GPT-3's training compute here",
        "gpt3_flops": "GPT-3's training FLOPs",
        "eu_ai_act_threshold": "the EU AI Act's threshold here",
        "eu_ai_act_flops": "EU AI Act threshold (FLOPs)",
    },
    charts=(
        Chart("Training loss", ("loss",), log_y=True, x_choices=("tokens", "flops", "seconds")),
        Chart("Held-out loss", ("val_loss",), x="flops", x_choices=("step", "tokens")),
        Chart(
            "Cumulative FLOPs: 6ND, with Kaplan's attention term, and counted by PyTorch",
            ("flops", "flops_attention", "flops_counted"),
            x_choices=("tokens", "seconds"),
        ),
        Chart("Measured throughput (FLOP/s)", ("flops_per_second",)),
        Chart("Utilisation of the peak FP32 FLOP/s (GPUs whose peak is known; a CPU's is not)", ("utilisation",)),
    ),
    blurb=(
        "A small character transformer trains from scratch while every step adds 6·N·tokens FLOPs to the "
        "count, and a clock measures how many FLOP/s this server sustains. The summary then says how long "
        "GPT-3's training compute would take here."
    ),
)
