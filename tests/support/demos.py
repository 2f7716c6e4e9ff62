"""Demos that exist only for engine tests (loaded through MODELTERMS_EXTRA_DEMO_MODULES)."""

from __future__ import annotations

import time
from typing import Annotated

from pydantic import Field

from app.demos.base import Control, Demo, DemoParams
from app.demos.fields import Pace


class CounterParams(DemoParams):
    steps: int = Field(50, ge=1, le=100_000)
    lr: float = Field(0.1, gt=0, le=1)
    pace: Annotated[Pace, Field(le=1000)] = 0
    block_at: int = Field(-1, ge=-1, description="Step at which to block forever without yielding.")
    spin_ms: float = Field(0, ge=0, le=1000, description="CPU time each step burns (busy loop).")
    fail_at: int = Field(-1, ge=-1, description="Step at which the demo raises an error (a bug).")
    pad: int = Field(0, ge=0, le=10_000, description="Characters of filler in each point: a fast, big stream.")


def count(p: CounterParams, ctl: Control):
    """Loss falls as 1/(step+1); burns CPU or blocks inside a step when asked, to test budgets."""
    ctl.announce(kind="counter")
    for step in range(p.steps):
        if step == p.block_at:
            time.sleep(3600)
        if step == p.fail_at:
            raise PermissionError("[Errno 13] Permission denied: '/srv/secret/data'")
        spin_until = time.thread_time() + p.spin_ms / 1000
        while time.thread_time() < spin_until:
            pass
        point = {"step": step, "loss": 1 / (step + 1), "lr": ctl.params.lr}
        yield point | {"pad": "x" * p.pad} if p.pad else point
    return {"counted": p.steps}


DEMO = Demo(
    name="counter",
    title="Counter (test only)",
    terms=(),
    Params=CounterParams,
    train=count,
    live=frozenset({"lr", "pace"}),
)
