"""Admission, the one rule both backends apply: the quotas a new run is checked against, in order,
and the first one it would exceed.

A seat's holder (an address, or a student) may hold `Seat.limit` active runs; a seat in a class
also counts against the class's quota; and all active runs together may fill every training slot
and the queue behind them. The first quota reached refuses the run with its own 429. The embedded
engine applies this to its runs in memory; the Redis replica hands the same list to its Lua
`admit`, which counts and inserts in one step across replicas and knows no rule of its own (the
live workers' capacity is the one thing only it can read there).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import NamedTuple

from app.playground.core.interface import (
    ClassQuota,
    ClientLimit,
    QueueFull,
    Refused,
    Seat,
    StudentLimit,
    retry_after,
)


class Quota(NamedTuple):
    """One limit a new run must stay under."""

    counter: str | None
    """Whose active runs count: a seat's holder or class (the name the run is counted under while
    it is active), or None for every active run."""
    limit: int
    """How many of them there may be before the new one (for the queue: past the training slots)."""
    refusal: type[ClientLimit] | type[StudentLimit] | type[ClassQuota] | type[QueueFull]

    @property
    def beyond_capacity(self) -> bool:
        """The limit counts past the training slots of the workers: it is the queue's."""
        return self.refusal is QueueFull

    def reached(self, held: int, capacity: int) -> bool:
        """Whether `held` active runs leave no room for one more; `capacity`: the training slots."""
        return held >= self.limit + (capacity if self.beyond_capacity else 0)


def quotas(seat: Seat, queue_size: int) -> list[Quota]:
    """The quotas a run of `seat` is checked against, in the order they refuse: its holder's own
    limit, then its class's quota (a seat in a class always has one), then the queue."""
    checked = [Quota(seat.holder, seat.limit, StudentLimit if seat.student else ClientLimit)]
    if seat.group:
        checked.append(Quota(seat.group, seat.group_limit, ClassQuota))
    checked.append(Quota(None, queue_size, QueueFull))
    return checked


def first_reached(checked: Sequence[Quota], held: Callable[[str | None], int], capacity: int) -> Quota | None:
    """The quota that refuses a new run, or None to admit it. `held(counter)`: the active runs
    counted under `counter` (every active run for None); `capacity`: the training slots."""
    return next((quota for quota in checked if quota.reached(held(quota.counter), capacity)), None)


def counters(checked: Sequence[Quota]) -> tuple[str, ...]:
    """The names an admitted run is counted under while it is active (its holder, its class)."""
    return tuple(quota.counter for quota in checked if quota.counter is not None)


def refusal(quota: Quota, capacity: int, seconds_left: Sequence[float]) -> Refused:
    """The 429 of a run that `quota` refused. `seconds_left`: how long each active run it counts is
    likely to go on (interface.seconds_left): the queue's Retry-After waits for the run that frees
    the slot the refused one would have queued for; a seat's or a class's for their first to end."""
    if issubclass(quota.refusal, QueueFull):
        return QueueFull.of(capacity, quota.limit, retry_after(seconds_left, len(seconds_left) - capacity))
    return quota.refusal.of(quota.limit, retry_after(seconds_left, 0))


def quotas_json(checked: Sequence[Quota]) -> str:
    """The quotas as the Redis `admit` script reads them: [{counter (absent for every active run),
    limit, beyond_capacity}], in order."""
    return json.dumps(
        [
            {"limit": quota.limit, "beyond_capacity": quota.beyond_capacity}
            | ({} if quota.counter is None else {"counter": quota.counter})
            for quota in checked
        ]
    )
