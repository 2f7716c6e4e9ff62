"""The backpropagation page's figures, from fresh runs of the demo: the default stall, the same
network with another init, and the spread over seeds 0 to 4 that the page quotes (about 30 s)."""

from __future__ import annotations

import statistics

import torch
import yaml

from app.demos.backpropagation import DEMO, Params
from app.demos.base import run_inline
from app.glossary.content import split_front_matter
from app.settings import ROOT

torch.set_num_threads(1)
SEEDS = range(5)


def page() -> str:
    front, body, _ = split_front_matter((ROOT / "content" / "training" / "backpropagation.md").read_text())
    answers = [exercise["answer"] for exercise in yaml.safe_load(front)["exercises"]]
    return " ".join(" ".join([body, *answers]).split())  # as read: YAML and line wraps undone


def run(**params: object) -> tuple[list[dict], dict, dict]:
    points, summary, control = run_inline(DEMO, Params(pace=0, **params))
    return points, summary, control.facts


def slopes(point: dict) -> list[float]:
    return [point[f"slope_{i}"] for i in range(1, 5)]


def spread(values: list[float], digits: int) -> str:
    return f"{statistics.mean(values):.{digits}f} \\pm {statistics.stdev(values):.{digits}f}"


def test_the_default_stall_and_its_cause() -> None:
    text = page()
    points, _, facts = run()
    first, at_200, last = points[0], points[200], points[-1]
    assert f"layer 1's gradient is $1.2 \\times 10^{{-4}}$, the output layer's {first['grad_norms'][-1]:.2f}" in text
    assert round(first["grad_norms"][0], 5) == 1.2e-4
    assert f"The loss stays at $\\ln 2$ ({last['loss']:.3f} at step 499" in text
    assert f"in 500 steps (accuracy {last['accuracy']:.0%})" in text
    assert max(at_200["grad_norms"]) < 5e-4 and "is below $5 \\times 10^{-4}$" in text
    low, high = min(at_200["grad_norms"]), max(at_200["grad_norms"])
    assert f"every layer's gradient is between {low:.4f} and {high:.4f}" in text
    assert f"it is {min(slopes(first)):.2f} to {max(slopes(first)):.2f}, the sigmoid's best" in text
    hidden_std = {round(s, 2) for s in facts["weight_std"][1:]}
    assert hidden_std == {0.14, 0.15} and "= 0.14$" in text  # 1/√(3·16) = 0.144, as drawn


def test_xavier_with_gain_4_learns() -> None:
    text = page()
    points, _, _ = run(init="xavier", gain=4)
    first, last = points[0], points[-1]
    assert f"Layer 1's gradient starts at {first['grad_norms'][0]:.2f} instead of 0.0001" in text
    assert f"the loss ends at {last['loss']:.3f} with {last['accuracy']:.0%} accuracy" in text
    assert f"(mean slopes {min(slopes(first)):.2f} to {max(slopes(first)):.2f})" in text
    assert f"({min(slopes(first)):.2f} to {max(slopes(first)):.2f} against 0.23 to 0.25)" in text


def test_the_seed_spreads() -> None:
    text = page()
    final = {
        name: [run(seed=seed, **params)[0][-1] for seed in SEEDS]
        for name, params in {"default": {}, "xavier": {"init": "xavier"}, "x4": {"init": "xavier", "gain": 4}}.items()
    }
    assert {round(p["loss"], 3) for p in final["default"]} == {0.693} and "on all of seeds 0 to 4" in text
    assert f"gives loss ${spread([p['loss'] for p in final['xavier']], 2)}$ over seeds 0 to 4" in text
    assert f"gives ${spread([p['loss'] for p in final['x4']], 3)}$ and at least" in text
    assert f"at least {min(p['accuracy'] for p in final['x4']):.0%} accuracy on every seed" in text
