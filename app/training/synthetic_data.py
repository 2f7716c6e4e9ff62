"""Synthetic data: a model trained on its own samples, generation after generation, and the
diversity it loses (model collapse)."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import torch

from app.ml import collapse

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.synthetic_data import Params


def train(p: Params, ctl: Control[Params]) -> Generator[Point, None, dict]:
    generator = torch.Generator().manual_seed(p.seed)
    truth = collapse.zipf(p.vocab, p.exponent)
    model = collapse.collapse_step(truth, truth, p.samples, 1.0, generator)  # generation 0: real data only
    ctl.announce(
        truth_types=p.vocab,
        truth_entropy=collapse.entropy(truth),
        model="categorical, fitted by maximum likelihood (sample frequencies)",
    )
    point: Point = {}
    for generation in range(p.generations):
        live = ctl.params
        if generation > 0:
            model = collapse.collapse_step(model, truth, live.samples, live.fresh_fraction, generator)
        tv = collapse.total_variation(model, truth)
        point = {
            "step": generation,
            "loss": tv,
            "tv": tv,
            "types": int((model > 0).sum()),
            "entropy": collapse.entropy(model),
            "lost_mass": collapse.lost_mass(model, truth),
            "samples": live.samples,
            "fresh_fraction": live.fresh_fraction,
        }
        yield point
    return {"final": point, "truth_entropy": collapse.entropy(truth)}
