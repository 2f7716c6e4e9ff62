"""The four preference playgrounds, run in-process with fewer steps than their defaults."""

from __future__ import annotations

import math

import pytest
import torch
from pydantic import ValidationError

from app.demos import load_demos
from app.demos.base import Demo, InlineControl, Point, run_inline

torch.set_num_threads(1)

NAMES = ("preference-data", "reward-model", "rlhf", "dpo")


@pytest.fixture(scope="module")
def demos() -> dict[str, Demo]:
    return load_demos()


def run(demo: Demo, **params: object) -> tuple[list[Point], dict, InlineControl]:
    return run_inline(demo, demo.Params(pace=0, **params))


def mean(points: list[Point], key: str) -> float:
    return sum(p[key] for p in points) / len(points)


@pytest.mark.parametrize("name", NAMES)
def test_declaration(demos: dict[str, Demo], name: str) -> None:
    demo = demos[name]
    assert demo.terms == (name,)
    assert demo.blurb
    fields = demo.Params.model_fields
    assert demo.live <= fields.keys()
    for field_name, schema in demo.Params.model_json_schema()["properties"].items():
        if schema.get("type") in {"integer", "number"}:  # every number is bounded on both sides
            assert {"minimum", "exclusiveMinimum"} & schema.keys(), field_name
            assert {"maximum", "exclusiveMaximum"} & schema.keys(), field_name


@pytest.mark.parametrize("name", NAMES)
def test_runs_deterministically_under_a_seed(demos: dict[str, Demo], name: str) -> None:
    first, summary, control = run(demos[name], steps=5, seed=3)
    again, _, _ = run(demos[name], steps=5, seed=3)
    other, _, _ = run(demos[name], steps=5, seed=4)
    assert [p["step"] for p in first] == list(range(5))
    assert all(math.isfinite(p["loss"]) for p in first)
    assert first == again and first != other
    for chart in demos[name].charts:  # every chart plots keys that the points carry
        assert {chart.x, *chart.y} <= first[-1].keys()
    assert "true_reward_description" in control.facts and "true_reward_description" in summary
    assert summary


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("dpo", {"beta": 0}),
        ("dpo", {"beta": -0.1}),
        ("dpo", {"label_smoothing": 0.5}),
        ("dpo", {"label_smoothing": -0.01}),
        ("dpo", {"loss_type": "kto"}),
        ("dpo", {"gamma": 1.0}),
        ("rlhf", {"beta": 0}),
        ("rlhf", {"beta": 11}),
        ("preference-data", {"noise": 0.6}),
        ("preference-data", {"temperature": 0}),
        ("reward-model", {"lr": 0}),
        ("reward-model", {"n_pairs": 8}),
    ],
)
def test_bad_params_are_rejected(demos: dict[str, Demo], name: str, bad: dict) -> None:
    with pytest.raises(ValidationError):
        demos[name].parse(bad)


# --- preference-data -------------------------------------------------------------------------


def test_preference_data_points(demos: dict[str, Demo]) -> None:
    points, summary, _ = run(demos["preference-data"], steps=20, pairs_per_step=64, noise=0.0)
    assert points[-1]["n_pairs"] == 20 * 64
    assert summary["flipped_rate"] == 0.0
    assert 0.6 < summary["agreement_rate"] < 0.8  # even a noiseless annotator is a Bradley–Terry coin
    for point in points:
        assert 1 <= len(point["pairs"]) <= 4
        for pair in point["pairs"]:
            assert pair.keys() == {"prompt", "chosen", "rejected", "r_chosen", "r_rejected", "flipped"}
            assert len(pair["chosen"].split()) == len(pair["rejected"].split())


def test_noise_is_live_and_pulls_agreement_to_one_half(demos: dict[str, Demo]) -> None:
    demo = demos["preference-data"]
    control = InlineControl(demo.Params(pace=0, steps=40, pairs_per_step=256, temperature=0.05, noise=0.0))
    steps = demo.steps(control.params, control)
    decisive = [next(steps) for _ in range(20)]
    control.change(noise=0.5)
    coin_flips = [next(steps) for _ in range(20)]
    assert mean(decisive, "agreement_rate") > 0.99 and mean(decisive, "flipped_rate") == 0
    assert mean(coin_flips, "agreement_rate") == pytest.approx(0.5, abs=0.03)
    assert mean(coin_flips, "flipped_rate") == pytest.approx(0.5, abs=0.03)
    assert mean(coin_flips, "loss") > mean(decisive, "loss") + 1


# --- reward-model ----------------------------------------------------------------------------


def test_reward_model_beats_chance_and_degrades_with_noise(demos: dict[str, Demo]) -> None:
    clean = [run(demos["reward-model"], steps=60, noise=0.0, seed=s)[1] for s in range(3)]
    noisy = [run(demos["reward-model"], steps=60, noise=0.45, seed=s)[1] for s in range(3)]
    clean_accuracy = sum(s["accuracy"] for s in clean) / 3
    noisy_accuracy = sum(s["accuracy"] for s in noisy) / 3
    assert clean_accuracy > 0.65
    assert noisy_accuracy < clean_accuracy - 0.1
    assert sum(s["correlation"] for s in clean) / 3 > sum(s["correlation"] for s in noisy) / 3 + 0.15


def test_reward_model_starts_at_chance_and_loss_falls(demos: dict[str, Demo]) -> None:
    points, _, _ = run(demos["reward-model"], steps=60, noise=0.0)
    assert points[0]["accuracy"] == 0.5 and points[0]["loss"] == pytest.approx(math.log(2), abs=1e-6)
    assert points[-1]["loss"] < points[0]["loss"] - 0.01


# --- rlhf ------------------------------------------------------------------------------------


def test_rlhf_lr_and_beta_are_live(demos: dict[str, Demo]) -> None:
    demo = demos["rlhf"]
    control = InlineControl(demo.Params(pace=0, steps=10))
    steps = demo.steps(control.params, control)
    before = [next(steps) for _ in range(5)]
    assert control.facts["algorithm"] == "reinforce-baseline"
    control.change(lr=0.01, beta=5.0)
    after = [next(steps) for _ in range(5)]
    assert {p["lr"] for p in before} == {1e-3} and {p["lr"] for p in after} == {0.01}
    # The loss is the negated objective, r − β·KL, at the β in force.
    last = after[-1]
    assert last["loss"] == pytest.approx(-(last["reward_model_score"] - 5.0 * last["kl"]), abs=1e-5)


# --- dpo -------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss_type", ["sigmoid", "ipo", "hinge"])
def test_first_dpo_point_is_the_reference(demos: dict[str, Demo], loss_type: str) -> None:
    points, _, _ = run(demos["dpo"], steps=2, loss_type=loss_type, beta=0.1)
    first = points[0]
    expected = {"sigmoid": math.log(2), "ipo": (1 / (2 * 0.1)) ** 2, "hinge": 1.0}[loss_type]
    assert first["loss"] == pytest.approx(expected, abs=1e-6)
    assert first["kl"] == 0.0 and first["reward_margin"] == 0.0
    assert first["rewards_chosen"] == first["rewards_rejected"] == 0.0


def test_dpo_reward_accuracy_and_margin_rise_on_clean_data(demos: dict[str, Demo]) -> None:
    points, summary, _ = run(demos["dpo"], noise=0.0, n_pairs=200, steps=100, lr=3e-3)
    early, late = points[1:21], points[-20:]
    assert mean(late, "reward_accuracy") > max(0.75, mean(early, "reward_accuracy") + 0.05)
    assert mean(late, "reward_margin") > mean(early, "reward_margin") + 0.3
    assert mean(late, "loss") < math.log(2) - 0.1
    assert summary["true_reward"] > mean(points[:10], "true_reward") + 0.5


def test_compare_rlhf_adds_a_series_and_leaves_dpo_alone(demos: dict[str, Demo]) -> None:
    alone, _, _ = run(demos["dpo"], steps=30, beta=0.01)
    both, summary, _ = run(demos["dpo"], steps=30, beta=0.01, compare_rlhf=True)
    dpo = [p for p in both if p["series"] == "dpo"]
    rlhf = [p for p in both if p["series"] == "rlhf"]
    assert [p["step"] for p in rlhf] == [p["step"] for p in dpo] == list(range(30))
    assert [{k: v for k, v in p.items() if k != "series"} for p in dpo] == alone
    assert all({"true_reward", "kl", "reward_model_score", "loss", "lr"} <= p.keys() for p in rlhf)
    assert "rlhf" in summary and summary["rlhf"]["examples"]
