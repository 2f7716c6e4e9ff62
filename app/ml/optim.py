"""Optimizer helpers every demo shares: the live learning rate, and one full update."""

from __future__ import annotations

import torch


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate: how a live change of `lr` reaches the optimizer
    between two steps (Adam's moments and step count are kept)."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def adam_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, lr: float) -> float:
    """One update at the current (live) `lr`: clear the gradients, backpropagate `loss`, step.
    Returns the loss before the update."""
    set_lr(optimizer, lr)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()
