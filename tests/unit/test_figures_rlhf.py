"""Every figure the RLHF page quotes from its playground, from fresh runs at beta 0.1 (the default),
0.01, 0.3 and 1.0 and with beta switched from 0.01 to 0.3 at step 150. The page quotes ten-step
means, as the run's summary gives them: one batch of 64 samples is noisy."""

from __future__ import annotations

import statistics

import torch

from app.demos.base import InlineControl, run_inline
from app.demos.rlhf import DEMO, Params
from tests.unit.page_figures import as_read

torch.set_num_threads(1)
WINDOW = 10


def mean(points: list[dict], key: str, start: int = 0) -> float:
    """The mean of `key` over the ten steps from `start`."""
    return statistics.mean(point[key] for point in points[start : start + WINDOW])


def test_the_default_run() -> None:
    text = as_read("rlhf")
    points, summary, control = run_inline(DEMO, Params(pace=0))
    assert f"held-out accuracy {control.facts['reward_model_accuracy']:.2f})" in text
    start = {key: mean(points, key) for key in ("true_reward", "reward_model_score")}
    assert f"the true reward rises from {start['true_reward']:.1f} to about {summary['true_reward']:.1f} and " in text
    score = f"from {start['reward_model_score']:.2f} to {summary['reward_model_score']:.2f}"
    assert f"the reward-model score {score}, at a KL of about {summary['kl']:.1f} nats" in text
    assert f"the reward model's score climbs {score.replace(' to ', ' to about ')} and the KL" in text
    assert f"to the reference to about {summary['kl']:.1f}" in text
    windows = [mean(points, "true_reward", i) for i in range(len(points) - WINDOW + 1)]
    best = max(range(len(windows)), key=windows.__getitem__)
    assert windows[best] == summary["true_reward_peak"]
    assert f"rises from {start['true_reward']:.1f} to a best of {windows[best]:.2f} (steps {best} to " in text
    assert f"(steps {best} to {best + WINDOW - 1}) and ends at {summary['true_reward']:.2f}" in text
    # The control: is the dip from the best window a decline, or the noise of picking the best of many?
    plateau = [point["true_reward"] for point in points[150:]]
    average, spread = statistics.mean(plateau), statistics.stdev(plateau)
    assert f"from step 150 on the true reward averages {average:.2f} (one step varies by {spread:.2f})" in text
    above, below = windows[best] - average, average - summary["true_reward"]
    assert f"lies {above:.2f} above that average, the end {below:.2f} below it" in text


def test_beta_settings() -> None:
    text = as_read("rlhf")
    points, low, _ = run_inline(DEMO, Params(pace=0, beta=0.01))
    windows = [mean(points, "true_reward", i) for i in range(len(points) - WINDOW + 1)]
    assert abs(low["true_reward_peak"] - 2.5) < 0.05 and 35 <= windows.index(low["true_reward_peak"]) <= 60
    assert f"then falls to {low['true_reward']:.1f} while the reward-model score keeps climbing to " in text
    assert f"climbing to {low['reward_model_score']:.2f} and the KL reaches {low['kl']:.1f}" in text
    assert f"climbs higher ({low['reward_model_score']:.2f}) and the KL to about {low['kl']:.1f}" in text
    assert f"the true reward falls to about {low['true_reward']:.2f} after peaking near 2.5" in text
    responses = [example["response"] for example in low["examples"]]
    assert responses == ["7 7 7 7 7 7"] * 3 + ["7 7 5 7 7 7"]
    assert "three of the four samples it ends with are '7 7 7 7 7 7' (the fourth '7 7 5 7 7 7')" in text

    _, middle, _ = run_inline(DEMO, Params(pace=0, beta=0.3))
    assert f"beta 0.3: the KL stays near {middle['kl']:.1f} and the true reward at about " in text
    assert f"at about {middle['true_reward']:.1f}." in text

    points, high, _ = run_inline(DEMO, Params(pace=0, beta=1.0))
    assert f"the KL ends at {high['kl']:.2f} (no single batch above {max(p['kl'] for p in points):.2f})" in text
    assert f"score only reaches about {high['reward_model_score']:.2f} and the true reward ends near " in text
    start = mean(points, "true_reward")
    assert f"ends near {high['true_reward']:.2f}, close to the {start:.2f} it started from" in text


def test_switching_beta_mid_run() -> None:
    text = as_read("rlhf")
    p = Params(pace=0, beta=0.01)
    control = InlineControl(p)
    points = []
    steps = DEMO.steps(p, control)
    while True:
        try:
            points.append(next(steps))
        except StopIteration as done:
            summary = done.value
            break
        if points[-1]["step"] == 149:
            control.change(beta=0.3)
    _, steady, _ = run_inline(DEMO, Params(pace=0, beta=0.3))
    before, later = mean(points, "kl", 140), mean(points, "kl", 200)
    assert abs(later - 1) < 0.2 and f"within 60 steps the KL falls from {before:.1f} to about 1, " in text
    assert f"then settles at {summary['kl']:.2f}, as if the run had been at 0.3 all along ({steady['kl']:.2f})" in text
    recovers = f"from {mean(points, 'true_reward', 150):.1f} to {summary['true_reward']:.1f}."
    assert f"the true reward recovers {recovers}" in text
