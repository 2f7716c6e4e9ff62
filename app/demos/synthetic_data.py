"""Synthetic data, recycled: model collapse in a loop (after Shumailov et al., Nature 2024).

The truth is a Zipf-like categorical distribution over a large vocabulary. Generation 0 is fitted
to real samples; every later generation is fitted to samples of the one before, plus a live share
of fresh real samples. Each point is one generation (`step`): the number of types that survive,
the entropy, the total-variation distance `tv` to the truth (also the point's `loss`) and the truth's
probability mass on types that have vanished.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.demos.base import Chart, Demo, DemoParams
from app.demos.fields import Pace, Seed


class Params(DemoParams):
    vocab: int = Field(1000, ge=10, le=20000, title="Vocabulary", description="Number of types in the truth.")
    exponent: float = Field(
        1.1, ge=0, le=3, title="Zipf exponent", description="s in p(k) ∝ 1/k^s: larger means a thinner tail."
    )
    samples: int = Field(
        1000, ge=10, le=100_000, title="Samples per generation", description="Size of each generation's data set."
    )
    fresh_fraction: float = Field(
        0.0, ge=0, le=1, title="Fresh real data", description="Share of each generation's data drawn from the truth."
    )
    generations: int = Field(300, ge=1, le=5000, title="Generations", description="How many times to refit.")
    seed: Seed = 0
    pace: Annotated[
        Pace, Field(description="Generations per second; 0 runs as fast as possible, otherwise at least 0.5.")
    ] = 30


DEMO = Demo(
    name="synthetic-data",
    title="Synthetic data: model collapse",
    terms=("synthetic-data",),
    Params=Params,
    train="app.training.synthetic_data:train",
    live=frozenset({"samples", "fresh_fraction", "pace"}),
    charts=(
        Chart("Types that survive", ("types",), x="step"),
        Chart("Entropy (nats)", ("entropy",)),
        Chart("Distance to the truth", ("tv", "lost_mass")),
    ),
    blurb=(
        "Each generation is fitted to samples of the one before. Types that draw no sample are gone for good, "
        "so the tail vanishes first and the distribution narrows. Raise the share of fresh real data and the "
        "slide stops."
    ),
)
