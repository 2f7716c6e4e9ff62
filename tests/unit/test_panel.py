"""Panel controls are generated from each demo's params schema."""

from __future__ import annotations

import pytest

from app.demos import load_demos
from app.demos.base import Chart
from app.playground.http.panel import controls, demo_json, help_text


def by_name(demo: str) -> dict:
    return {c.name: c for c in controls(load_demos()[demo])}


def test_gradient_descent_controls() -> None:
    c = by_name("gradient-descent")
    assert (c["lr"].kind, c["lr"].min, c["lr"].max, c["lr"].live) == ("log", 1e-4, 10, True)
    assert c["function"].kind == "select"
    assert c["function"].options == ("quadratic", "rosenbrock", "saddle", "himmelblau")
    assert (c["steps"].kind, c["steps"].min, c["steps"].max, c["steps"].step) == ("log", 1, 5000, 1)
    assert c["momentum"].live and not c["function"].live


def test_lists_of_choices_become_checkboxes_and_booleans_a_checkbox() -> None:
    c = by_name("lora")
    assert c["targets"].kind == "checkboxes" and "attn_qkv" in c["targets"].options
    assert c["compare_full"].kind == "checkbox"


def test_slider_steps_land_on_round_defaults() -> None:
    c = by_name("preference-data")
    temperature = c["temperature"]
    assert temperature.step == 0.01
    assert round((temperature.default - temperature.min) / temperature.step, 9).is_integer()


def test_unbounded_or_wide_integers_get_a_number_box() -> None:
    assert by_name("dpo")["seed"].kind == "number"


def test_help_that_only_repeats_the_label_is_left_out() -> None:
    assert help_text("Start x", "Start x.") == ""
    assert help_text("Steps", "Number of updates.") == "Number of updates."
    assert by_name("gradient-descent")["x0"].help == ""


def test_counts_spanning_decades_get_a_log_slider_and_small_ranges_stay_linear() -> None:
    assert by_name("dpo")["n_pairs"].kind == "log"  # 16 to 20000
    assert by_name("gradient-descent")["x0"].kind == "range"


def test_a_preference_summary_is_the_mean_its_notes_say() -> None:
    """The notes' window is the one summarize averages: a mean of the last SUMMARY_WINDOW points
    computed here, and the best such mean for the peak."""
    from app.demos._preference import SUMMARY_WINDOW
    from app.ml.pref_world import summarize

    rewards = [float(i % 7) for i in range(40)]
    summary = summarize([{"true_reward": r} for r in rewards], ("true_reward",))
    assert summary["true_reward"] == sum(rewards[-SUMMARY_WINDOW:]) / SUMMARY_WINDOW
    windows = [sum(rewards[i : i + SUMMARY_WINDOW]) / SUMMARY_WINDOW for i in range(len(rewards) - SUMMARY_WINDOW + 1)]
    assert summary["true_reward_peak"] == max(windows)
    demos = load_demos()
    for name, keys in [("dpo", ("loss", "reward_margin", "kl", "reward_model_score")), ("rlhf", ("loss", "kl"))]:
        notes = demos[name].summary_notes
        assert all(notes[key] == f"mean of the last {SUMMARY_WINDOW} steps" for key in keys)
        assert notes["true_reward_peak"] == f"the best mean of {SUMMARY_WINDOW} steps in a row"


def test_seed_and_pace_follow_the_demos_own_knobs_and_precede_a_readers_text() -> None:
    """Training compute inherits seed and pace from the params it shares with scaling laws, ahead
    of its own width and steps; the panel lists them after."""
    names = list(by_name("training-compute"))
    assert names[-2:] == ["seed", "pace"] and names.index("width") < names.index("seed")
    assert list(by_name("fine-tuning"))[-4:] == ["seed", "pace", "text", "keep_text"]
    assert list(by_name("dpo"))[-2:] == ["pace", "seed"]  # as the demo declares them


def test_reward_against_kl_is_declared_a_scatter_and_only_off_the_step_axis() -> None:
    """KL is not a clock: a run's KL can fall back, so DPO's and RLHF's reward-against-KL charts are
    declared as dots (the panel and the SVG export read `marks`); a step chart cannot be one."""
    demos = load_demos()
    for name in ("dpo", "rlhf"):
        against_kl = [c for c in demo_json(demos[name])["charts"] if c["x"] == "kl"]
        assert [c["marks"] for c in against_kl] == ["dots"]
    assert {c.marks for c in demos["gradient-descent"].charts} == {"line"}
    with pytest.raises(ValueError, match="dots are for an x other than the step"):
        Chart("Loss", marks="dots")
    with pytest.raises(ValueError, match="dots are for an x other than the step"):
        Chart("Loss", x="flops", x_choices=("step",), marks="dots")
