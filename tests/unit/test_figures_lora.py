"""The LoRA page's forgetting figures, from a fresh default run with compare_full (about a minute)."""

from __future__ import annotations

import torch

from app.demos.base import run_inline
from app.demos.lora import DEMO, Params
from app.glossary.content import split_front_matter
from app.ml import charlm
from app.settings import ROOT
from tests.unit import page_figures

torch.set_num_threads(1)


def test_task_a_loss_on_every_character_and_on_those_task_b_keeps() -> None:
    _, body, _ = split_front_matter((ROOT / "content" / "training" / "lora.md").read_text())
    text = " ".join(body.split())
    points, summary, control = run_inline(DEMO, Params(pace=0, compare_full=True))
    first, final = points[0], summary["final"]
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
    facts = control.facts
    lora_params, full_params = facts["trainable_params"]["lora"], facts["trainable_params"]["full"]
    assert f"{lora_params:,} trainable parameters, {facts['trainable_fraction']:.1%} of the " in text
    assert f"of the {facts['total_params']:,} in the model" in text and f"width 64, {full_params:,} weights)" in text
    assert f"Task-B loss falls from {first['loss']:.1f} to about {final['lora']['loss']:.1f}" in text
    kilobytes = {name: f"{size / 1000:.0f} KB" for name, size in facts["optimizer_state_bytes"].items()}
    assert f"Adam's state grows from {kilobytes['lora']} to {kilobytes['full']}" in text
    assert f"full fine-tuning reaches {final['full']['loss']:.2f} on task B" in text
    energy = summary["singular_values"]
    share, even = energy["energy_top_r"], energy["energy_top_r_if_even"]
    assert f"the top 4 of 64 directions hold {share:.0%} of the energy ({even:.0%} if spread evenly)" in text


def test_the_exercises() -> None:
    """Three 150-step runs, one of them with full fine-tuning beside the adapters (about 20 s)."""
    text = page_figures.as_read("lora")
    points, four, control = run_inline(DEMO, Params(pace=0, rank=4, steps=150))
    trainable = control.facts["trainable_params"]["lora"]
    lora = four["final"]["lora"]
    assert f"The task-B loss falls from {points[0]['loss']:.1f} to about {lora['loss']:.2f}, " in text
    assert f"train {trainable} parameters, {control.facts['trainable_fraction']:.1%} of the total" in text
    assert f"rises from {points[0]['loss_a']:.2f} to about {lora['loss_a']:.1f}: even a low-rank" in text
    _, one, control = run_inline(DEMO, Params(pace=0, rank=1, steps=150))
    rank1 = one["final"]["lora"]
    assert f"With {control.facts['trainable_params']['lora']} trainable parameters " in text
    share = f"{control.facts['trainable_fraction']:.1%}"
    assert f"({share}) the task-B loss only reaches about {rank1['loss']:.1f} instead of {lora['loss']:.2f}" in text
    assert f"Task A's loss ends a little lower ({rank1['loss_a']:.1f})" in text
    _, both, control = run_inline(DEMO, Params(pace=0, rank=4, steps=150, compare_full=True))
    full = both["final"]["full"]
    assert both["final"]["lora"] == four["final"]["lora"]  # the full model beside it changes nothing of LoRA's run
    assert f"Full fine-tuning ({control.facts['trainable_params']['full']} trainable parameters)" in text
    assert f"to a task-B loss of about {full['loss']:.2f} against {lora['loss']:.2f}" in text
    assert f"task A's loss ends at {full['loss_a']:.1f} against {lora['loss_a']:.1f} for LoRA" in text


def test_other_ranks() -> None:
    """Three default-length runs at ranks 1 and 16 (about 30 s)."""
    text = page_figures.as_read("lora")
    ends = {}
    for name, params in {"1": {"rank": 1}, "16": {"rank": 16}, "rs": {"rank": 16, "use_rslora": True}}.items():
        _, summary, control = run_inline(DEMO, Params(pace=0, **params))
        ends[name] = (summary["final"]["lora"]["loss"], control.facts["trainable_fraction"])
    assert abs(ends["1"][0] - 1.5) < 0.1 and abs(ends["16"][0] - 0.5) < 0.1
    assert f"Rank 1 ({ends['1'][1]:.1%} trainable) ends near 1.5; rank 16 ({ends['16'][1]:.0%}) near 0.5, " in text
    assert f"or {ends['rs'][0]:.2f} with **rsLoRA scaling** ticked" in text
