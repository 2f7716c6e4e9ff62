"""The backpropagation page's figures, tied to runs of the demo: the default stall, the same
network with another init, and the spread over seeds 0 to 4 that the page quotes (15 runs,
recorded in tests/recorded and sampled here; record again with
`python -m tests.unit.test_figures_backpropagation`)."""

from __future__ import annotations

import functools
import statistics

import pytest
import torch
import yaml

from app.demos.backpropagation import DEMO, Params
from app.demos.base import run_inline
from app.glossary.content import split_front_matter
from app.settings import ROOT
from tests.unit.page_figures import RecordedStudy

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


def quoted_run(seed: int, **params: object) -> dict:
    """One run reduced to what the page quotes: its first point's gradient norms and sigmoid slopes,
    every layer's gradient norm at step 200, its last loss and accuracy, and the initial weights' spread."""
    points, _, facts = run(seed=seed, **params)
    first, at_200, last = points[0], points[200], points[-1]
    return {
        "first": {"grad_norms": first["grad_norms"], "slopes": slopes(first)},
        "grad_norms_200": at_200["grad_norms"],
        "last": {key: last[key] for key in ("loss", "accuracy")},
        "weight_std": facts["weight_std"],
    }


INITS = {"default": {}, "xavier": {"init": "xavier"}, "xavier, gain 4": {"init": "xavier", "gain": 4}}
STUDY = RecordedStudy(
    "backpropagation_runs",
    "backpropagation: the default init, Xavier, and Xavier with gain 4, at seeds 0-4 (500 steps each)",
    {
        f"{init}, seed {seed}": functools.partial(quoted_run, seed, **params)
        for init, params in INITS.items()
        for seed in SEEDS
    },
)


@pytest.fixture(scope="module")
def text() -> str:
    return page()


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    return STUDY.results()


def test_the_recorded_runs_are_what_the_demo_gives_now() -> None:
    """Xavier with gain 4 at seed 0 (under a second): the network, its init, the full-batch updates
    and the gradient norms; the other runs differ from it only in their init and seed."""
    STUDY.assert_current("xavier, gain 4, seed 0")


def test_the_default_stall_and_its_cause(text: str, runs: dict[str, dict]) -> None:
    run = runs["default, seed 0"]
    first, at_200, last = run["first"], run["grad_norms_200"], run["last"]
    assert f"layer 1's gradient is $1.2 \\times 10^{{-4}}$, the output layer's {first['grad_norms'][-1]:.2f}" in text
    assert round(first["grad_norms"][0], 5) == 1.2e-4
    assert f"The loss stays at $\\ln 2$ ({last['loss']:.3f} at step 499" in text
    assert f"in 500 steps (accuracy {last['accuracy']:.0%})" in text
    assert max(at_200) < 5e-4 and "is below $5 \\times 10^{-4}$" in text
    assert f"every layer's gradient is between {min(at_200):.4f} and {max(at_200):.4f}" in text
    assert f"it is {min(first['slopes']):.2f} to {max(first['slopes']):.2f}, the sigmoid's best" in text
    hidden_std = {round(s, 2) for s in run["weight_std"][1:]}
    assert hidden_std == {0.14, 0.15} and "= 0.14$" in text  # 1/√(3·16) = 0.144, as drawn


def test_xavier_with_gain_4_learns(text: str, runs: dict[str, dict]) -> None:
    run = runs["xavier, gain 4, seed 0"]
    first, last = run["first"], run["last"]
    low, high = min(first["slopes"]), max(first["slopes"])
    assert f"Layer 1's gradient starts at {first['grad_norms'][0]:.2f} instead of 0.0001" in text
    assert f"the loss ends at {last['loss']:.3f} with {last['accuracy']:.0%} accuracy" in text
    assert f"(mean slopes {low:.2f} to {high:.2f})" in text
    assert f"({low:.2f} to {high:.2f} against 0.23 to 0.25)" in text


def test_the_seed_spreads(text: str, runs: dict[str, dict]) -> None:
    final = {init: [runs[f"{init}, seed {seed}"]["last"] for seed in SEEDS] for init in INITS}
    assert {round(p["loss"], 3) for p in final["default"]} == {0.693} and "on all of seeds 0 to 4" in text
    assert f"gives loss ${spread([p['loss'] for p in final['xavier']], 2)}$ over seeds 0 to 4" in text
    assert f"gives ${spread([p['loss'] for p in final['xavier, gain 4']], 3)}$ and at least" in text
    assert f"at least {min(p['accuracy'] for p in final['xavier, gain 4']):.0%} accuracy on every seed" in text


if __name__ == "__main__":
    STUDY.record()
