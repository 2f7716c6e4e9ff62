"""Small 2-D (and 1-D) data sets for the playgrounds: each a pure function of its seed."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def spiral(n_per_class: int, seed: int, classes: int = 2) -> tuple[Tensor, Tensor]:
    """Interleaved spiral arms, one per class: a classic set no linear model can separate."""
    generator = torch.Generator().manual_seed(seed)
    t = torch.linspace(0.25, 1.0, n_per_class, dtype=torch.float32)
    xs, ys = [], []
    for label in range(classes):
        angle = 3 * math.pi * t + label * 2 * math.pi / classes
        radius = 2 * t
        points = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
        xs.append(points + 0.08 * torch.randn(points.shape, generator=generator))
        ys.append(torch.full((n_per_class,), label))
    return torch.cat(xs), torch.cat(ys)


def ring(n_per_class: int, seed: int, classes: int = 8, spread: float = 0.4) -> tuple[Tensor, Tensor]:
    """Gaussian clouds centred evenly on a circle of radius 2, one per class: each class resembles
    its two neighbours on the ring and no other, a similarity a teacher's probabilities reveal."""
    generator = torch.Generator().manual_seed(seed)
    angle = torch.arange(classes, dtype=torch.float32) * (2 * math.pi / classes)
    centres = 2 * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    y = torch.arange(classes).repeat_interleave(n_per_class)
    return centres[y] + spread * torch.randn(len(y), 2, generator=generator), y


def moons(n_per_class: int, seed: int, noise: float = 0.1) -> tuple[Tensor, Tensor]:
    """Two interleaving half circles (upper one class 0, lower one class 1, shifted right and down)."""
    generator = torch.Generator().manual_seed(seed)
    angle = torch.linspace(0, math.pi, n_per_class, dtype=torch.float32)
    upper = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    lower = torch.stack([1 - torch.cos(angle), 0.5 - torch.sin(angle)], dim=1)
    x = torch.cat([upper, lower])
    x = x + noise * torch.randn(x.shape, generator=generator)
    return x, torch.cat([torch.zeros(n_per_class, dtype=torch.long), torch.ones(n_per_class, dtype=torch.long)])


def blobs(n_per_class: int, seed: int, spread: float = 0.7) -> tuple[Tensor, Tensor]:
    """Two Gaussian clouds around (-1, -1) (label 0) and (1, 1) (label 1); labels as floats 0/1."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[-1.0, -1.0], [1.0, 1.0]]).repeat_interleave(n_per_class, dim=0)
    x = centres + spread * torch.randn(centres.shape, generator=generator)
    return x, torch.arange(2).repeat_interleave(n_per_class).float()


def line_with_outliers(
    n: int, outlier_fraction: float, seed: int, slope: float, intercept: float, shift: float
) -> tuple[Tensor, Tensor, Tensor]:
    """Points near y = slope x + intercept on x in [-1, 1]; the round(fraction n) points of largest x
    are moved down by `shift`, so they tilt a least-squares line. Returns (x, y, is_outlier)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, generator=generator) * 2 - 1
    y = slope * x + intercept + 0.1 * torch.randn(n, generator=generator)
    is_outlier = torch.zeros(n, dtype=torch.bool)
    is_outlier[x.argsort(descending=True)[: round(outlier_fraction * n)]] = True
    return x, torch.where(is_outlier, y - shift, y), is_outlier
