"""How a run engine reacts to what a worker's Scheduler says about a run, written once.

Both backends hear the same messages (core.messages) and do the same things with them; only where
the effects are kept differs: the embedded engine keeps a run's events and state in memory (and
answers a PATCH through a future), the Redis worker queues scripts that write them into Redis
(and answers a PATCH on a list its replica waits on). So the rules are here, and each backend
hands `supervise` a `Ledger`: the few storage effects it implements, nothing more.

Points arrive some 30 times a second per run: their path is one lookup, one assignment and one
call, and their payload (encoded once, in the worker) is handed on untouched.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol, TypeVar

from app.playground.core.messages import AboutRun, Applied, Points, Started


class SupervisedRun(Protocol):
    """What the rules read and change of a backend's run while a worker trains it."""

    step: int  # the step of its last point
    params: dict[str, Any]  # as shown (Demo.shown): never a reader's withheld text
    status: str  # "running" or "paused" while a worker has it
    hidden: frozenset[str]  # event keys for the creator's eyes only (Demo.hidden_outputs)
    acks: deque[Any]  # the PATCHes sent to the worker and not yet answered, oldest first

    @property
    def demo_name(self) -> str: ...


RunT = TypeVar("RunT", bound=SupervisedRun)


class Ledger(Protocol[RunT]):
    """A backend's storage of the runs one worker trains: the effects, never the rules."""

    @property
    def device(self) -> str | None:
        """The worker's device ("cpu" or "cuda"), as the `start` event tells it."""
        ...

    def find(self, seq: int) -> RunT | None:
        """The run this worker numbers `seq`, or None once it has ended here."""
        ...

    def relay(self, run: RunT, payload: bytes, creator_payload: bytes | None) -> None:
        """A `metrics` event the worker encoded, only framed (`run.step` is its last point's)."""
        ...

    def append(self, run: RunT, kind: str, data: dict[str, Any]) -> None:
        """An event built here, its `run.hidden` keys for the creator only; kept with the run's
        params and status as they now stand (a backend that keeps them apart from the run saves
        them in the same write)."""
        ...

    def answer(self, run: RunT, acks: list[Any], step: int) -> None:
        """These PATCHes (taken from `run.acks`, oldest first) hear that they apply from `step`."""
        ...

    def end(self, run: RunT, status: str, message: str, summary: dict[str, Any], reason: str | None) -> None:
        """The run ended: its `end` event (core.events.end_data), its slot freed."""
        ...


def supervise(message: AboutRun, ledger: Ledger[RunT]) -> None:
    """Turn one message about a run into its effects on `ledger`."""
    run = ledger.find(message.seq)
    if run is None:
        return  # a message still in flight when its run ended here
    if isinstance(message, Points):  # the hot path: first, and the payload is never looked into
        run.step = message.step
        ledger.relay(run, message.payload, message.creator_payload)
    elif isinstance(message, Started):
        start = {"demo": run.demo_name, "params": run.params, "device": ledger.device, **message.facts}
        ledger.append(run, "start", start)
    elif isinstance(message, Applied):
        apply(run, message)
        ledger.append(run, "control", {"step": message.step, "changes": message.changes})
        answered = [run.acks.popleft() for _ in range(min(message.patches, len(run.acks)))]
        if answered:
            ledger.answer(run, answered, message.step)
    else:
        ledger.end(run, message.status, message.message, message.summary, message.reason)


def apply(run: SupervisedRun, applied: Applied) -> None:
    """A batch of live changes, as the run's shown state: the params it has take their new values
    (a change to a key it lacks, such as `paused` or a withheld text, leaves them alone), and
    `paused` pauses or resumes it."""
    changes = applied.changes
    run.params = run.params | {k: v for k, v in changes.items() if k in run.params}
    if "paused" in changes:
        run.status = "paused" if changes["paused"] else "running"
