"""Instruction-tuning playground: one model, several tiny tasks, chosen by the instruction's words.

"What letter starts: lamp =" should give " l", "What letter ends: lamp =" " p", "Write in
capitals: lamp =" " LAMP". The English base is tuned on a mix of tasks over random four-letter
strings (loss on the answers only, as in SFT); accuracy is exact match on real words, never trained
on, with the phrasings it trained on and with phrasings it never saw. The lesson: the instruction is
just more input, and one set of weights switches behaviour by it.

At this scale the tasks differ a lot in cost: picking one letter out (first, last) is learned in
hundreds of steps, copying a whole word (upper) in over a thousand, and four tasks at once learned
nothing in 800 steps. Where the task word sits matters too (see texts.PHRASINGS). The default mixes
two cheap tasks with two phrasings each whose last word names the task: in 500 steps (about 10 s of
one CPU thread) seeds 0, 1 and 2 all reach 91-100% on both, so a default run shows the switch.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Literal

from pydantic import Field, field_validator

from app.demos._charlm import ENGLISH_BASE
from app.demos._lm import adam_step, load_base, lr_field, seed_field, steps_field
from app.demos.base import Chart, Control, Demo, DemoParams, Point, pace_field
from app.ml import texts

Task = Literal["first", "last", "upper", "reverse", "vowels", "sort"]
TASK_NAMES: tuple[str, ...] = ("first", "last", "upper", "reverse", "vowels", "sort")
EVAL_WORDS = texts.HELD_OUT_WORDS[::2]  # 43 real words, each task asked about every one
TRAINABLE_PHRASINGS = len(texts.PHRASINGS["reverse"]) - texts.HELD_OUT_PHRASINGS
LETTERS = "abcdefghijklmnopqrstuvwxyz"
HELD_OUT = frozenset(texts.HELD_OUT_WORDS)
BATCH_SIZE = 24  # examples (one row each) per step
EVAL_EVERY = 20  # steps between evaluations of a task; a step evaluates at most one task (but the
# first and last steps evaluate all): a task's accuracy is measured on step k * EVAL_EVERY + (its
# index in tasks), and the points until the next measurement carry it


class Params(DemoParams):
    tasks: list[Task] = Field(
        ["first", "last"],
        min_length=1,
        title="Tasks",
        description="The tasks mixed in training (each at most once).",
        json_schema_extra={"uniqueItems": True},
    )
    phrasings: int = Field(
        2,
        ge=1,
        le=TRAINABLE_PHRASINGS,
        title="Phrasings per task",
        description="How many wordings of each instruction the model trains on.",
    )
    lr: float = lr_field(2e-3)
    steps: int = steps_field(500, le=3000)
    seed: int = seed_field()
    pace: float = pace_field(30)

    @field_validator("tasks")
    @classmethod
    def _tasks_unique(cls, tasks: list[str]) -> list[str]:
        if len(set(tasks)) != len(tasks):
            raise ValueError("each task may be named only once")
        return tasks


def layout(tasks: list[str]) -> tuple[int, int]:
    """(instruction width, row length) of a run: the narrowest that holds every example of its tasks."""
    width = texts.instruction_width(tasks)
    longest = max(len("".join(texts.example(task, "", "a" * texts.WORD_LENGTH, width))) for task in tasks)
    return width, longest - 1  # a row of n characters makes n - 1 (input, target) pairs


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


def train(p: Params, ctl: Control) -> Generator[Point, None, dict[str, Any]]:
    import torch

    from app.ml import charlm

    device = torch.device(ctl.device)
    vocab = charlm.LM_VOCAB
    model = load_base(ctl)
    opt = torch.optim.Adam(model.parameters(), lr=p.lr)
    width, row_length = layout(p.tasks)
    evals = {
        task: {
            key: tuple(t.to(device) for t in charlm.encode_rows(rows, vocab, row_length)) for key, rows in sets.items()
        }
        for task in p.tasks
        for sets in [eval_sets(task, p.phrasings, width)]
    }
    ctl.announce(
        tasks=p.tasks,
        phrasings={task: texts.PHRASINGS[task][: p.phrasings] for task in p.tasks},
        held_out_phrasings={task: texts.PHRASINGS[task][-texts.HELD_OUT_PHRASINGS :] for task in p.tasks},
        held_out_words=len(EVAL_WORDS),
        example="".join(texts.example(p.tasks[0], texts.PHRASINGS[p.tasks[0]][0], texts.HELD_OUT_WORDS[0], width)),
    )

    gen = torch.Generator().manual_seed(p.seed)
    accuracy: dict[str, float] = {}
    point: Point = {}
    for step in range(p.steps):
        lr = ctl.params.lr
        due = step % EVAL_EVERY
        every_task = step in (0, p.steps - 1)  # so the first point and the last have every accuracy
        if due < len(p.tasks) or every_task:
            for task in p.tasks if every_task else [p.tasks[due]]:
                for key, batch in evals[task].items():
                    accuracy[key] = charlm.exact_match(model, *batch).float().mean().item()  # before the update
        batch = charlm.encode_rows(sample_examples(p, gen, width), vocab, row_length)
        x, y, mask = (t.to(device) for t in batch)
        loss = adam_step(opt, charlm.masked_lm_loss(model, x, y, mask), lr)
        point = {"step": step, "loss": loss, "lr": lr, **accuracy}
        yield point
    return {"accuracy": accuracy, "final_loss": point["loss"]}


def sample_examples(p: Params, gen: Any, width: int) -> list[tuple[str, str]]:
    """A batch of training examples: a task, one of its trained phrasings and a random string of
    four letters (never a held-out word), each uniform. Random strings, not a word list: with
    endless inputs the model cannot memorise answers and has to learn the rule itself. Laid out
    `width` characters wide (see `layout`)."""
    import torch

    examples = []
    for r_task, r_phrasing, *r_letters in torch.rand(BATCH_SIZE, 2 + texts.WORD_LENGTH, generator=gen).tolist():
        task = p.tasks[int(r_task * len(p.tasks))]
        phrasing = texts.PHRASINGS[task][int(r_phrasing * p.phrasings)]
        word = "".join(LETTERS[int(r * len(LETTERS))] for r in r_letters)
        if word in HELD_OUT:
            word = word[:-1] + "q"  # no held-out word ends in q
        examples.append(texts.example(task, phrasing, word, width))
    return examples


DEMO = Demo(
    name="instruction-tuning",
    title="Instruction tuning: one model, many tasks",
    terms=("instruction-tuning",),
    Params=Params,
    train=train,
    live=frozenset({"lr", "pace"}),
    artifacts=(ENGLISH_BASE,),
    charts=(
        Chart("Exact match, held-out words", tuple(f"acc_{t}" for t in TASK_NAMES)),
        Chart("Exact match, held-out words and phrasings", tuple(f"acc_{t}_new_phrasing" for t in TASK_NAMES)),
        Chart("Loss on the answers", ("loss",), log_y=True),
    ),
    blurb="The pretrained English model learns tasks chosen by the words of an instruction (first or "
    "last letter, capitals, reverse, sort, count vowels). Accuracy is exact match on real words it never trained on.",
)
