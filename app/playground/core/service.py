"""The web side of the run engine, written once: `RunService` implements `RunEngine` (what the
routes use) over a `RunTransport` (core.transport: the storage of one backend). Every decision is
here; the transport carries it out in memory and SQLite, or in Redis.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any, Generic

from app.demos.base import Demo
from app.playground.core import admission
from app.playground.core.interface import Budget, Seat, ShuttingDown, StoredRun, seconds_left
from app.playground.core.transport import NewRun, Refusal, RunT, RunTransport
from app.settings import Settings


def new_run_id() -> str:
    """A run's id: 12 hex digits (a Redis transport reads nothing else as one)."""
    return uuid.uuid4().hex[:12]


def control_token() -> str:
    """Given to a run's creator only; PATCH and DELETE need it (the permalink is read-only)."""
    return secrets.token_urlsafe(18)


class RunService(Generic[RunT]):
    """One run engine over `transport`."""

    def __init__(self, settings: Settings, transport: RunTransport[RunT]) -> None:
        self.settings = settings
        self.transport = transport

    async def start(self) -> None:
        await self.transport.start()

    async def stop(self) -> None:
        await self.transport.stop()

    def health(self) -> dict[str, Any]:
        return self.transport.health()

    async def submit(self, demo: Demo, params: dict[str, Any], client: str = "", seat: Seat | None = None) -> RunT:
        """Admit a run under its seat's quotas (core.admission), with the budget of these settings
        stamped into it, or raise the 429 of the first quota it would exceed (its Retry-After from
        the runs that quota counts), or ShuttingDown."""
        if not self.transport.accepting:
            raise ShuttingDown
        seat = seat or Seat(client, self.settings.runs_per_client)
        quotas = admission.quotas(seat, self.settings.queue_size)
        shown, withheld = demo.private_split(params)  # the withheld part never reaches a reader
        new = NewRun(
            demo, shown, withheld, quotas, seat.holder, Budget.of(self.settings), new_run_id(), control_token()
        )
        admitted = await self.transport.admit(new)
        if isinstance(admitted, Refusal):
            counted = await self.transport.progress(admitted.quota.counter)
            raise admission.refusal(admitted.quota, admitted.capacity, [seconds_left(*run) for run in counted])
        return admitted

    async def get(self, run_id: str) -> RunT | StoredRun | None:
        return await self.transport.load(run_id)

    def position(self, run: RunT) -> int | None:
        return self.transport.position(run)

    async def change(self, run: RunT, changes: dict[str, Any]) -> int:
        return await self.transport.change(run, changes)

    async def cancel(self, run_id: str) -> None:
        await self.transport.cancel(run_id)

    def follow(self, run: RunT | StoredRun, after: int, creator: bool = False) -> AsyncIterator[bytes | None]:
        return self.transport.follow(run, after, creator)
