"""Every figure the DPO page quotes from its playground, tied to runs of the demo: the default, the
ipo and hinge losses, label smoothing 0.2, and the comparison with RLHF at beta 0.1 and 0.01. The
page quotes the run's summary (means over the last 10 steps), and the mean of the first 10 steps
for where a curve starts. The six runs (about half a minute of one CPU thread) are recorded in
tests/recorded and the default is rerun here; record again with
`python -m tests.unit.test_figures_dpo`."""

from __future__ import annotations

import functools
import statistics
from typing import Any

import pytest
import torch

from app.demos.base import run_inline
from app.demos.dpo import DEMO, Params
from tests.unit.page_figures import RecordedStudy, as_read, percent

torch.set_num_threads(1)
SUMMARY_KEYS = ("loss", "reward_margin", "reward_accuracy", "true_reward", "kl")


def last_ten(points: list[dict], key: str) -> float:
    return statistics.mean(point[key] for point in points[-10:])


def quoted_run(**params: Any) -> dict:
    """One run reduced to what the page quotes: the DPO curve's first and last points, the mean
    true reward of its first ten steps, the implied rewards of its last ten, the summary, and
    RLHF's summary beside it when the run compares the two."""
    points, summary, _ = run_inline(DEMO, Params(pace=0, **params))
    dpo = [point for point in points if point.get("series", "dpo") == "dpo"]
    quoted = {
        "first_loss": dpo[0]["loss"],
        "last": {key: dpo[-1][key] for key in ("loss", "reward_accuracy")},
        "start_true_reward": statistics.mean(point["true_reward"] for point in dpo[:10]),
        "last_ten": {key: last_ten(dpo, key) for key in ("rewards_chosen", "rewards_rejected")},
        "summary": {key: summary[key] for key in SUMMARY_KEYS},
    }
    if "rlhf" in summary:
        quoted["rlhf"] = {key: summary["rlhf"][key] for key in ("true_reward", "kl")}
    return quoted


RUNS = {
    "default": {},
    "ipo": {"loss_type": "ipo"},
    "hinge": {"loss_type": "hinge"},
    "label smoothing 0.2": {"label_smoothing": 0.2},
    "beside RLHF": {"compare_rlhf": True},
    "beside RLHF, beta 0.01": {"compare_rlhf": True, "beta": 0.01},
}
STUDY = RecordedStudy(
    "dpo_runs",
    "DPO: the default run, the ipo and hinge losses, label smoothing 0.2, and DPO beside RLHF at beta 0.1 and 0.01",
    {key: functools.partial(quoted_run, **params) for key, params in RUNS.items()},
)


@pytest.fixture(scope="module")
def text() -> str:
    return as_read("dpo")


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    return STUDY.results()


def minus(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")


def test_the_recorded_runs_are_what_the_demo_gives_now() -> None:
    """The default run: the sigmoid loss and the shared preference world (about 5 s). The other
    losses and the RLHF beside it differ from it only in the functions test_preference_losses
    checks against an independent computation, and RLHF's own runs are sampled by
    test_figures_rlhf."""
    STUDY.assert_current("default")


def test_the_default_run(text: str, runs: dict[str, dict]) -> None:
    run = runs["default"]
    last, summary, start = run["last"], run["summary"], run["start_true_reward"]
    assert (
        f"reads a loss of {last['loss']:.2f} and {percent(last['reward_accuracy'])} of pairs ordered right, "
        f"against means of {summary['loss']:.2f} and {percent(summary['reward_accuracy'])}.)"
    ) in text
    assert f"In a default run the first loss is {run['first_loss']:.4f}, exactly $\\ln 2$" in text
    assert f"The loss only falls to {summary['loss']:.2f}, yet the true reward climbs from {start:.1f} to " in text
    assert f"to {summary['true_reward']:.1f} at a KL of {summary['kl']:.1f} nats" in text
    chosen, rejected = run["last_ten"]["rewards_chosen"], run["last_ten"]["rewards_rejected"]
    assert chosen < 0 and rejected < 0 and abs(summary["reward_margin"] - (chosen - rejected)) < 1e-6
    assert f"(chosen to {minus(chosen)}, rejected to {minus(rejected)})" in text
    assert (
        f"the loss is down from 0.693 to {summary['loss']:.2f} and the implied rewards have drifted apart: "
        f"the chosen ones at {minus(chosen)}, the rejected at {minus(rejected)}, a margin of "
        f"{summary['reward_margin']:.2f}, with {percent(summary['reward_accuracy'])} of each batch's pairs"
    ) in text
    assert (
        f"The true reward rises from {start:.1f} to about {summary['true_reward']:.1f}, at a KL of {summary['kl']:.1f}."
    ) in text


def test_the_losses_and_label_smoothing(text: str, runs: dict[str, dict]) -> None:
    default = runs["default"]["summary"]
    ipo = runs["ipo"]["summary"]
    assert runs["ipo"]["first_loss"] == 25.0 and "$(0 - 1/(2 \\cdot 0.1))^2 = 25$" in text
    assert f"stays closer (KL {ipo['kl']:.2f}, true reward {ipo['true_reward']:.2f})" in text
    assert f"averages about {ipo['loss']:.0f} over the last 10 steps" in text
    assert f"(KL about {ipo['kl']:.2f} against {default['kl']:.1f})" in text
    assert (
        f"orders {percent(ipo['reward_accuracy'])} of each batch's pairs right "
        f"({percent(default['reward_accuracy'])} with the sigmoid loss)"
    ) in text
    assert f"with the true reward up to about {ipo['true_reward']:.2f}." in text
    hinge = runs["hinge"]["summary"]
    assert runs["hinge"]["first_loss"] == 1.0 and "Hinge starts at 1 and drifts further " in text
    assert f"(KL {hinge['kl']:.1f}, true reward {hinge['true_reward']:.1f})" in text
    smooth = runs["label smoothing 0.2"]["summary"]
    assert f"{default['true_reward']:.1f}" == f"{smooth['true_reward']:.1f}"
    assert f"same true reward, {smooth['true_reward']:.1f}, at only {smooth['kl']:.1f} nats" in text


def test_beta_and_the_comparison_with_rlhf(text: str, runs: dict[str, dict]) -> None:
    default, rlhf = runs["beside RLHF"]["summary"], runs["beside RLHF"]["rlhf"]
    assert f"RLHF reaches {rlhf['true_reward']:.1f} at KL {rlhf['kl']:.1f}, " in text
    assert f"DPO {default['true_reward']:.1f} at {default['kl']:.1f}." in text
    low, rlhf = runs["beside RLHF, beta 0.01"]["summary"], runs["beside RLHF, beta 0.01"]["rlhf"]
    assert f"At beta 0.01 RLHF collapses to {rlhf['true_reward']:.1f} (KL {rlhf['kl']:.1f}); " in text
    assert f"DPO ends at {low['true_reward']:.1f} (KL {low['kl']:.1f}), its loss still {low['loss']:.2f}" in text
    assert f"the KL averages about {low['kl']:.1f} against {default['kl']:.1f} at β = 0.1" in text
    assert f"ends lower (about {low['true_reward']:.1f} against {default['true_reward']:.1f})" in text


if __name__ == "__main__":
    STUDY.record()
