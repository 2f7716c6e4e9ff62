"""Gradient descent on a 2-D surface: one point in float64, four update rules, its path logged."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import torch

from app.ml.optim import set_lr
from app.ml.surfaces import ESCAPE, SURFACES

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.gradient_descent import Params


def make_optimizer(name: str, params: list[torch.Tensor], lr: float, momentum: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=name == "nesterov")


def train(p: Params, ctl: Control[Params]) -> Generator[Point, None, dict[str, Any]]:
    f = SURFACES[p.function]
    point = torch.tensor([p.x0, p.y0], dtype=torch.float64, device=ctl.device, requires_grad=True)
    optimizer = make_optimizer(p.optimizer, [point], p.lr, p.momentum)
    ctl.announce(parameters=2, surface=p.function, optimizer=p.optimizer)
    for step in range(p.steps):
        live = ctl.params
        set_lr(optimizer, live.lr)
        if p.optimizer in ("momentum", "nesterov"):
            optimizer.param_groups[0]["momentum"] = live.momentum
        optimizer.zero_grad()
        loss = f(point[0], point[1])
        x, y = point.tolist()
        yield {"step": step, "loss": loss.item(), "lr": live.lr, "x": x, "y": y}
        if max(abs(x), abs(y)) > ESCAPE:
            return {"final": {"x": x, "y": y, "loss": loss.item()}, "escaped": True}
        loss.backward()
        optimizer.step()
    x, y = point.tolist()
    return {"final": {"x": x, "y": y, "loss": f(x, y)}, "escaped": False}
