"""LoRA playground: adapt a frozen character model to a new style through low-rank updates.

With compare_full, the same base is also fine-tuned in full, as a second series: it learns a
little faster, needs optimizer state for every weight, and forgets task A more.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from pydantic import Field

from app.demos._adapt import AdaptParams, count_facts, train_series, with_lora
from app.demos._charlm import BASE_MODEL
from app.demos.base import Chart, Control, Demo, Point

if TYPE_CHECKING:
    import torch


class Params(AdaptParams):
    use_rslora: bool = Field(False, description="rsLoRA: scale by α / √r instead of α / r.")
    dropout: float = Field(0.0, ge=0, le=0.5, description="Dropout on the adapters' input.")
    compare_full: bool = Field(False, description="Also fine-tune every weight of the same base (series 'full').")


def train(p: Params, ctl: Control) -> Generator[list[Point], None, dict[str, Any]]:
    import copy

    from app.ml.charlm import load_model

    base = load_model(ctl.artifact(BASE_MODEL))
    lora, adapters = with_lora(base, p, use_rslora=p.use_rslora, dropout=p.dropout)
    models = {"lora": lora}
    if p.compare_full:
        models["full"] = copy.deepcopy(base).requires_grad_(True)
    summary = yield from train_series(p, ctl, base, models, count_facts(base, models, adapters, p.rank))

    if p.compare_full:
        # Is the change full fine-tuning makes low-rank? The share of its energy in the top r
        # directions, against an even spread, tells how much a rank-r adapter could capture.
        # (LoRA's own update has rank <= r by construction, so it would say nothing.)
        name = next(iter(adapters))
        delta_w = models["full"].get_submodule(name).weight - base.get_submodule(name).weight
        summary["singular_values"] = singular_value_facts(name, "full", delta_w, p.rank)
    return summary


def singular_value_facts(layer: str, of: str, delta_w: torch.Tensor, r: int) -> dict[str, Any]:
    import torch

    sigma = torch.linalg.svdvals(delta_w.detach().float().cpu())
    energy = sigma**2
    return {
        "layer": layer,
        "of": of,
        "values": sigma.tolist(),
        "energy_top_r": (energy[:r].sum() / energy.sum().clamp_min(1e-30)).item(),
        # The same fraction if the energy were spread evenly over every direction: the baseline.
        "energy_top_r_if_even": min(r, len(sigma)) / len(sigma),
    }


DEMO = Demo(
    name="lora",
    title="LoRA: low-rank adaptation",
    terms=("lora",),
    Params=Params,
    train=train,
    live=frozenset({"lr", "pace"}),
    artifacts=(BASE_MODEL,),
    charts=(
        Chart("Task B loss", ("loss",), log_y=True),
        Chart("Task A loss (forgetting): every character, and those task B keeps", ("loss_a", "loss_a_kept")),
    ),
    blurb="A tiny character transformer, pretrained on English, learns to write leetspeak "
    "through rank-r updates B·A of its frozen layers.",
)
