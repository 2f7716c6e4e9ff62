"""The hand-written losses and their gradients against plain-Python formulas."""

from __future__ import annotations

import math

import pytest
import torch

from app.ml import losses

PRED = [0.5, -1.0, 2.0, 3.5, 0.0]
TARGET = [0.0, 1.0, 2.5, -2.0, 0.3]
DELTA = 1.0


def loss_and_grad(fn, pred: list[float], target: list[float]) -> tuple[float, list[float]]:
    p = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    loss = fn(p, torch.tensor(target, dtype=torch.float64))
    loss.backward()
    return loss.item(), p.grad.tolist()


def plain_huber(r: float) -> float:
    return 0.5 * r * r if abs(r) <= DELTA else DELTA * (abs(r) - 0.5 * DELTA)


def test_mse_and_its_gradient() -> None:
    n = len(PRED)
    loss, grad = loss_and_grad(losses.mse, PRED, TARGET)
    assert loss == pytest.approx(sum((p - t) ** 2 for p, t in zip(PRED, TARGET, strict=True)) / n, rel=1e-12)
    assert grad == pytest.approx([2 * (p - t) / n for p, t in zip(PRED, TARGET, strict=True)], rel=1e-12)


def test_mae_and_its_gradient() -> None:
    n = len(PRED)
    loss, grad = loss_and_grad(losses.mae, PRED, TARGET)
    assert loss == pytest.approx(sum(abs(p - t) for p, t in zip(PRED, TARGET, strict=True)) / n, rel=1e-12)
    assert grad == pytest.approx([math.copysign(1, p - t) / n for p, t in zip(PRED, TARGET, strict=True)])


def test_huber_and_its_gradient_are_quadratic_inside_delta_and_linear_outside() -> None:
    n = len(PRED)
    residuals = [p - t for p, t in zip(PRED, TARGET, strict=True)]  # 0.5, -2, -0.5, 5.5, -0.3
    loss, grad = loss_and_grad(lambda p, t: losses.huber(p, t, DELTA), PRED, TARGET)
    assert loss == pytest.approx(sum(plain_huber(r) for r in residuals) / n, rel=1e-12)
    # d/dr: r inside δ, δ·sign(r) outside: an outlier's pull is capped at δ.
    assert grad == pytest.approx([(r if abs(r) <= DELTA else DELTA * math.copysign(1, r)) / n for r in residuals])
    assert loss == pytest.approx(torch.nn.functional.huber_loss(torch.tensor(PRED), torch.tensor(TARGET)).item())


def test_binary_cross_entropy_and_its_gradient() -> None:
    logits, labels = [-3.0, 0.0, 2.0, 40.0], [1.0, 0.0, 1.0, 0.0]
    n = len(logits)
    sigmoid = [1 / (1 + math.exp(-z)) for z in logits]
    expected = -sum(
        y * math.log(s) + (1 - y) * math.log1p(-s) if s < 1 else (1 - y) * -z  # log(1 - σ(40)) ~ -40
        for z, s, y in zip(logits, sigmoid, labels, strict=True)
    )
    loss, grad = loss_and_grad(losses.binary_cross_entropy, logits, labels)
    assert loss == pytest.approx(expected / n, rel=1e-9)
    assert grad == pytest.approx([(s - y) / n for s, y in zip(sigmoid, labels, strict=True)], rel=1e-9)


def test_sigmoid_mse_gradient_vanishes_for_a_confident_mistake() -> None:
    logits, labels = [-6.0, 0.5], [1.0, 0.0]
    sigmoid = [1 / (1 + math.exp(-z)) for z in logits]
    loss, grad = loss_and_grad(losses.sigmoid_mse, logits, labels)
    assert loss == pytest.approx(sum((s - y) ** 2 for s, y in zip(sigmoid, labels, strict=True)) / 2, rel=1e-12)
    expected = [2 * (s - y) * s * (1 - s) / 2 for s, y in zip(sigmoid, labels, strict=True)]
    assert grad == pytest.approx(expected, rel=1e-12)
    assert abs(grad[0]) < 0.003  # σ(-6) = 0.0025: wrong by almost 1, yet almost no gradient
