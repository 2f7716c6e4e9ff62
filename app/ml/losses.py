"""Losses written out as formulas, so a playground can set them side by side.

Each takes predictions and targets of the same shape and returns the mean over examples.
PyTorch has all of them built in (F.mse_loss, F.l1_loss, F.huber_loss,
F.binary_cross_entropy_with_logits); writing them here keeps the math on the page.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def mse(pred: Tensor, target: Tensor) -> Tensor:
    """Mean squared error (1/n) Σ (ŷ - y)²: its gradient 2 (ŷ - y) grows with the residual."""
    return ((pred - target) ** 2).mean()


def mae(pred: Tensor, target: Tensor) -> Tensor:
    """Mean absolute error (1/n) Σ |ŷ - y|: its gradient ±1 is the same for every residual."""
    return (pred - target).abs().mean()


def huber(pred: Tensor, target: Tensor, delta: float) -> Tensor:
    """Huber (1964): ½ r² for |r| ≤ δ, δ (|r| - ½ δ) beyond: squared near the fit, linear far from it,
    so an outlier pulls with a force of at most δ. Matches F.huber_loss."""
    r = (pred - target).abs()
    return torch.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta)).mean()


def binary_cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """-[y log σ(z) + (1 - y) log(1 - σ(z))], computed as softplus(z) - y z, which never takes log 0.
    Its gradient in z is σ(z) - y: a confident mistake gets a gradient near ±1."""
    return (F.softplus(logits) - target * logits).mean()


def sigmoid_mse(logits: Tensor, target: Tensor) -> Tensor:
    """Squared error on the probability σ(z). Its gradient in z is 2 (σ(z) - y) σ(z) (1 - σ(z)):
    the factor σ(1 - σ) is near 0 for a confident mistake, so the model barely moves."""
    return mse(torch.sigmoid(logits), target)


def soft_target_loss(student_logits: Tensor, teacher_logits: Tensor, temperature: float) -> Tensor:
    """Knowledge distillation's soft loss (Hinton, Vinyals, Dean 2015): T² · KL(p_T ‖ q_T), averaged
    over examples, where p_T = softmax(teacher / T) and q_T = softmax(student / T).

    Dividing the logits by T > 1 softens both distributions, so the small probabilities the teacher
    gives the wrong classes (which ones it finds similar) carry weight. The gradient of the KL term
    scales like 1/T², so the factor T² keeps the soft loss's pull comparable across temperatures.
    KL differs from the cross-entropy −Σ p_T log q_T only by the teacher's entropy, a constant."""
    log_p = F.log_softmax(teacher_logits / temperature, dim=-1)
    log_q = F.log_softmax(student_logits / temperature, dim=-1)
    kl = (log_p.exp() * (log_p - log_q)).sum(dim=-1)
    return temperature**2 * kl.mean()
