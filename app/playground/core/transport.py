"""What the web side of the run engine needs of its storage: one protocol, two implementations.

`RunService` (core.service) makes every decision of the web side once (whether a run is admitted
and its 429, what a live change does to a queued run, when a PATCH stops waiting for its ack, what
a follower reads); a `RunTransport` only carries them out where the runs are kept. The embedded
transport keeps them in memory and SQLite and talks to its worker processes over pipes
(app.playground.embedded.transport); the Redis transport keeps them in Redis, each state change one
Lua script that is atomic across replicas (app.playground.redis.transport). Every method here is
one storage effect or one read, and holds no rule: where a rule has to run inside the atomic step
(admission's counts), the service hands the transport what it decided (the quotas) and the
transport only counts and inserts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, TypeVar

from app.demos.base import Demo
from app.playground.core.admission import Quota
from app.playground.core.interface import ActiveRun, Budget, StoredRun


class NewRun(NamedTuple):
    """A run the service has decided to admit if its quotas allow: everything the transport stores."""

    demo: Demo
    shown: dict[str, Any]
    """Its params as every event and reader sees them (Demo.private_split)."""
    withheld: dict[str, Any]
    """What only the worker that trains it may have: handed over and forgotten when it starts."""
    quotas: list[Quota]
    """core.admission.quotas: what the transport counts, in order, atomically with the insert."""
    holder: str
    """The seat's holder, whom retention counts it under."""
    budget: Budget
    """Its limits, from the settings of the process that admits it (Budget.of)."""
    id: str
    """12 hex digits (core.service.new_run_id)."""
    control_token: str
    """The creator's alone: PATCH and DELETE need it."""


@dataclass(frozen=True)
class Refusal:
    """A new run that a quota refused: which one, and the training slots there were then."""

    quota: Quota
    capacity: int


class Progress(NamedTuple):
    """What a Retry-After estimate reads of one active run: the arguments of
    core.interface.seconds_left, in its order (`started` and `now` on the transport's own clock)."""

    params: dict[str, Any]
    status: str
    step: int
    started: float | None
    now: float
    budget: Budget


RunT = TypeVar("RunT", bound=ActiveRun)


class RunTransport(Protocol[RunT]):
    """The storage and wire of one backend, as the web side of the engine uses it."""

    accepting: bool
    """False before start and from the moment stop begins: new runs are refused (503)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def health(self) -> dict[str, Any]: ...

    async def admit(self, new: NewRun) -> RunT | Refusal:
        """Count the active runs under each of `new.quotas` and, if none is reached, store the run
        queued (or waiting for its artifacts) and return it; all in one step that no other
        admission can interleave with."""
        ...

    async def progress(self, counter: str | None) -> list[Progress]:
        """The active runs counted under `counter` (every one for None), for a Retry-After."""
        ...

    async def load(self, run_id: str) -> RunT | StoredRun | None:
        """The run as it is now: active, finished (stored), or None if unknown."""
        ...

    def position(self, run: RunT) -> int | None:
        """Its 1-based place in the queue, as last read; None once it trains."""
        ...

    # Still carried out whole by each transport; they move into the service next.
    async def change(self, run: RunT, changes: dict[str, Any]) -> int: ...

    async def cancel(self, run_id: str) -> None: ...

    def follow(self, run: RunT | StoredRun, after: int, creator: bool = False) -> AsyncIterator[bytes | None]: ...
