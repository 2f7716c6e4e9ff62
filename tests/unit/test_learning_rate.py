"""The learning-rate demo's schedules and its LR range-test suggestion."""

from __future__ import annotations

import math

import pytest

from app.demos.learning_rate import Params
from app.training.learning_rate import learning_rates, scheduled, suggest_lr


def test_learning_rates_are_log_spaced_between_the_bounds() -> None:
    rates = learning_rates(Params(lr_min=0.01, lr_max=10, series=4))
    assert rates == pytest.approx([0.01, 0.1, 1.0, 10.0])


def test_schedules_against_their_formulas() -> None:
    assert scheduled(0.1, "constant", 50, 100) == 0.1
    assert scheduled(0.1, "step", 0, 100) == 0.1 and scheduled(0.1, "step", 50, 100) == pytest.approx(0.01)
    assert scheduled(0.1, "step", 99, 100) == pytest.approx(0.001)
    assert scheduled(0.1, "cosine", 0, 101) == pytest.approx(0.1)
    assert scheduled(0.1, "cosine", 50, 101) == pytest.approx(0.05)  # half-way: (1 + cos(pi/2)) / 2
    assert scheduled(0.1, "cosine", 100, 101) == pytest.approx(0.0, abs=1e-12)
    warm = [scheduled(0.1, "warmup_cosine", s, 100) for s in range(100)]
    assert warm[0] == pytest.approx(0.01) and warm[9] == pytest.approx(0.1)  # linear over 10 steps
    assert warm[10] == pytest.approx(0.1) and warm[-1] == pytest.approx(0.0, abs=1e-12)


def test_lr_min_above_lr_max_is_rejected() -> None:
    with pytest.raises(ValueError, match="lr_min"):
        Params(lr_min=1, lr_max=0.1)


def test_the_suggestion_is_the_steepest_fall_before_the_minimum() -> None:
    # A made-up range test: the loss falls fastest at lr = 1e-2, bottoms out at 1, then blows up.
    lrs = [10 ** (-4 + 5 * i / 299) for i in range(300)]
    losses = [1 - math.tanh(2 * (math.log10(lr) + 2)) if lr < 1 else 50 * (lr - 1) for lr in lrs]
    lr, method = suggest_lr(lrs, losses)
    assert 5e-3 < lr < 3e-2  # the moving average lags the raw curve by a few points
    assert "steepest" in method
