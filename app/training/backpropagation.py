"""Backpropagation: an MLP learns two classes in the plane by plain SGD while every layer's gradient
norm and mean activation slope are logged, with a gradient check (autograd against central finite
differences) in the start event."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from app.ml import backprop, toy_data

if TYPE_CHECKING:
    from app.demos.backpropagation import Params
    from app.demos.base import Control, Point


N_PER_CLASS = 100


CHECK_EXAMPLES = 32  # the gradient check runs on this many examples: a few hundred forward passes


def train(p: Params, ctl: Control[Params]) -> Generator[Point, None, dict]:
    make_data = toy_data.moons if p.dataset == "moons" else toy_data.spiral
    x, y = make_data(N_PER_CLASS, p.seed)
    model = backprop.make_mlp(p.depth, p.width, p.activation, p.seed, init=p.init, gain=p.gain)
    check_rows = torch.randperm(len(y), generator=torch.Generator().manual_seed(p.seed))[:CHECK_EXAMPLES]
    ctl.announce(
        parameters=sum(q.numel() for q in model.parameters()),
        examples=len(y),
        layers=len(backprop.linear_layers(model)),
        weight_std=[layer.weight.std().item() for layer in backprop.linear_layers(model)],
        gradient_check=backprop.gradient_check(model, x[check_rows], y[check_rows], F.cross_entropy, seed=p.seed),
        one_step=backprop.tiny_step(),
    )
    x, y, model = x.to(ctl.device), y.to(ctl.device), model.to(ctl.device)
    norms: list[float] = []
    slopes: list[float] = []
    for step in range(p.steps):
        lr = ctl.params.lr
        logits, slopes = backprop.forward_with_slopes(model, x)
        loss = F.cross_entropy(logits, y)
        model.zero_grad()
        loss.backward()
        norms = backprop.layer_grad_norms(model)
        with torch.no_grad():
            for q in model.parameters():
                q.sub_(lr * backprop.grad_of(q))  # plain SGD: θ ← θ − η ∂L/∂θ
        yield {
            "step": step,
            "loss": loss.item(),
            "accuracy": (logits.argmax(1) == y).float().mean().item(),
            "lr": lr,
            "grad_norms": norms,
            **{f"grad_norm_{i}": n for i, n in enumerate(norms, start=1)},
            **{f"slope_{i}": s for i, s in enumerate(slopes, start=1)},
        }
    return {
        "final_grad_norms": norms,
        "first_to_last_ratio": norms[0] / max(norms[-1], 1e-30),
        "final_slopes": slopes,
    }
