"""One small MLP on a two-arm spiral, trained at several learning rates side by side, or through an
LR range test (Smith 2015) whose rate grows exponentially until the loss blows up."""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from app.ml.optim import set_lr
from app.ml.toy_data import spiral

# Cross-entropy of two classes starts near ln 2; past 50 a series blew up: the training marks its
# points `diverged` and stops it, and the others go on.
LOSS_BOUND = 50.0

if TYPE_CHECKING:
    from app.demos.base import Control
    from app.demos.learning_rate import Params


def learning_rates(p: Params) -> list[float]:
    if p.series == 1:
        return [p.lr_min]
    ratio = (p.lr_max / p.lr_min) ** (1 / (p.series - 1))
    return [p.lr_min * ratio**i for i in range(p.series)]


def scheduled(base_lr: float, schedule: str, step: int, total: int) -> float:
    """The learning rate at `step` of `total` under a schedule (Loshchilov & Hutter 2016 cosine)."""
    progress = step / max(total - 1, 1)
    if schedule == "step":
        return base_lr * 0.1 ** min(int(progress * 3), 2)  # x0.1 at a third and at two thirds
    if schedule == "cosine":
        return base_lr * 0.5 * (1 + math.cos(math.pi * progress))
    if schedule == "warmup_cosine":
        warmup = max(total // 10, 1)
        if step < warmup:
            return base_lr * (step + 1) / warmup
        return base_lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(total - warmup - 1, 1)))
    return base_lr


def range_test_lr(p: Params, step: int) -> float:
    """Exponential growth from lr_min to lr_max over the run."""
    return p.lr_min * (p.lr_max / p.lr_min) ** (step / max(p.steps - 1, 1))


def suggest_lr(lrs: list[float], losses: list[float]) -> tuple[float, str]:
    """Pick the rate where the smoothed loss falls fastest per unit of log learning rate,
    looking only below the rate of the lowest smoothed loss (past it the loss blows up)."""
    smooth, average = [], 0.0
    for i, loss in enumerate(losses):  # bias-corrected exponential moving average, beta 0.9
        average = 0.9 * average + 0.1 * loss
        smooth.append(average / (1 - 0.9 ** (i + 1)))
    lowest = smooth.index(min(smooth))
    slopes = [(smooth[i + 1] - smooth[i]) / (math.log(lrs[i + 1]) - math.log(lrs[i])) for i in range(lowest)]
    steepest = min(range(len(slopes)), key=slopes.__getitem__) if slopes else 0
    method = (
        "the learning rate where the smoothed loss fell fastest (steepest negative slope against log lr), "
        f"below the rate of the lowest loss ({lrs[lowest]:.3g}); a common rule is to train a little below it"
    )
    return lrs[steepest], method


def make_mlp(hidden: int, seed: int):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 2))


def train(p: Params, ctl: Control[Params]):
    device = torch.device(ctl.device)
    x, y = (t.to(device) for t in spiral(100, p.seed))
    base = make_mlp(p.hidden, p.seed).to(device)
    rates = [p.lr_min] if p.mode == "range_test" else learning_rates(p)
    models = [copy.deepcopy(base) for _ in rates]  # identical starting weights for every rate
    optimizers = [torch.optim.SGD(m.parameters(), lr=lr) for m, lr in zip(models, rates, strict=True)]
    names = ["range test"] if p.mode == "range_test" else [f"lr={lr:.3g}" for lr in rates]
    ctl.announce(
        parameters=sum(t.numel() for t in base.parameters()),
        examples=len(y),
        learning_rates=rates,
        series_names=names,
    )
    alive = [True] * len(models)
    history: list[tuple[float, float]] = []
    for step in range(p.steps):
        points = []
        for i, (model, optimizer) in enumerate(zip(models, optimizers, strict=True)):
            if not alive[i]:
                continue
            lr = range_test_lr(p, step) if p.mode == "range_test" else scheduled(rates[i], p.schedule, step, p.steps)
            set_lr(optimizer, lr)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            accuracy = (logits.argmax(1) == y).float().mean().item()
            value = loss.item()
            point = {"step": step, "series": names[i], "loss": value, "lr": lr, "accuracy": accuracy}
            if not math.isfinite(value) or value > LOSS_BOUND:
                alive[i] = False  # this rate diverged; the others keep training
                point["diverged"] = True
            else:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                history.append((lr, value))
            points.append(point)
        if not points:
            break
        yield points
        if p.mode == "range_test" and not alive[0]:
            break
    if p.mode == "compare":
        return {"diverged": [n for n, a in zip(names, alive, strict=True) if not a]}
    # A range test is meant to end where the loss blows up: that is where the sweep stopped, not
    # a failure of the run.
    summary: dict = {"sweep_ended_at_lr": history[-1][0] if history else p.lr_min}
    summary["sweep_ended"] = "the loss blew up (as a range test should)" if not alive[0] else "lr_max was reached"
    if len(history) > 5:
        lrs, losses = zip(*history, strict=True)
        summary["suggested_lr"], summary["suggestion_method"] = suggest_lr(list(lrs), list(losses))
    return summary
