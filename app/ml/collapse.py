"""Model collapse in its simplest form (after Shumailov et al., Nature 631, 755–759, 2024).

The "model" is a categorical distribution over a vocabulary, fitted by maximum likelihood
(the sample frequencies). Each generation samples a data set from the previous model, mixes in
a share of fresh samples of the truth, and refits. A type that draws no sample gets probability
0 and can never be sampled again: the rare types, the tail, vanish first, and the loss is
permanent unless fresh real data brings them back.
"""

from __future__ import annotations

import torch
from torch import Tensor


def zipf(vocab: int, exponent: float) -> Tensor:
    """p(k) ∝ 1 / k^s for ranks k = 1..vocab: a few common types, a long tail of rare ones."""
    weights = torch.arange(1, vocab + 1, dtype=torch.float64) ** -exponent
    return weights / weights.sum()


def sample_counts(probs: Tensor, n: int, generator: torch.Generator) -> Tensor:
    """How often each type is drawn in n samples: inverse-CDF sampling, u ~ U[0, 1) falls into
    type k when cdf(k − 1) ≤ u < cdf(k)."""
    cdf = probs.cumsum(0)
    u = torch.rand(n, dtype=torch.float64, generator=generator)
    draws = torch.searchsorted(cdf, u, right=True).clamp_max(len(probs) - 1)  # cdf[-1] may round below 1
    return torch.bincount(draws, minlength=len(probs))


def collapse_step(model: Tensor, truth: Tensor, n: int, fresh_fraction: float, generator: torch.Generator) -> Tensor:
    """One generation: round(fresh_fraction · n) samples of the truth (drawn first), the rest from the
    current model; the next model is their frequencies, the maximum-likelihood fit."""
    n_real = round(fresh_fraction * n)
    counts = sample_counts(truth, n_real, generator) + sample_counts(model, n - n_real, generator)
    return counts.double() / n


def entropy(p: Tensor) -> float:
    """H(p) = −Σ p log p in nats (0 log 0 = 0)."""
    nonzero = p[p > 0]
    return -(nonzero * nonzero.log()).sum().item()


def total_variation(p: Tensor, q: Tensor) -> float:
    """TV(p, q) = ½ Σ |p − q|: the largest gap in probability the two give any set of types."""
    return 0.5 * (p - q).abs().sum().item()


def lost_mass(model: Tensor, truth: Tensor) -> float:
    """The truth's probability on the types the model can no longer produce."""
    return truth[model == 0].sum().item()
