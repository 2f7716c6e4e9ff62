"""What a run engine and a worker's Scheduler tell each other, one named tuple per kind.

They are tuples, so they pickle small over the embedded backend's pipe; the names say what each
field is, where positional tuples ("points", seq, step, payload, creator) made every reader count.
The embedded engine sends and reads them over a pipe; the Redis worker builds the engine-side ones
from its streams and turns the worker-side ones into Redis writes, in the same process.
`None` on the way in means: exit."""

from __future__ import annotations

from typing import Any, NamedTuple

# --- engine -> Scheduler ----------------------------------------------------------------------


class StartRun(NamedTuple):
    seq: int  # the run's number on this worker
    demo: str
    params: dict[str, Any]  # the full params, a reader's withheld text included
    max_steps: int
    cpu_budget: float  # seconds of compute of its own steps
    wall_seconds: float  # how long it may last from its start, paused time included
    hidden: frozenset[str] = frozenset()  # event keys for the creator's eyes only


class StopRun(NamedTuple):
    seq: int
    why: str  # a key of the Scheduler's stop reasons: "cancelled" or SERVER_STOPPED


class Change(NamedTuple):
    """Live changes for a run; those that wait together are collapsed into one (of `patches`)."""

    seq: int
    changes: dict[str, Any]
    patches: int = 1  # not `count`: that is tuple's method


ToWorker = StartRun | StopRun | Change | None

# --- Scheduler -> engine ----------------------------------------------------------------------


class Ready(NamedTuple):
    device: str  # "cpu" or "cuda"


class Started(NamedTuple):
    seq: int
    facts: dict[str, Any]  # what the demo announced before its first step


class Points(NamedTuple):
    seq: int
    step: int  # the last point's step
    payload: bytes  # the metrics event's JSON for everyone
    creator_payload: bytes | None  # with the hidden keys, when the demo hides some


class Applied(NamedTuple):
    """A batch of live changes took effect from `step` on."""

    seq: int
    step: int
    changes: dict[str, Any]  # as shown to readers
    patches: int  # how many PATCHes the batch answers


class Ended(NamedTuple):
    seq: int
    status: str
    message: str
    summary: dict[str, Any]
    reason: str | None = None


AboutRun = Started | Points | Applied | Ended
"""What a Scheduler says about one of its runs (core.supervisor turns it into effects)."""
FromWorker = Ready | AboutRun
