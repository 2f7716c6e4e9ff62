"""Pretraining playground: a character transformer learns English from random weights.

The loss starts at ln(vocab size), a uniform guess over the characters, and falls as the model
learns which characters are common, then spelling, then words; the validation split tells
learning from memorising. Samples from a fixed prompt, every few seconds, show the same story.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.demos._own_text import (
    OwnTextParams,
    keep_text_field,
    text_field,
    withhold_text,
)
from app.demos.base import Chart, Demo, only_when
from app.demos.fields import LearningRate, Pace, Seed, Steps


class Params(OwnTextParams):
    d_model: int = Field(
        64, ge=16, le=128, multiple_of=16, title="Width", description="d_model: size of each character's vector."
    )
    n_layer: int = Field(2, ge=1, le=4, title="Depth", description="Number of transformer blocks.")
    lr: Annotated[LearningRate, Field(le=0.1, description="Adam's step size.")] = 3e-3
    schedule: Literal["constant", "warmup_cosine"] = Field(
        "constant",
        title="Schedule",
        description="constant: every step at lr. warmup_cosine: a linear warm-up to lr, then a cosine decay to "
        "a tenth of it by the last step.",
    )
    warmup: int = Field(
        50,
        ge=1,
        le=1000,
        title="Warm-up steps",
        description="Steps of the linear warm-up.",
        json_schema_extra=only_when(schedule="warmup_cosine"),
    )
    clip: float = Field(
        0.0,
        ge=0,
        le=100,
        title="Gradient clipping",
        description="Largest gradient norm: a step whose gradient is longer is scaled down to it. 0: no clipping.",
    )
    steps: Annotated[Steps, Field(le=3000)] = 400
    batch_size: int = Field(16, ge=1, le=64, title="Batch size", description="Windows of 64 characters per step.")
    temperature: float = Field(
        0.8, ge=0, le=2, title="Temperature", description="Sampling temperature of the samples; 0 is greedy."
    )
    seed: Seed = 0
    pace: Pace = 40
    text: str | None = text_field()
    keep_text: bool = keep_text_field()


DEMO = Demo(
    name="pretraining",
    title="Pretraining a tiny language model",
    terms=("pretraining",),
    Params=Params,
    train="app.training.pretraining:train",
    live=frozenset({"lr", "temperature", "pace"}),
    charts=(
        Chart(
            "Loss (nats per character)",
            ("loss", "val_loss", "uniform_loss", "bigram_val_loss", "trigram_val_loss"),
            x_choices=("tokens",),
        ),
        # Under a constant schedule it is one flat line (a live change shows as a chip, and in the readout).
        Chart("Learning rate", ("lr",), log_y=True, only_when={"schedule": ("warmup_cosine",)}),
        Chart("Gradient norm (before clipping)", ("grad_norm",), log_y=True),
    ),
    feeds=("sample",),
    blurb="A character-level transformer learns English from random weights, by guessing the next "
    "character of 17 KB of prose (or of a text you give it). The loss starts at ln(vocab size), a "
    "uniform guess, and is drawn against bigram and trigram count models of the same text; the samples "
    "go from noise to letters to words. Try a higher lr with and without warm-up, cosine decay and clipping.",
    withhold=withhold_text,
    creator_only=frozenset({"prompt", "vocabulary", "sample"}),
)
