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

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from enum import Enum
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


class Changed(Enum):
    """What a live change did, when it did not go to a worker."""

    QUEUED = "queued"
    """The run was still queued: it took the change itself, and its `control` event at step 0."""
    ENDED = "ended"
    """The run had ended (or had no worker to send it to)."""
    STALE = "stale"
    """The run was queued, with other params than the ones the change was made from: another
    change came first (read it again, and make the change anew from what it has now)."""


@dataclass(frozen=True)
class Sent:
    """A live change on its way to the run's worker; `ticket` is what the transport waits on for
    the worker's answer (a future, a list's key): its own, opaque to the service."""

    ticket: Any


class Tailed(Protocol):
    """One event of an active run, as its tail hands it on."""

    @property
    def type(self) -> str: ...

    @property
    def sse(self) -> bytes:
        """Its SSE frame as everyone but the run's creator reads it (as stored)."""
        ...

    @property
    def has_creator_frame(self) -> bool:
        """Whether its creator has a frame of it that holds more (Demo.creator_only)."""
        ...


RunT = TypeVar("RunT", bound=ActiveRun)
EventT = TypeVar("EventT", bound=Tailed)


class RunTransport(Protocol[RunT, EventT]):
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

    async def change(
        self, run: RunT, changes: dict[str, Any], queued_params: dict[str, Any], queued_event: dict[str, Any]
    ) -> Changed | Sent:
        """In one step: if the run is still queued with the params `run` holds, give it
        `queued_params` and append a `control` event of `queued_event` (Changed.QUEUED; STALE if
        its params are no longer those); if a worker trains it, send `changes` there (Sent);
        if it has ended, Changed.ENDED."""
        ...

    async def await_ack(self, run: RunT, ticket: Any, seconds: float) -> int | None:
        """The step from which a Sent change applies, as its worker answers (the run's shown
        params and status taken from the answer), or None if no answer came within `seconds`.
        RunFinished if the run ended while it waited."""
        ...

    async def reread(self, run: RunT) -> bool:
        """Take the run's stored status and params into `run` (not its step); False once it has
        ended."""
        ...

    async def cancel(self, run_id: str, queued_message: str) -> None:
        """In one step: a queued run ends `cancelled` at once with `queued_message`; a training
        one's worker is told to stop it (its `end` comes from there); a finished or unknown run is
        left as it is."""
        ...

    def replay(self, run: StoredRun, after: int) -> AsyncGenerator[bytes, None]:
        """A finished run's stored SSE frames after event `after`."""
        ...

    def tail(self, run: RunT, after: int) -> AsyncGenerator[EventT | None, None]:
        """An active run's events after `after`: those stored, then each as it comes, each once and
        in order; None when a keep-alive is due. While it is iterated, the run counts as watched
        (see `unwatched`). It may end early (this replica stops, Redis is lost): the client
        reconnects with Last-Event-ID."""
        ...

    async def creator_frame(self, run: RunT, event: EventT) -> bytes:
        """The creator's frame of an event that has one (or the public one, if the run has ended
        and it is gone)."""
        ...

    async def unwatched(self) -> list[str]:
        """The active runs that nobody has followed for their idle limit (Budget.idle_seconds):
        what counts as followed is the transport's (a count in this process, or a mark that any
        replica can read)."""
        ...
