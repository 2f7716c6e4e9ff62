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

FLAN and T0 define instruction tuning by zero-shot transfer to tasks held out of training. The
`held_out_task` mode measures that: the model trains on the tasks picked and is scored on one it
never trains on (the validator keeps it out of the tasks, and a test checks that no training example is
one of it), beside what answering it by the rule of a trained task would score. At this scale
it does not transfer (see the page): the mode shows that as the result.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from app.demos._charlm import ENGLISH_BASE
from app.demos._lm import adam_step, load_base, lr_field, seed_field, steps_field
from app.demos.base import Chart, Control, Demo, DemoParams, Point, pace_field
from app.ml import texts

Task = Literal["first", "last", "upper", "reverse", "vowels", "sort"]
HeldOut = Literal["none", "first", "last", "upper", "reverse", "vowels", "sort"]
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
    held_out_task: HeldOut = Field(
        "none",
        title="Held-out task",
        description="A task never trained on, scored zero-shot with all its phrasings (not one of the tasks).",
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

    @field_validator("held_out_task")
    @classmethod
    def _held_out_is_not_trained(cls, held_out: str, info: ValidationInfo) -> str:
        if held_out in info.data.get("tasks", []):
            raise ValueError(f"{held_out!r} is one of the tasks: a held-out task is never trained on")
        return held_out


def rule_agreement(task: str, others: list[str], words: list[str]) -> float:
    """The share of words on which some other task's rule gives `task`'s answer, at best: what a
    model that answers an unseen task by a rule it learned can score by coincidence."""
    return max(sum(texts.TASKS[o](w) == texts.TASKS[task](w) for w in words) / len(words) for o in others)


def layout(tasks: list[str]) -> tuple[int, int]:
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


def train(p: Params, ctl: Control) -> Generator[Point, None, dict[str, Any]]:
    import torch

    from app.ml import charlm

    device = torch.device(ctl.device)
    vocab = charlm.LM_VOCAB
    model = load_base(ctl)
    opt = torch.optim.Adam(model.parameters(), lr=p.lr)
    held_out = [] if p.held_out_task == "none" else [p.held_out_task]
    width, row_length = layout(p.tasks + held_out)  # one layout for the trained tasks and the held-out one

    def encoded(rows: list[tuple[str, str]]) -> tuple[torch.Tensor, ...]:
        return tuple(t.to(device) for t in charlm.encode_rows(rows, vocab, row_length))

    # Evaluation slots, measured in turn (see EVAL_EVERY): each trained task, then the held-out one.
    evals = {
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
        Chart(
            "Held-out task (never trained on): exact match, and a trained rule's coincidences",
            ("acc_held_out", "held_out_by_rule"),
            only_when={"held_out_task": tuple(TASK_NAMES)},
        ),
        Chart("Loss on the answers: trained tasks, and the held-out task", ("loss", "held_out_loss"), log_y=True),
    ),
    blurb="The pretrained English model learns tasks chosen by the words of an instruction (first or "
    "last letter, capitals, reverse, sort, count vowels). Accuracy is exact match on real words it never trained on.",
)
