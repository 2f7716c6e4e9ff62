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
one CPU thread) seed 0 reaches 93% and 84%, seed 2 98% and 95%, seed 1 only 53% and 72% (the
page quotes them; tests/unit/test_figures_instruction_tuning.py reruns them).

FLAN and T0 define instruction tuning by zero-shot transfer to tasks held out of training. The
`held_out_task` mode measures that: the model trains on the tasks picked and is scored on one it
never trains on (the validator keeps it out of the tasks, and a test checks that no training example is
one of it), beside what answering it by the rule of a trained task would score. At this scale
it does not transfer (see the page): the mode shows that as the result.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import Chart, Demo, DemoParams
from app.demos.fields import LearningRate, Pace, Seed, Steps
from app.demos.recipes import ENGLISH_BASE
from app.ml import texts

Task = Literal["first", "last", "upper", "reverse", "vowels", "sort"]
HeldOut = Literal["none", "first", "last", "upper", "reverse", "vowels", "sort"]
TASK_NAMES: tuple[str, ...] = ("first", "last", "upper", "reverse", "vowels", "sort")
TRAINABLE_PHRASINGS = len(texts.PHRASINGS["reverse"]) - texts.HELD_OUT_PHRASINGS


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
    lr: Annotated[LearningRate, Field(le=0.1, description="Adam's step size.")] = 2e-3
    steps: Annotated[Steps, Field(le=3000)] = 500
    seed: Seed = 0
    pace: Pace = 30

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


DEMO = Demo(
    name="instruction-tuning",
    title="Instruction tuning: one model, many tasks",
    terms=("instruction-tuning",),
    Params=Params,
    train="app.training.instruction_tuning:train",
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
