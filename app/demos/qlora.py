"""QLoRA playground: the LoRA playground's adapters, trained on a base stored in 4-bit NF4.

The base's transformer blocks are quantized (as in QLoRA, every linear layer of the blocks;
embeddings, norms and the output head stay in full precision, as PEFT and bitsandbytes leave
the head). Gradients flow through the dequantized weights into fp32 adapters. With
compare_lora, plain LoRA on the full-precision base runs beside it as series "lora".
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.demos._adapt import AdaptParams
from app.demos.base import Chart, Demo
from app.demos.fields import Steps
from app.demos.recipes import BASE_MODEL


class Params(AdaptParams):
    steps: Annotated[Steps, Field(le=2000)] = 250
    blocksize: Literal[32, 64, 128, 256] = Field(64, description="Weights that share one absmax scale.")
    double_quant: bool = Field(True, description="Store the absmax scales in 8 bits as well.")
    compare_lora: bool = Field(True, description="Also train LoRA on the full-precision base (series 'lora').")


DEMO = Demo(
    name="qlora",
    title="QLoRA: LoRA on a 4-bit base",
    terms=("qlora",),
    Params=Params,
    train="app.training.qlora:train",
    live=frozenset({"lr", "pace"}),
    artifacts=(BASE_MODEL,),
    charts=(Chart("Task B loss", ("loss",), log_y=True), Chart("Task A loss (forgetting)", ("loss_a",))),
    blurb="The same leetspeak adaptation, with the frozen base stored in 4-bit NormalFloat: "
    "under a quarter of its fp32 memory, with the adapters still in full precision.",
)
