"""The teacher of the distillation playground: an MLP trained on a multi-class spiral.

Built once as a prepared artifact (app.demos.distillation declares it; `build_teacher` makes it),
so every run starts with the same trained teacher at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from app.ml.backprop import make_mlp
from app.ml.reproducible import Progress, reproducible, save
from app.ml.toy_data import spiral


def teacher_model(recipe: Mapping[str, Any]) -> nn.Sequential:
    net = recipe["network"]
    return make_mlp(net["depth"], net["width"], net["activation"], recipe["seed"], d_out=recipe["classes"])


@reproducible
def build_teacher(path: Path, recipe: Mapping[str, Any], progress: Progress) -> None:
    """Train the teacher with Adam on every point of a large labelled spiral; save it with its recipe."""
    x, y = spiral(recipe["n_per_class"], recipe["seed"], classes=recipe["classes"])
    model = teacher_model(recipe)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe["lr"])
    for step in range(recipe["steps"]):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        progress(step + 1, recipe["steps"])
    save({"recipe": dict(recipe), "state": model.state_dict()}, path)


def load_teacher(path: Path) -> nn.Sequential:
    """The saved teacher, in eval mode, frozen."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = teacher_model(saved["recipe"])
    model.load_state_dict(saved["state"])
    return model.eval().requires_grad_(False)
