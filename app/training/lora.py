"""LoRA: adapters on a frozen base, side by side with full fine-tuning, and the singular values of
what each learned."""

from __future__ import annotations

import copy
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from app.demos.recipes import BASE_MODEL
from app.ml.charlm import layer, load_model
from app.training._adapt import count_facts, train_series, with_lora

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.lora import Params


def train(p: Params, ctl: Control[Params]) -> Generator[list[Point], None, dict[str, Any]]:
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
        delta_w = layer(models["full"], name, nn.Linear).weight - layer(base, name, nn.Linear).weight
        summary["singular_values"] = singular_value_facts(name, "full", delta_w, p.rank)
    return summary


def singular_value_facts(layer: str, of: str, delta_w: torch.Tensor, r: int) -> dict[str, Any]:
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
