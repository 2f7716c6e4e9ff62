"""A counter that also streams text and a second x key, for the panel's feed and x-axis switch
(loaded through MODELTERMS_EXTRA_DEMO_MODULES, beside tests.support.demos)."""

from __future__ import annotations

from pydantic import Field

from app.demos.base import Chart, Control, Demo
from tests.support.demos import CounterParams

TOKENS_PER_STEP = 64


class TextCounterParams(CounterParams):
    sample_every: int = Field(5, ge=1, le=1000, title="Sample every", description="Steps between two text samples.")


def count_with_text(p: TextCounterParams, ctl: Control):
    """Loss falls as 1/(step+1); every `sample_every` steps a point carries a `sample` text."""
    ctl.announce(kind="text counter")
    for step in range(p.steps):
        point = {"step": step, "loss": 1 / (step + 1), "lr": ctl.params.lr, "tokens": TOKENS_PER_STEP * (step + 1)}
        if step % p.sample_every == 0:
            point["sample"] = f"sample at step {step}:\n" + "ab" * (step % 7 + 1)
        yield point
    return {"counted": p.steps}


DEMO = Demo(
    name="text-counter",
    title="Text counter (test only)",
    terms=(),
    Params=TextCounterParams,
    train=count_with_text,
    live=frozenset({"lr", "pace"}),
    charts=(Chart("Loss", log_y=True, x_choices=("tokens",)),),
    feeds=("sample",),
)
