"""Every figure the DPO page quotes from its playground, from fresh runs: the default, beta 0.01,
the ipo and hinge losses, label smoothing 0.2, and the comparison with RLHF at beta 0.1 and 0.01.
The page quotes the run's summary (means over the last 10 steps), and the mean of the first 10
steps for where a curve starts."""

from __future__ import annotations

import statistics
from typing import Any

import torch

from app.demos.base import run_inline
from app.demos.dpo import DEMO, Params
from tests.unit.page_figures import as_read, percent

torch.set_num_threads(1)


def run(**params: Any) -> tuple[list[dict], dict]:
    points, summary, _ = run_inline(DEMO, Params(pace=0, **params))
    return points, summary


def last_ten(points: list[dict], key: str) -> float:
    return statistics.mean(point[key] for point in points[-10:])


def minus(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")


def test_the_default_run() -> None:
    text = as_read("dpo")
    points, summary = run()
    first, last = points[0], points[-1]
    start = statistics.mean(point["true_reward"] for point in points[:10])
    assert f"a loss of {last['loss']:.2f} and {percent(last['reward_accuracy'])} of pairs ordered right, " in text
    assert f"against means of {summary['loss']:.2f} and {percent(summary['reward_accuracy'])}" in text
    assert f"In a default run the first loss is {first['loss']:.4f}, exactly $\\ln 2$" in text
    assert f"The loss only falls to {summary['loss']:.2f}, yet the true reward climbs from {start:.1f} to " in text
    assert f"to {summary['true_reward']:.1f} at a KL of {summary['kl']:.1f} nats" in text
    chosen, rejected = last_ten(points, "rewards_chosen"), last_ten(points, "rewards_rejected")
    assert chosen < 0 and rejected < 0 and abs(summary["reward_margin"] - (chosen - rejected)) < 1e-6
    assert f"(chosen to {minus(chosen)}, rejected to {minus(rejected)})" in text
    assert f"the loss is down from 0.693 to {summary['loss']:.2f}" in text
    assert f"the chosen ones at {minus(chosen)}, the rejected at {minus(rejected)}, " in text
    assert f"a margin of {summary['reward_margin']:.2f}, with {percent(summary['reward_accuracy'])} of each" in text
    assert f"The true reward rises from {start:.1f} to about {summary['true_reward']:.1f}, " in text
    assert f"to about {summary['true_reward']:.1f}, at a KL of {summary['kl']:.1f}." in text


def test_the_losses_and_label_smoothing() -> None:
    text = as_read("dpo")
    _, default = run()
    points, ipo = run(loss_type="ipo")
    assert points[0]["loss"] == 25.0 and "$(0 - 1/(2 \\cdot 0.1))^2 = 25$" in text
    assert f"stays closer (KL {ipo['kl']:.2f}, true reward {ipo['true_reward']:.2f})" in text
    assert f"averages about {ipo['loss']:.0f} over the last 10 steps" in text
    assert f"(KL about {ipo['kl']:.2f} against {default['kl']:.1f})" in text
    assert f"orders {percent(ipo['reward_accuracy'])} of each batch's pairs right " in text
    assert f"({percent(default['reward_accuracy'])} with the sigmoid loss)" in text
    assert f"with the true reward up to about {ipo['true_reward']:.2f}" in text
    points, hinge = run(loss_type="hinge")
    assert points[0]["loss"] == 1.0 and "Hinge starts at 1 and drifts further " in text
    assert f"(KL {hinge['kl']:.1f}, true reward {hinge['true_reward']:.1f})" in text
    _, smooth = run(label_smoothing=0.2)
    assert f"{default['true_reward']:.1f}" == f"{smooth['true_reward']:.1f}"
    assert f"same true reward, {smooth['true_reward']:.1f}, at only {smooth['kl']:.1f} nats" in text


def test_beta_and_the_comparison_with_rlhf() -> None:
    text = as_read("dpo")
    _, default = run(compare_rlhf=True)
    rlhf = default["rlhf"]
    assert f"RLHF reaches {rlhf['true_reward']:.1f} at KL {rlhf['kl']:.1f}, " in text
    assert f"DPO {default['true_reward']:.1f} at {default['kl']:.1f}." in text
    _, low = run(compare_rlhf=True, beta=0.01)
    rlhf = low["rlhf"]
    assert f"At beta 0.01 RLHF collapses to {rlhf['true_reward']:.1f} (KL {rlhf['kl']:.1f}); " in text
    assert f"DPO ends at {low['true_reward']:.1f} (KL {low['kl']:.1f}), its loss still {low['loss']:.2f}" in text
    assert f"the KL averages about {low['kl']:.1f} against {default['kl']:.1f} at β = 0.1" in text
    assert f"ends lower (about {low['true_reward']:.1f} against {default['true_reward']:.1f})" in text
