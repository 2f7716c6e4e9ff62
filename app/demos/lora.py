"""LoRA playground: adapt a frozen character model to a new style through low-rank updates.

With compare_full, the same base is also fine-tuned in full, as a second series: it learns a
little faster, needs optimizer state for every weight, and forgets task A more.
"""

from __future__ import annotations

from pydantic import Field

from app.demos._adapt import AdaptParams
from app.demos.base import Chart, Demo
from app.demos.recipes import BASE_MODEL


class Params(AdaptParams):
    use_rslora: bool = Field(False, description="rsLoRA: scale by α / √r instead of α / r.")
    dropout: float = Field(0.0, ge=0, le=0.5, description="Dropout on the adapters' input.")
    compare_full: bool = Field(False, description="Also fine-tune every weight of the same base (series 'full').")


DEMO = Demo(
    name="lora",
    title="LoRA: low-rank adaptation",
    terms=("lora",),
    Params=Params,
    train="app.training.lora:train",
    live=frozenset({"lr", "pace"}),
    artifacts=(BASE_MODEL,),
    charts=(
        Chart("Task B loss", ("loss",), log_y=True),
        Chart("Task A loss (forgetting): every character, and those task B keeps", ("loss_a", "loss_a_kept")),
    ),
    blurb="A tiny character transformer, pretrained on English, learns to write leetspeak "
    "through rank-r updates B·A of its frozen layers.",
)
