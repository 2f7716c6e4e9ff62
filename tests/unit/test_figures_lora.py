"""The LoRA page's figures, tied to runs of the demo: the default run with full fine-tuning beside
it, the exercises' three 150-step runs and three default-length runs at other ranks (about two
minutes of one thread, recorded in tests/recorded and sampled here; record again with
`python -m tests.unit.test_figures_lora`)."""

from __future__ import annotations

import functools
from typing import Any

import pytest
import torch

from app.demos.base import run_inline
from app.demos.lora import DEMO, Params
from app.ml import charlm
from tests.unit import page_figures

torch.set_num_threads(1)
FACTS = ("trainable_params", "trainable_fraction", "total_params", "optimizer_state_bytes")


def lora_run(**params: Any) -> dict:
    """The first point's losses, the final points by series, the facts and the singular-value
    energy the page quotes."""
    points, summary, control = run_inline(DEMO, Params(pace=0, **params))
    first = {key: points[0][key] for key in ("loss", "loss_a", "loss_a_kept")}
    energy = summary.get("singular_values", {})
    return {
        "first": first,
        "final": summary["final"],
        "facts": {key: control.facts[key] for key in FACTS},
        "energy": {key: energy[key] for key in ("energy_top_r", "energy_top_r_if_even") if key in energy},
    }


RUNS = {
    "default, beside full fine-tuning": {"compare_full": True},
    "rank 4, 150 steps": {"rank": 4, "steps": 150},
    "rank 1, 150 steps": {"rank": 1, "steps": 150},
    "rank 4, 150 steps, beside full fine-tuning": {"rank": 4, "steps": 150, "compare_full": True},
    "rank 1": {"rank": 1},
    "rank 16": {"rank": 16},
    "rank 16, rsLoRA": {"rank": 16, "use_rslora": True},
}
STUDY = page_figures.RecordedStudy(
    "lora_runs",
    "LoRA: the default run beside full fine-tuning, the exercises' runs and the other ranks the page quotes",
    {key: functools.partial(lora_run, **params) for key, params in RUNS.items()},
)


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    return STUDY.results()


@pytest.fixture(scope="module")
def text() -> str:
    return page_figures.as_read("lora")


def test_the_recorded_runs_are_what_the_demo_gives_now() -> None:
    STUDY.assert_current("rank 1, 150 steps")


def test_task_a_loss_on_every_character_and_on_those_task_b_keeps(text: str, runs: dict[str, dict]) -> None:
    run = runs["default, beside full fine-tuning"]
    first, final, facts = run["first"], run["final"], run["facts"]
    _, y = charlm.eval_batch_a()
    changed = 1 - charlm.kept_in_task_b(y).float().mean().item()
    assert f"at a, e, i and o ({changed:.0%} of the characters)" in text
    assert (
        f"LoRA takes it from {first['loss_a_kept']:.2f} to {final['lora']['loss_a_kept']:.2f}, "
        f"full fine-tuning to only {final['full']['loss_a_kept']:.2f} (seed 0" in text
    )
    assert f"task-A loss rises from {first['loss_a']:.2f} to {final['lora']['loss_a']:.1f}" in text
    assert f"task A ends at {final['full']['loss_a']:.1f}" in text
    lora, full = final["lora"], final["full"]
    assert full["loss_a"] > lora["loss_a"] and full["loss_a_kept"] < lora["loss_a_kept"]

    # The default run's counts, memory and end points (LoRA's series is the same with compare_full).
    lora_params, full_params = facts["trainable_params"]["lora"], facts["trainable_params"]["full"]
    assert f"{lora_params:,} trainable parameters, {facts['trainable_fraction']:.1%} of the " in text
    assert f"of the {facts['total_params']:,} in the model" in text and f"width 64, {full_params:,} weights)" in text
    assert f"Task-B loss falls from {first['loss']:.1f} to about {final['lora']['loss']:.1f}" in text
    kilobytes = {name: f"{size / 1000:.0f} KB" for name, size in facts["optimizer_state_bytes"].items()}
    assert f"Adam's state grows from {kilobytes['lora']} to {kilobytes['full']}" in text
    assert f"full fine-tuning reaches {final['full']['loss']:.2f} on task B" in text
    share, even = run["energy"]["energy_top_r"], run["energy"]["energy_top_r_if_even"]
    assert f"the top 4 of 64 directions hold {share:.0%} of the energy ({even:.0%} if spread evenly)" in text


def test_the_exercises(text: str, runs: dict[str, dict]) -> None:
    four = runs["rank 4, 150 steps"]
    trainable, fraction = four["facts"]["trainable_params"]["lora"], four["facts"]["trainable_fraction"]
    lora = four["final"]["lora"]
    assert f"The task-B loss falls from {four['first']['loss']:.1f} to about {lora['loss']:.2f}, " in text
    assert f"train {trainable} parameters, {fraction:.1%} of the total" in text
    assert f"rises from {four['first']['loss_a']:.2f} to about {lora['loss_a']:.1f}: even a low-rank" in text
    one = runs["rank 1, 150 steps"]
    rank1 = one["final"]["lora"]
    assert f"With {one['facts']['trainable_params']['lora']} trainable parameters " in text
    share = f"{one['facts']['trainable_fraction']:.1%}"
    assert f"({share}) the task-B loss only reaches about {rank1['loss']:.1f} instead of {lora['loss']:.2f}" in text
    assert f"Task A's loss ends a little lower ({rank1['loss_a']:.1f})" in text
    both = runs["rank 4, 150 steps, beside full fine-tuning"]
    full = both["final"]["full"]
    assert both["final"]["lora"] == four["final"]["lora"]  # the full model beside it changes nothing of LoRA's run
    assert f"Full fine-tuning ({both['facts']['trainable_params']['full']} trainable parameters)" in text
    assert f"to a task-B loss of about {full['loss']:.2f} against {lora['loss']:.2f}" in text
    assert f"task A's loss ends at {full['loss_a']:.1f} against {lora['loss_a']:.1f} for LoRA" in text


def test_other_ranks(text: str, runs: dict[str, dict]) -> None:
    ends = {
        name: (runs[key]["final"]["lora"]["loss"], runs[key]["facts"]["trainable_fraction"])
        for name, key in {"1": "rank 1", "16": "rank 16", "rs": "rank 16, rsLoRA"}.items()
    }
    assert abs(ends["1"][0] - 1.5) < 0.1 and abs(ends["16"][0] - 0.5) < 0.1
    assert f"Rank 1 ({ends['1'][1]:.1%} trainable) ends near 1.5; rank 16 ({ends['16'][1]:.0%}) near 0.5, " in text
    assert f"or {ends['rs'][0]:.2f} with **rsLoRA scaling** ticked" in text


if __name__ == "__main__":
    STUDY.record()
