"""Scaling laws: a sweep of model widths, the compute-efficient frontier, and a power law fitted to it;
or the IsoFLOP plan, each width trained on each of a few compute budgets with a schedule of its own.

Every width trains from scratch on the same text for the same token budget, with the same batches,
and is evaluated on held-out text at steps spaced evenly in log. The series are interleaved in
order of compute: each yield steps the model whose next step ends at the least cumulative compute,
so the held-out points arrive in increasing compute. A point then lies on the frontier (lower than
every point with no more compute) for good as soon as it arrives, and the fit can follow it.

The IsoFLOP plan (Hoffmann et al. 2022) asks the question the sweep can only approximate: at a
fixed compute budget, which size is best? See app/training/scaling_isoflop.py.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from app.demos._compute import ComputeParams
from app.demos.base import Chart, Demo, only_when
from app.ml.compute_budget import steps_for, tokens_per_step

MAX_STEPS = 2000  # per model

WIDTHS = (8, 16, 24, 32, 48, 64, 96, 128)


GFLOPS = (1, 2, 4, 8, 16, 32, 64)  # the IsoFLOP budgets offered, in 10⁹ FLOPs (6·N·D)

ISOFLOP_MAX_STEPS = 15_000
"""All the IsoFLOP plan's runs together: about a minute and a half on one busy CPU thread."""


def _one_of(offered: tuple[int, ...]):
    def check(value: int) -> int:
        if value not in offered:
            raise ValueError(f"must be one of {', '.join(map(str, offered))}")
        return value

    return check


# The enum makes the panel offer each choice as a checkbox; the validator holds the API to the same list.
Width = Annotated[int, Field(ge=8, le=128, json_schema_extra={"enum": list(WIDTHS)}), AfterValidator(_one_of(WIDTHS))]
Gflop = Annotated[int, Field(ge=1, le=64, json_schema_extra={"enum": list(GFLOPS)}), AfterValidator(_one_of(GFLOPS))]


def isoflop_steps(width: int, depth: int, gflop: int, batch_tokens: int) -> int:
    """About the steps a budget buys a width, by Kaplan's N ≈ 12·depth·width² (which undercounts
    N, so this errs long): the params' bound on cost. Training counts N exactly."""
    return int(gflop * 1e9 // (6 * 12 * depth * width**2 * batch_tokens))


class Params(ComputeParams):
    plan: Literal["sweep", "isoflop"] = Field(
        "sweep",
        title="Plan",
        description="sweep: every width on the same tokens, checkpoints along the way. isoflop: every width on each "
        "compute budget, each run with a schedule of its own length, and the best size per budget.",
    )
    widths: list[Width] = Field(
        [8, 16, 24, 32, 48, 64],
        min_length=3,
        max_length=6,
        json_schema_extra={"uniqueItems": True},
        title="Widths",
        description="d_model of each model in the sweep (3 to 6 of them).",
    )
    tokens: int = Field(
        80_000,
        ge=1_024,
        le=1_000_000,
        title="Token budget",
        description="Training tokens for every model.",
        json_schema_extra=only_when(plan="sweep"),
    )
    budgets: list[Gflop] = Field(
        [4, 16],
        min_length=2,
        max_length=4,
        json_schema_extra={"uniqueItems": True} | only_when(plan="isoflop"),
        title="Compute budgets (GFLOP)",
        description="The IsoFLOP plan's budgets, 10⁹ FLOPs each (2 to 4 of them).",
    )
    seeds: int = Field(
        1,
        ge=1,
        le=5,
        title="Seeds",
        description="The IsoFLOP plan repeats every budget with seeds seed, seed + 1, …: "
        "how far the best size moves by chance.",
        json_schema_extra=only_when(plan="isoflop"),
    )
    seq_len: int = Field(32, ge=8, le=128, title="Sequence length", description="Characters per sequence (n_ctx).")

    @field_validator("widths", "budgets")
    @classmethod
    def _distinct(cls, values: list[int]) -> list[int]:
        if len(set(values)) != len(values):
            raise ValueError("each value may be named only once")
        return sorted(values)

    @model_validator(mode="after")
    def _budget(self) -> Params:
        self.check_step_cost(max(self.widths))
        if self.plan == "isoflop":
            return self._isoflop_budget()
        steps, batch_tokens = steps_for(self.tokens, self.batch_size, self.seq_len), self.batch_size * self.seq_len
        if not 2 <= steps <= MAX_STEPS:
            raise ValueError(
                f"a token budget of {self.tokens} is {steps} steps of {batch_tokens} tokens "
                f"(batch size × sequence length); it must come to 2 to {MAX_STEPS} steps per model"
            )
        return self

    def _isoflop_budget(self) -> Params:
        batch_tokens = tokens_per_step(self.batch_size, self.seq_len)
        total = self.seeds * sum(
            isoflop_steps(w, self.depth, g, batch_tokens) for w in self.widths for g in self.budgets
        )
        if total > ISOFLOP_MAX_STEPS:
            raise ValueError(
                f"budgets of {', '.join(map(str, self.budgets))} GFLOP over widths "
                f"{', '.join(map(str, self.widths))} and {self.seeds} seed(s) come to about {total} steps of "
                f"{batch_tokens} tokens; the IsoFLOP plan may take at most {ISOFLOP_MAX_STEPS}: drop the largest "
                "budget, the smallest width or a seed"
            )
        return self


SWEEP, ISOFLOP = {"plan": ("sweep",)}, {"plan": ("isoflop",)}

DEMO = Demo(
    name="scaling-laws",
    title="A scaling-law sweep",
    terms=("scaling-laws",),
    Params=Params,
    train="app.training.scaling_laws:train",
    # Not lr: a change would reach only the models stepping after it, and the sweep would stop comparing like with like.
    live=frozenset({"pace"}),
    charts=(
        Chart("Held-out loss against compute", ("val_loss",), x="flops", log_x=True, log_y=True, only_when=SWEEP),
        Chart("Training loss against tokens", ("loss",), x="tokens", log_x=True, log_y=True, only_when=SWEEP),
        # The exponent b of the latest fit, so the reader sees it settle (or not) while the frontier grows.
        # With the lowest and highest b that leaving any one frontier point out gives: how sure the fit is.
        Chart(
            "Fitted exponent b against compute",
            ("exponent", "exponent_low", "exponent_high"),
            x="flops",
            log_x=True,
            only_when=SWEEP,
        ),
        # IsoFLOP: each budget's final held-out losses against size, with the parabola whose vertex is its optimum.
        Chart(
            "Final held-out loss against parameters",
            ("val_loss", "parabola"),
            x="params",
            log_x=True,
            only_when=ISOFLOP,
        ),
        Chart(
            "Compute-optimal parameters against budget",
            ("n_opt",),
            x="flops",
            log_x=True,
            log_y=True,
            only_when=ISOFLOP,
        ),
    ),
    blurb=(
        "Six character transformers of different widths train on the same text for the same number of tokens. "
        "On log-log axes their held-out losses against compute form a fan; its lower edge, the compute-efficient "
        "frontier, is fitted with a power law L(C) = a·C^(−b) as the points arrive. Plan isoflop instead trains every "
        "width on each compute budget with a schedule of its own and finds each budget's best size."
    ),
)
