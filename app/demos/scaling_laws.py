"""Scaling laws: a sweep of model widths, the compute-efficient frontier, and a power law fitted to it.

Every width trains from scratch on the same text for the same token budget, with the same batches,
and is evaluated on held-out text at steps spaced evenly in log. The series are interleaved in
order of compute: each yield steps the model whose next step ends at the least cumulative compute,
so the held-out points arrive in increasing compute. A point then lies on the frontier (lower than
every point with no more compute) for good as soon as it arrives, and the fit can follow it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from app.demos._compute import ComputeParams
from app.demos.base import Chart, Demo
from app.ml.compute_budget import steps_for

MAX_STEPS = 2000  # per model

WIDTHS = (8, 16, 24, 32, 48, 64, 96, 128)


def _offered(width: int) -> int:
    if width not in WIDTHS:
        raise ValueError(f"must be one of {', '.join(map(str, WIDTHS))}")
    return width


# The enum makes the panel offer each width as a checkbox; the validator holds the API to the same list.
Width = Annotated[int, Field(ge=8, le=128, json_schema_extra={"enum": list(WIDTHS)}), AfterValidator(_offered)]


class Params(ComputeParams):
    widths: list[Width] = Field(
        [8, 16, 24, 32, 48, 64],
        min_length=3,
        max_length=6,
        json_schema_extra={"uniqueItems": True},
        title="Widths",
        description="d_model of each model in the sweep (3 to 6 of them).",
    )
    tokens: int = Field(
        80_000, ge=1_024, le=1_000_000, title="Token budget", description="Training tokens for every model."
    )
    seq_len: int = Field(32, ge=8, le=128, title="Sequence length", description="Characters per sequence (n_ctx).")

    @field_validator("widths")
    @classmethod
    def _distinct(cls, widths: list[int]) -> list[int]:
        if len(set(widths)) != len(widths):
            raise ValueError("each width may be named only once")
        return sorted(widths)

    @model_validator(mode="after")
    def _budget(self) -> Params:
        self.check_step_cost(max(self.widths))
        steps, batch_tokens = steps_for(self.tokens, self.batch_size, self.seq_len), self.batch_size * self.seq_len
        if not 2 <= steps <= MAX_STEPS:
            raise ValueError(
                f"a token budget of {self.tokens} is {steps} steps of {batch_tokens} tokens "
                f"(batch size × sequence length); it must come to 2 to {MAX_STEPS} steps per model"
            )
        return self


DEMO = Demo(
    name="scaling-laws",
    title="A scaling-law sweep",
    terms=("scaling-laws",),
    Params=Params,
    train="app.training.scaling_laws:train",
    # Not lr: a change would reach only the models stepping after it, and the sweep would stop comparing like with like.
    live=frozenset({"pace"}),
    charts=(
        Chart("Held-out loss against compute", ("val_loss",), x="flops", log_x=True, log_y=True),
        Chart("Training loss against tokens", ("loss",), x="tokens", log_x=True, log_y=True),
        # The exponent b of the latest fit, so the reader sees it settle (or not) while the frontier grows.
        # With the lowest and highest b that leaving any one frontier point out gives: how sure the fit is.
        Chart(
            "Fitted exponent b against compute", ("exponent", "exponent_low", "exponent_high"), x="flops", log_x=True
        ),
    ),
    blurb=(
        "Six character transformers of different widths train on the same text for the same number of tokens. "
        "On log-log axes their held-out losses against compute form a fan; its lower edge, the compute-efficient "
        "frontier, is fitted with a power law L(C) = a·C^(−b) as the points arrive."
    ),
)
