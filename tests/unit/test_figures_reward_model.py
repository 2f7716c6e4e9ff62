"""Every figure the reward-model page quotes from its playground, tied to runs of the demo: the
default, the label-noise and pair-count variations of the body, and the exercises. The seven runs
are recorded in tests/recorded and the default is rerun here; record again with
`python -m tests.unit.test_figures_reward_model`."""

from __future__ import annotations

import functools
import math
from typing import Any

import pytest
import torch

from app.demos.base import run_inline
from app.demos.reward_model import DEMO, Params
from tests.unit.page_figures import RecordedStudy, as_read, percent

torch.set_num_threads(1)


def quoted_run(**params: Any) -> dict:
    """One run reduced to what the page quotes: the loss and accuracy at steps 0 and 10 and at the
    end, and the summary's held-out accuracy, correlation and token scores."""
    points, summary, _ = run_inline(DEMO, Params(pace=0, **params))
    return {
        "at": {str(step): {key: points[step][key] for key in ("loss", "accuracy")} for step in (0, 10, -1)},
        "summary": {key: summary[key] for key in ("accuracy", "correlation", "token_scores")},
    }


RUNS = {
    "default": {},
    "noise 0.4": {"noise": 0.4},
    "noise 0.4, 5000 pairs": {"noise": 0.4, "n_pairs": 5000},
    "noise 0.5": {"noise": 0.5},
    "16 pairs": {"n_pairs": 16},
    "50 pairs": {"n_pairs": 50},
    "5000 pairs": {"n_pairs": 5000},
}
STUDY = RecordedStudy(
    "reward_model_runs",
    "reward model: the default run, label noise 0.4 and 0.5, and 16, 50 and 5000 pairs",
    {key: functools.partial(quoted_run, **params) for key, params in RUNS.items()},
)


@pytest.fixture(scope="module")
def text() -> str:
    return as_read("reward-model")


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    return STUDY.results()


def signed(value: float, digits: int = 2) -> str:
    return f"{value:+.{digits}f}".replace("-", "−")


def test_the_recorded_runs_are_what_the_demo_gives_now() -> None:
    """The default run (about 2 s): the pairs, the bag-of-tokens model, its training and its
    held-out scores, which the other runs share with other noise and pair counts."""
    STUDY.assert_current("default")


def test_the_default_run_and_the_first_exercise(text: str, runs: dict[str, dict]) -> None:
    at, summary = runs["default"]["at"], runs["default"]["summary"]
    assert abs(at["0"]["loss"] - math.log(2)) < 1e-6
    assert at["0"]["accuracy"] == 0.5 and f"and ends at {at['-1']['loss']:.2f}." in text
    accuracy, correlation = summary["accuracy"], summary["correlation"]
    assert f"from 0.5 to {at['10']['accuracy']:.2f} in ten steps and ends at {accuracy:.2f}, " in text
    assert f"correlation {correlation:.2f}." in text
    scores = summary["token_scores"]
    assert min(scores) == scores[0] and max(scores) == scores[-1]
    assert f"from {signed(scores[0], 3)} for token 0 to {signed(scores[-1], 3)} for token 7" in text
    assert f"About {percent(accuracy)} accuracy on held-out pairs" in text
    assert f"with a correlation of {correlation:.2f} with the true reward" in text
    assert f"token 7 is good ({signed(scores[-1], 3)}) and token 0 bad ({signed(scores[0], 3)})" in text


def test_label_noise(text: str, runs: dict[str, dict]) -> None:
    noisy = runs["noise 0.4"]["summary"]
    assert f"Noise 0.4: accuracy drops to {noisy['accuracy']:.2f}" in text
    assert f"About {percent(noisy['accuracy'])}, with the correlation down to {noisy['correlation']:.2f}" in text
    assert f"the loss stays near ln 2 ({runs['noise 0.4']['at']['-1']['loss']:.3f})" in text
    default = runs["default"]["summary"]
    strongest = (0, 7)
    assert all(noisy["token_scores"][t] * default["token_scores"][t] > 0 for t in strongest)
    assert all(abs(noisy["token_scores"][t]) < abs(default["token_scores"][t]) / 2 for t in strongest)
    more = runs["noise 0.4, 5000 pairs"]["summary"]
    assert f"with n_pairs 5000 it is back at {more['accuracy']:.2f}" in text
    coin = runs["noise 0.5"]["summary"]
    assert abs(coin["correlation"]) < 0.05 and f"Noise 0.5 gives {coin['accuracy']:.2f} and no correlation" in text


def test_pair_counts(text: str, runs: dict[str, dict]) -> None:
    few = runs["16 pairs"]
    assert f"the training loss falls to {few['at']['-1']['loss']:.2f} while held-out accuracy stays at " in text
    assert f"stays at {few['summary']['accuracy']:.2f}: memorised pairs" in text
    many = runs["5000 pairs"]["summary"]
    assert f"n_pairs 5000 at noise 0.1: {many['accuracy']:.2f}, near this bag of tokens' ceiling" in text
    fifty = runs["50 pairs"]
    summary = fifty["summary"]
    assert f"About {percent(summary['accuracy'])} held-out accuracy (correlation {summary['correlation']:.2f})" in text
    assert f"with 50 pairs the training loss falls to {fifty['at']['-1']['loss']:.2f}" in text
    assert f"(token 0 even gets {signed(summary['token_scores'][0])})" in text


if __name__ == "__main__":
    STUDY.record()
