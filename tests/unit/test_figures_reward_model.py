"""Every figure the reward-model page quotes from its playground, from fresh runs: the default,
the label-noise and pair-count variations of the body, and the exercises."""

from __future__ import annotations

import math
from typing import Any

import torch

from app.demos.base import run_inline
from app.demos.reward_model import DEMO, Params
from tests.unit.page_figures import as_read, percent

torch.set_num_threads(1)


def run(**params: Any) -> tuple[list[dict], dict]:
    points, summary, _ = run_inline(DEMO, Params(pace=0, **params))
    return points, summary


def signed(value: float, digits: int = 2) -> str:
    return f"{value:+.{digits}f}".replace("-", "−")


def test_the_default_run_and_the_first_exercise() -> None:
    text = as_read("reward-model")
    points, summary = run()
    assert abs(points[0]["loss"] - math.log(2)) < 1e-6
    assert points[0]["accuracy"] == 0.5 and f"and ends at {points[-1]['loss']:.2f}." in text
    accuracy, correlation = summary["accuracy"], summary["correlation"]
    assert f"from 0.5 to {points[10]['accuracy']:.2f} in ten steps and ends at {accuracy:.2f}, " in text
    assert f"correlation {correlation:.2f}." in text
    scores = summary["token_scores"]
    assert min(scores) == scores[0] and max(scores) == scores[-1]
    assert f"from {signed(scores[0], 3)} for token 0 to {signed(scores[-1], 3)} for token 7" in text
    assert f"About {percent(accuracy)} accuracy on held-out pairs" in text
    assert f"with a correlation of {correlation:.2f} with the true reward" in text
    assert f"token 7 is good ({signed(scores[-1], 3)}) and token 0 bad ({signed(scores[0], 3)})" in text


def test_label_noise() -> None:
    text = as_read("reward-model")
    points, noisy = run(noise=0.4)
    assert f"Noise 0.4: accuracy drops to {noisy['accuracy']:.2f}" in text
    assert f"About {percent(noisy['accuracy'])}, with the correlation down to {noisy['correlation']:.2f}" in text
    assert f"the loss stays near ln 2 ({points[-1]['loss']:.3f})" in text
    _, default = run()
    strongest = (0, 7)
    assert all(noisy["token_scores"][t] * default["token_scores"][t] > 0 for t in strongest)
    assert all(abs(noisy["token_scores"][t]) < abs(default["token_scores"][t]) / 2 for t in strongest)
    _, more = run(noise=0.4, n_pairs=5000)
    assert f"with n_pairs 5000 it is back at {more['accuracy']:.2f}" in text
    _, coin = run(noise=0.5)
    assert abs(coin["correlation"]) < 0.05 and f"Noise 0.5 gives {coin['accuracy']:.2f} and no correlation" in text


def test_pair_counts() -> None:
    text = as_read("reward-model")
    points, few = run(n_pairs=16)
    assert f"the training loss falls to {points[-1]['loss']:.2f} while held-out accuracy stays at " in text
    assert f"stays at {few['accuracy']:.2f}: memorised pairs" in text
    _, many = run(n_pairs=5000)
    assert f"n_pairs 5000 at noise 0.1: {many['accuracy']:.2f}, near this bag of tokens' ceiling" in text
    points, fifty = run(n_pairs=50)
    assert f"About {percent(fifty['accuracy'])} held-out accuracy (correlation {fifty['correlation']:.2f})" in text
    assert f"with 50 pairs the training loss falls to {points[-1]['loss']:.2f}" in text
    assert f"(token 0 even gets {signed(fifty['token_scores'][0])})" in text
