"""Instruction tuning's held-out-task mode: the held-out task is never trained on, and is scored zero-shot."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from app.demos.base import run_inline
from app.demos.instruction_tuning import DEMO, Params
from app.ml import texts
from app.training.instruction_tuning import EVAL_WORDS, held_out_set, layout, rule_agreement, sample_examples

torch.set_num_threads(1)


def instruction_of(prompt: str) -> str:
    return prompt.split(":")[0].strip()


def test_no_training_example_is_of_the_held_out_task() -> None:
    p = Params(tasks=["first", "vowels"], held_out_task="last", phrasings=6)
    width, _ = layout([*p.tasks, p.held_out_task])
    gen = torch.Generator().manual_seed(0)
    seen = [example for _ in range(100) for example in sample_examples(p, gen, width)]
    trained = {phrasing for task in p.tasks for phrasing in texts.PHRASINGS[task]}
    held_out = set(texts.PHRASINGS["last"])
    assert {instruction_of(prompt) for prompt, _ in seen} <= trained
    assert not {instruction_of(prompt) for prompt, _ in seen} & held_out
    # Each answer is what a trained task's rule gives for the word asked about.
    for prompt, answer in seen:
        word = prompt.split(":")[1].split("=")[0].strip()
        task = next(t for t in p.tasks if instruction_of(prompt) in texts.PHRASINGS[t])
        assert answer == f" {texts.TASKS[task](word)}\n"


def test_the_held_out_set_asks_the_held_out_task_with_every_phrasing() -> None:
    width, _ = layout(["first", "last"])
    rows = held_out_set("last", width)
    assert [instruction_of(prompt) for prompt, _ in rows[:8]] == texts.PHRASINGS["last"]
    assert [answer for _, answer in rows] == [f" {w[-1]}\n" for w in EVAL_WORDS]


def test_rule_agreement_counts_coincidences() -> None:
    words = ["noon", "lamp", "ever", "ants"]
    # first-letter answers for "last": right where a word starts and ends with the same letter.
    assert rule_agreement("last", ["first"], words) == 1 / 4
    # vowels answers a digit, never a letter: no coincidence; the best trained rule counts.
    assert rule_agreement("last", ["vowels", "first"], words) == 1 / 4
    assert rule_agreement("sort", ["reverse"], ["abba", "cats"]) == 0


def test_a_held_out_task_that_is_trained_on_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        DEMO.parse({"tasks": ["first", "last"], "held_out_task": "last"})
    assert info.value.errors()[0]["loc"] == ("held_out_task",)


def test_a_held_out_run_reports_the_task_beside_its_coincidences() -> None:
    points, summary, control = run_inline(DEMO, Params(pace=0, tasks=["first"], held_out_task="last", steps=3))
    by_rule = sum(w[0] == w[-1] for w in EVAL_WORDS) / len(EVAL_WORDS)
    assert control.facts["held_out_by_rule"] == by_rule == summary["held_out_by_rule"]
    for p in points:
        assert p["held_out_by_rule"] == by_rule
        assert {"acc_held_out", "held_out_loss", "acc_first"} <= p.keys()
    assert "acc_held_out" in summary["accuracy"]
