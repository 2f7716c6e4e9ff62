"""Fine-tuning playground: the English base adapts to a new domain, against a model from scratch.

The new domain is a page of shipping forecasts ("Esk Deep. Southwest 5 to 7. Squally showers.").
The pretrained series starts from the English base; the scratch series, from random weights of
the same shape. Both see the same batches of the same few KB. Each point carries both the new
domain's validation loss (the head start, and overfitting on little data) and the English
validation loss (what fine-tuning forgets). With `replay`, part of every batch is windows of the
English training text, the data the base was pretrained on: the usual defence against forgetting.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.demos._own_text import (
    OwnTextParams,
    keep_text_field,
    text_field,
    withhold_text,
)
from app.demos.base import Chart, Demo
from app.demos.fields import LearningRate, Pace, Seed, Steps
from app.demos.recipes import ENGLISH_BASE
from app.ml import texts


class Params(OwnTextParams):
    lr: Annotated[LearningRate, Field(le=0.1, description="Adam's step size.")] = 1e-3
    steps: Annotated[Steps, Field(le=2000)] = 300
    new_chars: int = Field(
        1200,
        ge=200,
        le=len(texts.FORECAST_TRAIN),
        title="New data",
        description="Characters of our new-domain text to train on (the first this many of its training "
        "split); your own text is trained on whole.",
    )
    frozen_layers: int = Field(
        0,
        ge=0,
        le=2,
        title="Frozen layers",
        description="Lower transformer blocks of the pretrained model kept fixed (with the embeddings, if any).",
    )
    replay: float = Field(
        0.0,
        ge=0,
        le=0.75,
        title="Replay",
        description="Share of each batch's 8 windows taken from general English (the base's pretraining "
        "text) instead of the new text, rounded to whole windows.",
    )
    compare_scratch: bool = Field(
        True, title="Compare with scratch", description="Also train a randomly initialised model (series 'scratch')."
    )
    seed: Seed = 0
    pace: Pace = 30
    text: str | None = text_field(fitted_to=ENGLISH_BASE.recipe["vocab"])
    keep_text: bool = keep_text_field()


DEMO = Demo(
    name="fine-tuning",
    title="Fine-tuning on a new domain",
    terms=("fine-tuning",),
    Params=Params,
    train="app.training.fine_tuning:train",
    live=frozenset({"lr", "pace"}),
    artifacts=(ENGLISH_BASE,),
    charts=(
        Chart("New-domain validation loss", ("val_loss",)),
        Chart("English validation loss (forgetting)", ("val_loss_english",)),
        Chart("Training loss", ("loss",)),
    ),
    feeds=("sample",),
    blurb="The pretrained English model learns to write shipping forecasts (or your own text) from "
    "a little text, next to the same model trained from random weights on the same batches. Replay mixes "
    "general English into each batch: watch what it does to the forgetting.",
    withhold=withhold_text,
    creator_only=frozenset({"prompt", "not_in_vocabulary", "sample"}),
)
