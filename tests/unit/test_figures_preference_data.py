"""Every figure the preference-data page quotes from its playground, tied to runs of the demo: the
default annotator, a live change of noise, and the noise and temperature variations of the
exercises. The eight runs are recorded in tests/recorded and the default is rerun here; record
again with `python -m tests.unit.test_figures_preference_data`."""

from __future__ import annotations

import functools
import math
import statistics
from typing import Any

import pytest
import torch

from app.demos.base import run_inline
from app.demos.preference_data import DEMO, Params
from tests.unit.page_figures import RecordedStudy, as_read, percent, run_with_change

torch.set_num_threads(1)
SWITCH_STEP = 49  # the switched run changes the noise after this step: half way through 100


def quoted_run(switch_noise: float | None = None, **params: Any) -> dict:
    """One run (with the noise changed live to `switch_noise` after SWITCH_STEP, if given), reduced
    to what the page quotes: the summary's rates, the 10th and 90th percentiles of single steps'
    agreement, and the mean agreement and loss before and after the switch step."""
    if switch_noise is None:
        points, summary, _ = run_inline(DEMO, Params(pace=0, **params))
    else:
        points, summary, _ = run_with_change(DEMO, Params(pace=0, **params), SWITCH_STEP, noise=switch_noise)
    low, *_, high = statistics.quantiles([point["agreement_rate"] for point in points], n=10)
    halves = {"before": points[: SWITCH_STEP + 1], "after": points[SWITCH_STEP + 1 :]}
    return {
        "summary": {key: summary[key] for key in ("agreement_rate", "flipped_rate")},
        "agreement_deciles": [low, high],
        "means": {
            half: {key: statistics.mean(point[key] for point in part) for key in ("agreement_rate", "loss")}
            for half, part in halves.items()
        },
    }


RUNS = {
    "default": {},
    "noise 0.4 from step 50": {"switch_noise": 0.4},
    "noise 0.4": {"noise": 0.4},
    "noise 0": {"noise": 0.0},
    "noise 0, temperature 0.05": {"noise": 0.0, "temperature": 0.05},
    "noise 0.5": {"noise": 0.5},
    "noise 0.5, temperature 0.05": {"noise": 0.5, "temperature": 0.05},
    "temperature 0.5": {"temperature": 0.5},
}
STUDY = RecordedStudy(
    "preference_data_runs",
    "preference data: the default annotator, noise switched to 0.4 half way, and the exercises' noise and "
    "temperature variations",
    {key: functools.partial(quoted_run, **params) for key, params in RUNS.items()},
)


@pytest.fixture(scope="module")
def text() -> str:
    return as_read("preference-data")


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    return STUDY.results()


def agreement_of(runs: dict[str, dict], key: str) -> str:
    return percent(runs[key]["summary"]["agreement_rate"])


def test_the_recorded_runs_are_what_the_demo_gives_now() -> None:
    """The default run (about 2 s): the toy world's pairs and the Bradley–Terry annotator that
    every other run draws from at another noise or temperature."""
    STUDY.assert_current("default")


def test_the_default_annotator(text: str, runs: dict[str, dict]) -> None:
    summary = runs["default"]["summary"]
    agreement, flipped = summary["agreement_rate"], summary["flipped_rate"]
    assert f"A default run ends at {percent(agreement)} agreement, with {flipped:.1%} of labels flipped" in text
    assert f"About {percent(agreement)} ({agreement:.2f} at the end;" in text
    assert f"with {percent(flipped)} of labels flipped by the noise" in text
    low, high = runs["default"]["agreement_deciles"]
    assert abs(low - 0.6) < 0.03 and abs(high - 0.8) < 0.03  # the 10th and 90th percentiles of single steps
    assert "single steps of 32 pairs swing between about 0.6 and 0.8" in text


def test_noise_dragged_to_0_4_half_way(text: str, runs: dict[str, dict]) -> None:
    before, after = runs["noise 0.4 from step 50"]["means"].values()
    assert f"agreement falls from about {percent(before['agreement_rate'])} to " in text
    assert f"to {percent(after['agreement_rate'])} and the loss rises from {before['loss']:.2f} " in text
    assert f"rises from {before['loss']:.2f} to {after['loss']:.2f}" in text


def test_noise_and_temperature(text: str, runs: dict[str, dict]) -> None:
    noisy = runs["noise 0.4"]["summary"]
    assert f"About {percent(noisy['agreement_rate'])}, barely above chance, with " in text
    assert f"with {percent(noisy['flipped_rate'])} of labels flipped" in text
    assert f"Noise 0: agreement is still only {agreement_of(runs, 'noise 0')}" in text
    assert f"a one-point gap is won just {percent(1 / (1 + math.exp(-1 / 2)))} of the time" in text  # σ(1/T)
    assert f"Temperature 0.05 with noise 0 gives {agreement_of(runs, 'noise 0, temperature 0.05')}; " in text
    assert f"noise 0.5 gives {agreement_of(runs, 'noise 0.5')} at temperature 2 and " in text
    assert f"and {agreement_of(runs, 'noise 0.5, temperature 0.05')} at 0.05: a coin flip either way" in text
    assert f"To about {agreement_of(runs, 'temperature 0.5')} (from 68% at temperature 2)" in text


if __name__ == "__main__":
    STUDY.record()
