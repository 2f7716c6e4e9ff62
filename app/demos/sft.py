"""Supervised fine-tuning playground: the English base learns to answer in a chat template.

Two copies of the base train on the same batches of conversations ("User: <prompt>\nAssistant:
<response>\n"). One is trained on every token; the other only on the response tokens, the prompt
and template masked out of the loss as SFT trainers do. Conversations are packed into rows
(app.ml.packing): every piece starts in its own conversation, positions restart at each piece,
and no character attends across pieces. Both series are measured the same way: the loss on every
response and prompt character of the held-out conversations, and what SFT is for, whether the
held-out questions' sampled answers keep the template and end their turn, which the base (step 0)
never does.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.demos.base import Chart, Demo, DemoParams
from app.demos.fields import LearningRate, Pace, Seed, Steps
from app.demos.recipes import ENGLISH_BASE


class Params(DemoParams):
    lr: Annotated[LearningRate, Field(le=0.1, description="Adam's step size.")] = 1e-3
    steps: Annotated[Steps, Field(le=2000)] = 100
    batch_size: int = Field(4, ge=1, le=32, title="Batch size", description="Conversations per step.")
    seed: Seed = 0
    pace: Pace = 30


DEMO = Demo(
    name="sft",
    title="Supervised fine-tuning with a chat template",
    terms=("sft",),
    Params=Params,
    train="app.training.sft:train",
    live=frozenset({"lr", "pace"}),
    artifacts=(ENGLISH_BASE,),
    charts=(
        Chart("Held-out answers that end their turn, and keep the template's form", ("ends_turn", "well_formed")),
        Chart("Held-out response loss", ("val_response_loss",)),
        Chart("Held-out prompt loss", ("val_prompt_loss",)),
        Chart("Training loss (what each series minimises)", ("loss",)),
    ),
    feeds=("completion",),
    blurb="The pretrained English model learns to answer in a User/Assistant template and to end its turn, "
    "which the base never does. Two copies train on the same batches: one on every token, one on the "
    "responses only (prompt masked).",
)
