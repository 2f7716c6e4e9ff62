"""The pretraining playground's count baselines against hand counts, and its learning-rate schedule."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
import torch

from app.ml import charlm
from app.ml.ngram import CharNGram, window_targets
from app.ml.schedule import warmup_cosine

# The text "abab a" over the vocabulary {a, b, " "} = ids 0, 1, 2.
TEXT = torch.tensor([0, 1, 0, 1, 2, 0])
V = 3


def test_bigram_probabilities_by_hand() -> None:
    """Bigrams of 'abab a': ab, ba, ab, b␣, ␣a. After 'b': a once, ␣ once, so with k = 0.5
    p(a | b) = (1 + 0.5) / (2 + 1.5) = 3/7, and p(b | b) = 0.5 / 3.5 = 1/7."""
    model = CharNGram(TEXT, V, order=2, k=0.5)
    held_out = torch.tensor([1, 0, 1, 1])  # 'b a b b': predicts a|b, b|a, b|b
    nll = model.nll(held_out, torch.tensor([1, 2, 3]))
    assert nll.tolist() == pytest.approx([-math.log(3 / 7), -math.log(2.5 / 3.5), -math.log(1 / 7)])
    assert model.loss(held_out, torch.arange(4)) == pytest.approx(nll.mean().item())  # position 0 has no history


def test_trigram_probabilities_by_hand() -> None:
    """Trigrams of 'abab a': aba, bab, ab␣, b␣a. After 'ab': a once, ␣ once; after 'bb': nothing,
    so every next character gets k / (0 + kV) = 1/3."""
    model = CharNGram(TEXT, V, order=3, k=0.1)
    held_out = torch.tensor([0, 1, 2, 1, 1, 0])  # 'ab␣bba'
    nll = model.nll(held_out, torch.tensor([2, 5]))  # ␣ after 'ab'; a after 'bb'
    assert nll.tolist() == pytest.approx([-math.log(1.1 / 2.3), -math.log(1 / 3)])
    with pytest.raises(ValueError, match="2 characters of history"):
        model.nll(held_out, torch.tensor([1]))


def test_the_counts_are_a_probability_distribution() -> None:
    data = charlm.LM_VOCAB.encode("the theme of the thesis is the thing")
    model = CharNGram(data, len(charlm.LM_VOCAB), order=3, k=0.05)
    history = data[:2]
    total = sum(
        math.exp(-model.nll(torch.cat([history, torch.tensor([c])]), torch.tensor([2])).item())
        for c in range(len(charlm.LM_VOCAB))
    )
    assert total == pytest.approx(1.0)
    assert model.counts.sum().item() == len(data) - 2  # one count per trigram of the text


def test_window_targets_are_the_positions_fixed_batch_predicts() -> None:
    data = torch.arange(100)
    _, y = charlm.fixed_batch(data, 4, 8)
    assert torch.equal(window_targets(charlm.fixed_starts(100, 4, 8), 8), y.reshape(-1))


def test_warmup_then_cosine_to_the_floor() -> None:
    factors = [warmup_cosine(step, total=10, warmup=4, floor=0.1) for step in range(10)]
    assert factors[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert factors[4] == pytest.approx(1.0)  # the cosine starts at the peak ...
    assert factors[-1] == pytest.approx(0.1)  # ... and ends at the floor on the last step
    # step 6 is 2/5 of the way through the decay (steps 4..9)
    assert factors[6] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 2 / 5)))
    decay = factors[3:]
    assert all(later <= earlier for earlier, later in pairwise(decay))
