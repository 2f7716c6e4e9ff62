"""Every figure the preference-data page quotes from its playground, from fresh runs: the default
annotator, a live change of noise, and the noise and temperature variations of the exercises."""

from __future__ import annotations

import math
import statistics
from typing import Any

import torch

from app.demos.base import InlineControl, run_inline
from app.demos.preference_data import DEMO, Params
from tests.unit.page_figures import as_read, percent

torch.set_num_threads(1)


def run(**params: Any) -> tuple[list[dict], dict]:
    points, summary, _ = run_inline(DEMO, Params(pace=0, **params))
    return points, summary


def test_the_default_annotator() -> None:
    text = as_read("preference-data")
    points, summary = run()
    agreement, flipped = summary["agreement_rate"], summary["flipped_rate"]
    assert f"A default run ends at {percent(agreement)} agreement, with {flipped:.1%} of labels flipped" in text
    assert f"About {percent(agreement)} ({agreement:.2f} at the end;" in text
    assert f"with {percent(flipped)} of labels flipped by the noise" in text
    low, *_, high = statistics.quantiles([pt["agreement_rate"] for pt in points], n=10)
    assert abs(low - 0.6) < 0.03 and abs(high - 0.8) < 0.03  # the 10th and 90th percentiles of single steps
    assert "single steps of 32 pairs swing between about 0.6 and 0.8" in text


def test_noise_dragged_to_0_4_half_way() -> None:
    text = as_read("preference-data")
    p = Params(pace=0)
    control = InlineControl(p)
    points = []
    for point in DEMO.steps(p, control):
        points.append(point)
        if point["step"] == 49:
            control.change(noise=0.4)

    def mean(key: str, part: list[dict]) -> float:
        return statistics.mean(pt[key] for pt in part)

    before, after = points[:50], points[50:]
    assert f"agreement falls from about {percent(mean('agreement_rate', before))} to " in text
    assert f"to {percent(mean('agreement_rate', after))} and the loss rises from {mean('loss', before):.2f} " in text
    assert f"rises from {mean('loss', before):.2f} to {mean('loss', after):.2f}" in text


def test_noise_and_temperature() -> None:
    text = as_read("preference-data")
    _, noisy = run(noise=0.4)
    assert f"About {percent(noisy['agreement_rate'])}, barely above chance, with " in text
    assert f"with {percent(noisy['flipped_rate'])} of labels flipped" in text
    _, honest = run(noise=0.0)
    assert f"Noise 0: agreement is still only {percent(honest['agreement_rate'])}" in text
    assert f"a one-point gap is won just {percent(1 / (1 + math.exp(-1 / 2)))} of the time" in text  # σ(1/T)
    _, decisive = run(noise=0.0, temperature=0.05)
    _, coin = run(noise=0.5)
    _, sharp_coin = run(noise=0.5, temperature=0.05)
    assert f"Temperature 0.05 with noise 0 gives {percent(decisive['agreement_rate'])}; " in text
    assert f"noise 0.5 gives {percent(coin['agreement_rate'])} at temperature 2 and " in text
    assert f"and {percent(sharp_coin['agreement_rate'])} at 0.05: a coin flip either way" in text
    _, sharp = run(temperature=0.5)
    assert f"To about {percent(sharp['agreement_rate'])} (from 68% at temperature 2)" in text
