"""A step that never gives control back, seen the same way on both backends.

A worker's Scheduler (core/scheduler.py) keeps its watchdog as it steps: [0] when the current step
started (time.monotonic, 0 between steps), [1] the seq of the run stepping, [2] its heartbeat. A
step running past its run's limit never ends on its own, so whoever reads the watchdog stops the
worker: the embedded engine reads it from shared memory in the web process and replaces the
worker process; the Redis worker reads its own from its heartbeat thread, ends its runs and exits
for its supervisor to restart it. `hung_step` is the decision; each backend keeps only its reaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from app.playground.core.interface import Budget, worker_stopped


class WorkerStop(NamedTuple):
    """Why a worker is stopped under its runs, and which of them (if any) made it hang."""

    why: str  # a sentence that says what happened to the worker
    hung: int | None = None  # the seq of the run whose step hung

    def ending(self, seq: int) -> tuple[str, str]:
        """How run `seq` on the stopped worker ends (status, message): the hung run as `timeout`,
        every other one as `failed`, saying why."""
        if seq == self.hung:
            return "timeout", self.why
        return "failed", worker_stopped(self.why)


def hung_step(
    watchdog: Sequence[float], now: float, budgets: Mapping[int, Budget], fallback: Budget
) -> WorkerStop | None:
    """The stop a worker needs when its current step has run past the limit (Budget.hung_after),
    else None. `now`: time.monotonic(); `budgets`: the budget of each run on the worker, by seq;
    `fallback`: the budget for a run that has just ended there (the settings' own)."""
    started, seq = watchdog[0], int(watchdog[1])
    if not started:
        return None  # between steps
    budget = budgets.get(seq, fallback)
    if now - started <= budget.hung_after:
        return None
    return WorkerStop(budget.hung_message(), seq)
