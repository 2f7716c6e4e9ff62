"""The teacher of the distillation playground: an MLP trained on eight classes on a ring.

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
from app.ml.toy_data import ring


def teacher_model(recipe: Mapping[str, Any]) -> nn.Sequential:
    net = recipe["network"]
    return make_mlp(net["depth"], net["width"], net["activation"], recipe["seed"], d_out=recipe["classes"])


@reproducible
def build_teacher(path: Path, recipe: Mapping[str, Any], progress: Progress) -> None:
    """Train the teacher with Adam on every point of a large labelled ring; save it with its recipe."""
    x, y = ring(recipe["n_per_class"], recipe["seed"], classes=recipe["classes"], spread=recipe["spread"])
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


def without_class(teacher: nn.Module, x: torch.Tensor, y: torch.Tensor, left_out: int) -> torch.Tensor:
    """Which points stay in a transfer set that holds no example of class `left_out`: neither a
    point of that class nor one the teacher would call it (a neighbour's point that strayed into
    its region). Then no label, true or the teacher's, ever names the class (Hinton et al. 2015,
    section 3, left every 3 out of MNIST's transfer set)."""
    with torch.no_grad():
        return (y != left_out) & (teacher(x).argmax(1) != left_out)
