"""The shared optimizer helpers against hand computations."""

from __future__ import annotations

import pytest
import torch

from app.ml.optim import adam_step, set_lr


def test_set_lr_reaches_every_parameter_group_and_keeps_adams_state() -> None:
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    opt = torch.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    adam_step(opt, (a - 1).square().sum() + (b + 1).square().sum(), 0.1)
    state = {k: v.clone() for k, v in opt.state[a].items()}
    set_lr(opt, 0.02)
    assert [g["lr"] for g in opt.param_groups] == [0.02, 0.02]
    assert all(torch.equal(opt.state[a][k], v) for k, v in state.items())


def test_adam_step_returns_the_loss_before_the_update_and_moves_by_lr_on_the_first_step() -> None:
    """Adam's first update is lr·m̂/(√v̂ + ε) with m̂ = g and v̂ = g² (Kingma & Ba 2015, bias
    corrected): each coordinate moves by lr·g/(|g| + ε), about lr against the gradient's sign."""
    weight = torch.tensor([2.0, -3.0], requires_grad=True)
    opt = torch.optim.Adam([weight], lr=1.0)
    loss = (weight**2).sum()  # gradient (4, -6)
    assert adam_step(opt, loss, 0.01) == pytest.approx(13.0)
    grad = torch.tensor([4.0, -6.0])
    expected = torch.tensor([2.0, -3.0]) - 0.01 * grad / (grad.abs() + 1e-8)
    assert torch.allclose(weight.detach(), expected, rtol=0, atol=1e-7)
    assert opt.param_groups[0]["lr"] == 0.01
