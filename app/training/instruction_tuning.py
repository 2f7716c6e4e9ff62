"""Instruction tuning: one model learns several small tasks on words from instructions phrased
several ways, and is judged on held-out words, held-out phrasings, and a held-out task."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

import torch

from app.ml import charlm, texts
from app.ml.optim import adam_step
from app.training._lm import load_base

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.instruction_tuning import Params


EVAL_WORDS = texts.HELD_OUT_WORDS[::2]  # 43 real words, each task asked about every one


LETTERS = "abcdefghijklmnopqrstuvwxyz"


HELD_OUT = frozenset(texts.HELD_OUT_WORDS)


BATCH_SIZE = 24  # examples (one row each) per step


EVAL_EVERY = 20  # steps between evaluations of a task; a step evaluates at most one task (but the
# first and last steps evaluate all): a task's accuracy is measured on step k * EVAL_EVERY + (its
# index in tasks), and the points until the next measurement carry it


def rule_agreement(task: str, others: Sequence[str], words: list[str]) -> float:
    """The share of words on which some other task's rule gives `task`'s answer, at best: what a
    model that answers an unseen task by a rule it learned can score by coincidence."""
    return max(sum(texts.TASKS[o](w) == texts.TASKS[task](w) for w in words) / len(words) for o in others)


def layout(tasks: Sequence[str]) -> tuple[int, int]:
    """(instruction width, row length) of a run: the narrowest that holds every example of its tasks."""
    width = texts.instruction_width(tasks)
    longest = max(len("".join(texts.example(task, "", "a" * texts.WORD_LENGTH, width))) for task in tasks)
    return width, longest - 1  # a row of n characters makes n - 1 (input, target) pairs


def held_out_set(task: str, width: int) -> list[tuple[str, str]]:
    """The held-out task on the held-out words, with every phrasing it has (taken in turn)."""
    every = texts.PHRASINGS[task]
    return [texts.example(task, every[i % len(every)], w, width) for i, w in enumerate(EVAL_WORDS)]


def eval_sets(task: str, phrasings: int, width: int) -> dict[str, list[tuple[str, str]]]:
    """Held-out words, asked with the trained phrasings (taken in turn) and with the held-out ones."""
    seen = texts.PHRASINGS[task][:phrasings]
    unseen = texts.PHRASINGS[task][-texts.HELD_OUT_PHRASINGS :]
    return {
        f"acc_{task}": [texts.example(task, seen[i % len(seen)], w, width) for i, w in enumerate(EVAL_WORDS)],
        f"acc_{task}_new_phrasing": [
            texts.example(task, unseen[i % len(unseen)], w, width) for i, w in enumerate(EVAL_WORDS)
        ],
    }


def train(p: Params, ctl: Control[Params]) -> Generator[Point, None, dict[str, Any]]:
    device = torch.device(ctl.device)
    vocab = charlm.LM_VOCAB
    model = load_base(ctl)
    opt = torch.optim.Adam(model.parameters(), lr=p.lr)
    held_out = [] if p.held_out_task == "none" else [p.held_out_task]
    width, row_length = layout([*p.tasks, *held_out])  # one layout for the trained tasks and the held-out one

    def encoded(rows: list[tuple[str, str]]) -> tuple[torch.Tensor, ...]:
        return tuple(t.to(device) for t in charlm.encode_rows(rows, vocab, row_length))

    # Evaluation slots, measured in turn (see EVAL_EVERY): each trained task, then the held-out one.
    evals: dict[str, dict[str, tuple[torch.Tensor, ...]]] = {
        task: {key: encoded(rows) for key, rows in eval_sets(task, p.phrasings, width).items()} for task in p.tasks
    }
    if held_out:
        evals["held_out"] = {"acc_held_out": encoded(held_out_set(p.held_out_task, width))}
        by_rule = rule_agreement(p.held_out_task, p.tasks, EVAL_WORDS)
    ctl.announce(
        tasks=p.tasks,
        phrasings={task: texts.PHRASINGS[task][: p.phrasings] for task in p.tasks},
        held_out_phrasings={task: texts.PHRASINGS[task][-texts.HELD_OUT_PHRASINGS :] for task in p.tasks},
        held_out_words=len(EVAL_WORDS),
        example="".join(texts.example(p.tasks[0], texts.PHRASINGS[p.tasks[0]][0], texts.HELD_OUT_WORDS[0], width)),
        **({"held_out_task": p.held_out_task, "held_out_by_rule": by_rule} if held_out else {}),
    )

    gen = torch.Generator().manual_seed(p.seed)
    measured: dict[str, float] = {}  # the latest accuracy of each set (and the held-out task's loss)
    slots = list(evals)
    point: Point = {}
    for step in range(p.steps):
        lr = ctl.params.lr
        due = step % EVAL_EVERY
        every_slot = step in (0, p.steps - 1)  # so the first point and the last have every accuracy
        if due < len(slots) or every_slot:
            for slot in slots if every_slot else [slots[due]]:
                for key, batch in evals[slot].items():
                    measured[key] = charlm.exact_match(model, *batch).float().mean().item()  # before the update
                if slot == "held_out":
                    with torch.no_grad():
                        measured["held_out_loss"] = charlm.masked_lm_loss(model, *batch).item()
        batch = charlm.encode_rows(sample_examples(p, gen, width), vocab, row_length)
        x, y, mask = (t.to(device) for t in batch)
        loss = adam_step(opt, charlm.masked_lm_loss(model, x, y, mask), lr)
        point = {"step": step, "loss": loss, "lr": lr, **measured}
        if held_out:
            point["held_out_by_rule"] = by_rule
        yield point
    accuracy = {key: value for key, value in measured.items() if key.startswith("acc_")}
    return {"accuracy": accuracy, "final_loss": point["loss"], **({"held_out_by_rule": by_rule} if held_out else {})}


def sample_examples(p: Params, gen: Any, width: int) -> list[tuple[str, str]]:
    """A batch of training examples: a task, one of its trained phrasings and a random string of
    four letters (never a held-out word), each uniform. Random strings, not a word list: with
    endless inputs the model cannot memorise answers and has to learn the rule itself. Laid out
    `width` characters wide (see `layout`)."""

    examples = []
    for r_task, r_phrasing, *r_letters in torch.rand(BATCH_SIZE, 2 + texts.WORD_LENGTH, generator=gen).tolist():
        task = p.tasks[int(r_task * len(p.tasks))]
        phrasing = texts.PHRASINGS[task][int(r_phrasing * p.phrasings)]
        word = "".join(LETTERS[int(r * len(LETTERS))] for r in r_letters)
        if word in HELD_OUT:
            word = word[:-1] + "q"  # no held-out word ends in q
        examples.append(texts.example(task, phrasing, word, width))
    return examples
