"""The web side of the run engine, written once: `RunService` implements `RunEngine` (what the
routes use) over a `RunTransport` (core.transport: the storage of one backend). Every decision is
here; the transport carries it out in memory and SQLite, or in Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any, Generic

from app.demos.base import Demo
from app.playground.core import admission
from app.playground.core.interface import (
    CANCELLED_QUEUED_MESSAGE,
    CONTROL_FIELDS,
    Budget,
    RunFinished,
    Seat,
    ShuttingDown,
    StoredRun,
    idle_look_seconds,
    seconds_left,
)
from app.playground.core.transport import Changed, NewRun, Refusal, RunT, RunTransport
from app.settings import Settings

IDLE_CHECK_AT_MOST_SECONDS = 1.0
"""The unwatched runs are looked for at least this often (more often for a short idle limit)."""
STOP_WAIT_SECONDS = 5.0
"""How long stop waits for an idle check in flight to end (a cancel lost inside a Redis call
must not hold shutdown for ever)."""

log = logging.getLogger("modelterms.engine")


def new_run_id() -> str:
    """A run's id: 12 hex digits (a Redis transport reads nothing else as one)."""
    return uuid.uuid4().hex[:12]


def control_token() -> str:
    """Given to a run's creator only; PATCH and DELETE need it (the permalink is read-only)."""
    return secrets.token_urlsafe(18)


class RunService(Generic[RunT]):
    """One run engine over `transport`."""

    def __init__(self, settings: Settings, transport: RunTransport[RunT, Any]) -> None:
        self.settings = settings
        self.transport = transport
        self._idle_checks: asyncio.Task | None = None
        self._stopping = False

    async def start(self) -> None:
        await self.transport.start()
        self._stopping = False
        period = idle_look_seconds(self.settings.idle_cancel_seconds, at_most=IDLE_CHECK_AT_MOST_SECONDS)
        self._idle_checks = asyncio.create_task(self._cancel_unwatched_every(period))

    async def stop(self) -> None:
        self._stopping = True
        if self._idle_checks is not None:
            self._idle_checks.cancel()
            await asyncio.wait([self._idle_checks], timeout=STOP_WAIT_SECONDS)
            self._idle_checks = None
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
        """Send live changes; the step from which they apply. A queued run takes them itself (step
        0), unless they pause or step it, which it cannot be yet; a training run's worker applies
        them, and a PATCH waits `control_ack_seconds` for its answer, else is told the next step
        (a busy worker applies them when it comes to them). RunFinished once the run has ended."""
        if run.finished or (run.status == "queued" and any(k in changes for k in CONTROL_FIELDS)):
            raise RunFinished  # nothing to pause or step before it trains: the route answers 409
        while True:
            params = run.params | {k: v for k, v in changes.items() if k not in CONTROL_FIELDS}
            outcome = await self.transport.change(run, changes, params, {"step": 0, "changes": changes})
            if outcome is Changed.QUEUED:
                return 0
            if outcome is Changed.ENDED:
                raise RunFinished
            if outcome is not Changed.STALE:
                break
            if not await self.transport.reread(run):  # another change to the queued run came first
                raise RunFinished
        step = await self.transport.await_ack(run, outcome.ticket, self.settings.control_ack_seconds)
        if step is not None:
            return step
        if not await self.transport.reread(run):
            raise RunFinished
        return run.step + 1

    async def cancel(self, run_id: str) -> None:
        """Idempotent: a finished or unknown run is left as it is."""
        await self.transport.cancel(run_id, CANCELLED_QUEUED_MESSAGE)

    async def follow(self, run: RunT | StoredRun, after: int, creator: bool = False) -> AsyncIterator[bytes | None]:
        """SSE frames after event `after`: a finished run's as stored; an active run's stored ones,
        then its live tail up to its `end`, and None whenever a keep-alive is due. A `creator` (the
        follower showed the control token) reads each event's creator frame where it has one."""
        # Closed as soon as this ends (at `end`, or when the client goes): a transport's tail
        # stops counting its follower there, and the shared read stops reading for it.
        if isinstance(run, StoredRun):
            async with contextlib.aclosing(self.transport.replay(run, after)) as frames:
                async for frame in frames:
                    yield frame
            return
        async with contextlib.aclosing(self.transport.tail(run, after)) as events:
            async for event in events:
                if event is None:
                    yield None
                    continue
                yield (
                    await self.transport.creator_frame(run, event) if creator and event.has_creator_frame else event.sse
                )
                if event.type == "end":
                    return

    async def cancel_unwatched(self) -> None:
        """A run nobody has watched for its idle limit is cancelled, as its reader would cancel it:
        a closed tab frees its slot."""
        for run_id in await self.transport.unwatched():
            await self.cancel(run_id)

    async def _cancel_unwatched_every(self, seconds: float) -> None:
        # Also ends on the flag stop sets first: a cancel that lands inside a Redis call can be
        # lost there, and the loop would go on.
        while not self._stopping:
            await asyncio.sleep(seconds)
            try:
                await self.cancel_unwatched()
            except Exception as error:  # Redis unreachable, say: the next look tries again
                log.warning("looking for unwatched runs failed: %s", error)
