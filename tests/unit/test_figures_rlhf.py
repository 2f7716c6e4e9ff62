"""Every figure the RLHF page quotes from its playground, tied to runs at beta 0.1 (the default),
0.01, 0.3 and 1.0 and with beta switched from 0.01 to 0.3 at step 150. The page quotes ten-step
means, as the run's summary gives them: one batch of 64 samples is noisy. The five runs are
recorded in tests/recorded and the default is rerun here; record again with
`python -m tests.unit.test_figures_rlhf`."""

from __future__ import annotations

import functools
import statistics

import pytest
import torch

from app.demos.base import run_inline
from app.demos.rlhf import DEMO, Params
from tests.unit.page_figures import RecordedStudy, as_read, run_with_change

torch.set_num_threads(1)
WINDOW = 10
WINDOW_STARTS = (0, 140, 150, 200)  # where the page quotes a ten-step mean
SWITCH_STEP = 149  # the switched run changes beta after this step, so step 150 is the first at the new beta


def mean(points: list[dict], key: str, start: int = 0) -> float:
    """The mean of `key` over the ten steps from `start`."""
    return statistics.mean(point[key] for point in points[start : start + WINDOW])


def quoted_run(beta: float, switch_to: float | None = None) -> dict:
    """One run (with beta changed live to `switch_to` after SWITCH_STEP, if given), reduced to what
    the page quotes: ten-step means, the best ten-step window of the true reward, the true reward
    from step 150 on, the largest single-batch KL, the summary and the final samples."""
    params = Params(pace=0, beta=beta)
    if switch_to is None:
        points, summary, control = run_inline(DEMO, params)
    else:
        points, summary, control = run_with_change(DEMO, params, SWITCH_STEP, beta=switch_to)
    windows = [mean(points, "true_reward", i) for i in range(len(points) - WINDOW + 1)]
    best = max(range(len(windows)), key=windows.__getitem__)
    plateau = [point["true_reward"] for point in points[150:]]
    keys = ("true_reward", "reward_model_score", "kl")
    return {
        "reward_model_accuracy": control.facts["reward_model_accuracy"],
        "summary": {key: summary[key] for key in (*keys, "true_reward_peak")},
        "means_from": {str(start): {key: mean(points, key, start) for key in keys} for start in WINDOW_STARTS},
        "best_window": {"start": best, "true_reward": windows[best]},
        "from_150": {"mean": statistics.mean(plateau), "stdev": statistics.stdev(plateau)},
        "max_kl": max(point["kl"] for point in points),
        "responses": [example["response"] for example in summary["examples"]],
    }


STUDY = RecordedStudy(
    "rlhf_runs",
    "RLHF: runs at beta 0.1, 0.01, 0.3 and 1.0, and at 0.01 switched to 0.3 after step 149",
    {
        "default": functools.partial(quoted_run, 0.1),
        **{f"beta {beta}": functools.partial(quoted_run, beta) for beta in (0.01, 0.3, 1.0)},
        "beta 0.01, then 0.3 from step 150": functools.partial(quoted_run, 0.01, 0.3),
    },
)


@pytest.fixture(scope="module")
def text() -> str:
    return as_read("rlhf")


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    return STUDY.results()


def test_the_recorded_runs_are_what_the_demo_gives_now() -> None:
    """The default run (about 3 s): the reward model, REINFORCE with its KL penalty and the summary
    that every other run shares; the live change of beta is checked by test_preference_demos."""
    STUDY.assert_current("default")


def test_the_default_run(text: str, runs: dict[str, dict]) -> None:
    run = runs["default"]
    summary, start = run["summary"], run["means_from"]["0"]
    assert f"held-out accuracy {run['reward_model_accuracy']:.2f})" in text
    assert f"the true reward rises from {start['true_reward']:.1f} to about {summary['true_reward']:.1f} and " in text
    score = f"from {start['reward_model_score']:.2f} to {summary['reward_model_score']:.2f}"
    assert f"the reward-model score {score}, at a KL of about {summary['kl']:.1f} nats" in text
    assert f"the reward model's score climbs {score.replace(' to ', ' to about ')} and the KL" in text
    assert f"to the reference to about {summary['kl']:.1f}" in text
    best, peak = run["best_window"]["start"], run["best_window"]["true_reward"]
    assert peak == summary["true_reward_peak"]
    assert f"rises from {start['true_reward']:.1f} to a best of {peak:.2f} (steps {best} to " in text
    assert f"(steps {best} to {best + WINDOW - 1}) and ends at {summary['true_reward']:.2f}" in text
    # The control: is the dip from the best window a decline, or the noise of picking the best of many?
    average, spread = run["from_150"]["mean"], run["from_150"]["stdev"]
    assert f"from step 150 on the true reward averages {average:.2f} (one step varies by {spread:.2f})" in text
    above, below = peak - average, average - summary["true_reward"]
    assert f"lies {above:.2f} above that average, the end {below:.2f} below it" in text


def test_beta_settings(text: str, runs: dict[str, dict]) -> None:
    low = runs["beta 0.01"]["summary"]
    best = runs["beta 0.01"]["best_window"]
    assert best["true_reward"] == low["true_reward_peak"]
    assert abs(low["true_reward_peak"] - 2.5) < 0.05 and 35 <= best["start"] <= 60
    assert f"then falls to {low['true_reward']:.1f} while the reward-model score keeps climbing to " in text
    assert f"climbing to {low['reward_model_score']:.2f} and the KL reaches {low['kl']:.1f}" in text
    assert f"climbs higher ({low['reward_model_score']:.2f}) and the KL to about {low['kl']:.1f}" in text
    assert f"the true reward falls to about {low['true_reward']:.2f} after peaking near 2.5" in text
    assert runs["beta 0.01"]["responses"] == ["7 7 7 7 7 7"] * 3 + ["7 7 5 7 7 7"]
    assert "three of the four samples it ends with are '7 7 7 7 7 7' (the fourth '7 7 5 7 7 7')" in text

    middle = runs["beta 0.3"]["summary"]
    assert f"beta 0.3: the KL stays near {middle['kl']:.1f} and the true reward at about " in text
    assert f"at about {middle['true_reward']:.1f}." in text

    high = runs["beta 1.0"]
    summary, start = high["summary"], high["means_from"]["0"]["true_reward"]
    assert f"the KL ends at {summary['kl']:.2f} (no single batch above {high['max_kl']:.2f})" in text
    assert f"score only reaches about {summary['reward_model_score']:.2f} and the true reward ends near " in text
    assert f"ends near {summary['true_reward']:.2f}, close to the {start:.2f} it started from" in text


def test_reward_hacking_at_small_beta(runs: dict[str, dict]) -> None:
    """At beta 0.01 the reward model's score climbs while the true reward rises at first, then falls
    below where it started: the policy repeats the reward model's favourite token."""
    run = runs["beta 0.01"]
    summary, start = run["summary"], run["means_from"]["0"]
    assert summary["reward_model_score"] > start["reward_model_score"] + 0.8
    assert summary["true_reward_peak"] > start["true_reward"] + 0.5
    assert summary["true_reward"] < summary["true_reward_peak"] - 1.0
    assert summary["true_reward"] < start["true_reward"] - 0.4
    assert summary["kl"] > 5
    assert sum(response.split().count("7") for response in run["responses"]) >= 20  # of 24 tokens


def test_no_reward_hacking_at_larger_beta(runs: dict[str, dict]) -> None:
    summary, start = runs["beta 0.3"]["summary"], runs["beta 0.3"]["means_from"]["0"]
    assert summary["true_reward"] > start["true_reward"] + 0.3
    assert summary["true_reward"] > summary["true_reward_peak"] - 0.6
    assert summary["kl"] < 2


def test_switching_beta_mid_run(text: str, runs: dict[str, dict]) -> None:
    switched = runs["beta 0.01, then 0.3 from step 150"]
    summary, means = switched["summary"], switched["means_from"]
    steady = runs["beta 0.3"]["summary"]
    before, later = means["140"]["kl"], means["200"]["kl"]
    assert abs(later - 1) < 0.2 and f"within 60 steps the KL falls from {before:.1f} to about 1, " in text
    assert f"then settles at {summary['kl']:.2f}, as if the run had been at 0.3 all along ({steady['kl']:.2f})" in text
    recovers = f"from {means['150']['true_reward']:.1f} to {summary['true_reward']:.1f}."
    assert f"the true reward recovers {recovers}" in text


if __name__ == "__main__":
    STUDY.record()
