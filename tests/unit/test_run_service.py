"""The web side of the run engine (core.service.RunService) against an in-memory transport that
records each storage effect: the decisions the contract suite reaches only through timing (a
change to a queued run, an ack that never comes, a change that lost a race) without a worker, a
server or Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.playground.core.admission import Quota
from app.playground.core.interface import (
    ACTIVE,
    CANCELLED_QUEUED_MESSAGE,
    Budget,
    ClientLimit,
    QueueFull,
    RunFinished,
    ShuttingDown,
    StoredRun,
)
from app.playground.core.service import RunService
from app.playground.core.transport import Changed, NewRun, Progress, Refusal, Sent
from app.settings import Settings


@dataclass
class SplitDemo:
    """A demo whose `text` is withheld from everything but its worker (as Demo.private_split)."""

    name: str = "counter"

    def private_split(self, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        shown = {k: v for k, v in params.items() if k != "text"}
        return shown, {k: v for k, v in params.items() if k == "text"}


@dataclass(eq=False)
class FakeRun:
    id: str
    params: dict[str, Any]
    status: str = "queued"
    step: int = 0
    control_token: str = "t"

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE


@dataclass(frozen=True)
class TailedEvent:
    type: str
    sse: bytes
    has_creator_frame: bool = False


@dataclass
class FakeTransport:
    """Admits while `refuse` is None; answers a change with the outcomes in `outcomes`, in turn,
    and an ack with `ack` (None: none comes); records every call in `calls`."""

    accepting: bool = True
    refuse: Refusal | None = None
    progress_rows: list[Progress] = field(default_factory=list)
    outcomes: list[Changed | Sent] = field(default_factory=list)
    ack: int | None = None
    stored: dict[str, Any] = field(default_factory=dict)  # what `reread` finds: status and params
    calls: list[tuple] = field(default_factory=list)

    async def admit(self, new: NewRun) -> FakeRun | Refusal:
        self.calls.append(("admit", new))
        return self.refuse or FakeRun(new.id, new.shown)

    async def progress(self, counter: str | None) -> list[Progress]:
        self.calls.append(("progress", counter))
        return self.progress_rows

    async def change(self, run: FakeRun, changes: dict, queued_params: dict, queued_event: dict) -> Changed | Sent:
        self.calls.append(("change", changes, queued_params, queued_event))
        return self.outcomes.pop(0)

    async def await_ack(self, run: FakeRun, ticket: Any, seconds: float) -> int | None:
        self.calls.append(("await_ack", ticket, seconds))
        if self.ack is None and self.stored.get("status") == "cancelled":
            raise RunFinished  # ended while it waited
        return self.ack

    async def reread(self, run: FakeRun) -> bool:
        self.calls.append(("reread",))
        run.status, run.params = self.stored["status"], self.stored["params"]
        return not run.finished

    async def cancel(self, run_id: str, queued_message: str) -> None:
        self.calls.append(("cancel", run_id, queued_message))

    frames: list[bytes] = field(default_factory=list)  # a stored run's
    events: list[TailedEvent | None] = field(default_factory=list)  # an active run's tail
    unwatched_ids: list[str] = field(default_factory=list)

    async def replay(self, run: StoredRun, after: int) -> AsyncIterator[bytes]:
        for frame in self.frames[after:]:
            yield frame

    async def tail(self, run: FakeRun, after: int) -> AsyncIterator[TailedEvent | None]:
        for event in self.events:
            yield event

    async def creator_frame(self, run: FakeRun, event: TailedEvent) -> bytes:
        return event.sse.replace(b"public", b"creator")

    async def unwatched(self) -> list[str]:
        return self.unwatched_ids


SETTINGS = Settings(runs_per_client=2, queue_size=3, control_ack_seconds=0.5, max_steps=100)


def service(transport: FakeTransport) -> RunService:
    return RunService(SETTINGS, transport)  # type: ignore[arg-type]


def test_a_run_is_admitted_with_its_shown_params_its_seat_and_the_settings_budget() -> None:
    transport = FakeTransport()
    run = asyncio.run(service(transport).submit(SplitDemo(), {"lr": 0.1, "text": "mine"}, "10.0.0.1"))
    (_, new), *_ = transport.calls
    assert run.params == {"lr": 0.1} and new.shown == {"lr": 0.1} and new.withheld == {"text": "mine"}
    assert new.holder == "10.0.0.1" and new.budget == Budget.of(SETTINGS)
    # By default the client's own limit first, then the queue (past the training slots).
    assert [(q.counter, q.limit, q.refusal) for q in new.quotas] == [("10.0.0.1", 2, ClientLimit), (None, 3, QueueFull)]
    assert len(new.id) == 12 and int(new.id, 16) >= 0 and new.control_token


def test_a_refused_run_gets_its_quotas_429_with_a_retry_after_from_the_runs_it_counts() -> None:
    budget = Budget.of(SETTINGS)
    counted = [
        Progress({"steps": 100}, "running", 50, 0.0, 10.0, budget),  # 50 steps in 10 s: 10 s left
        Progress({"steps": 100}, "running", 80, 0.0, 8.0, budget),  # 20 steps at 10/s: 2 s left
    ]
    transport = FakeTransport(refuse=Refusal(Quota("10.0.0.1", 2, ClientLimit), 4), progress_rows=counted)
    with pytest.raises(ClientLimit) as refused:
        asyncio.run(service(transport).submit(SplitDemo(), {}, "10.0.0.1"))
    assert ("progress", "10.0.0.1") in transport.calls
    assert refused.value.retry_after == 2  # the first of the seat's runs to end frees it


def test_a_run_is_refused_while_the_transport_is_not_accepting() -> None:
    transport = FakeTransport(accepting=False)
    with pytest.raises(ShuttingDown):
        asyncio.run(service(transport).submit(SplitDemo(), {}, "c"))
    assert transport.calls == []


def test_a_queued_run_takes_a_change_itself_from_step_0() -> None:
    transport = FakeTransport(outcomes=[Changed.QUEUED])
    run = FakeRun("r", {"lr": 0.1, "steps": 10})
    assert asyncio.run(service(transport).change(run, {"lr": 0.2})) == 0
    assert transport.calls == [("change", {"lr": 0.2}, {"lr": 0.2, "steps": 10}, {"step": 0, "changes": {"lr": 0.2}})]


def test_a_queued_run_cannot_be_paused_or_stepped_and_nothing_is_sent() -> None:
    transport = FakeTransport()
    for control in ({"paused": True}, {"step_once": True}):
        with pytest.raises(RunFinished):
            asyncio.run(service(transport).change(FakeRun("r", {}), control))
    with pytest.raises(RunFinished):
        asyncio.run(service(transport).change(FakeRun("r", {}, status="done"), {"lr": 0.2}))
    assert transport.calls == []


def test_a_change_that_lost_the_race_for_a_queued_run_is_made_again_from_what_the_run_has_now() -> None:
    transport = FakeTransport(outcomes=[Changed.STALE, Changed.QUEUED])
    transport.stored = {"status": "queued", "params": {"lr": 0.3, "steps": 20}}  # another change came first
    run = FakeRun("r", {"lr": 0.1, "steps": 10})
    assert asyncio.run(service(transport).change(run, {"lr": 0.2})) == 0
    assert transport.calls[-1][2] == {"lr": 0.2, "steps": 20}


def test_a_change_sent_to_a_worker_applies_from_the_step_its_ack_names() -> None:
    transport = FakeTransport(outcomes=[Sent("ticket")], ack=42)
    run = FakeRun("r", {"lr": 0.1}, status="running", step=30)
    assert asyncio.run(service(transport).change(run, {"lr": 0.2, "paused": True})) == 42
    assert ("await_ack", "ticket", SETTINGS.control_ack_seconds) in transport.calls


def test_an_ack_that_never_comes_answers_the_next_step() -> None:
    transport = FakeTransport(outcomes=[Sent("ticket")], stored={"status": "running", "params": {"lr": 0.1}})
    run = FakeRun("r", {"lr": 0.1}, status="running", step=30)
    assert asyncio.run(service(transport).change(run, {"lr": 0.2})) == 31


def test_a_run_that_ended_while_its_change_waited_is_finished() -> None:
    transport = FakeTransport(outcomes=[Sent("ticket")], stored={"status": "done", "params": {}})
    with pytest.raises(RunFinished):  # no ack, and the run has ended since
        asyncio.run(service(transport).change(FakeRun("r", {}, status="running"), {"lr": 0.2}))
    transport = FakeTransport(outcomes=[Changed.ENDED])
    with pytest.raises(RunFinished):  # it ended before the change reached it
        asyncio.run(service(transport).change(FakeRun("r", {}, status="running"), {"lr": 0.2}))


def test_a_cancel_ends_a_queued_run_with_the_queued_sentence() -> None:
    transport = FakeTransport()
    asyncio.run(service(transport).cancel("r"))
    assert transport.calls == [("cancel", "r", CANCELLED_QUEUED_MESSAGE)]


def test_a_stored_run_is_read_from_the_transport() -> None:
    stored = StoredRun("r", "counter", "done", {}, {}, 1.0, 2.0, 5, 7)

    class Loading(FakeTransport):
        async def load(self, run_id: str) -> StoredRun | None:
            return stored if run_id == "r" else None

    assert asyncio.run(service(Loading()).get("r")) is stored
    assert asyncio.run(service(Loading()).get("x")) is None


def frames(transport: FakeTransport, run: FakeRun | StoredRun, after: int = 0, creator: bool = False) -> list:
    async def read() -> list:
        return [frame async for frame in service(transport).follow(run, after, creator)]

    return asyncio.run(read())


def test_a_stored_run_is_replayed_after_the_event_asked_for() -> None:
    transport = FakeTransport(frames=[b"1", b"2", b"3"])
    assert frames(transport, StoredRun("r", "counter", "done", {}, {}, 1.0, 2.0, 5, 3), after=1) == [b"2", b"3"]


def test_an_active_run_is_followed_to_its_end_with_creator_frames_for_its_creator_only() -> None:
    tail: list[TailedEvent | None] = [
        TailedEvent("start", b"start public", has_creator_frame=True),
        None,  # a keep-alive is due
        TailedEvent("metrics", b"metrics public"),
        TailedEvent("end", b"end public"),
        TailedEvent("metrics", b"after the end"),  # never read: the stream ends at `end`
    ]
    transport = FakeTransport(events=tail)
    run = FakeRun("r", {}, status="running")
    assert frames(transport, run) == [b"start public", None, b"metrics public", b"end public"]
    assert frames(transport, run, creator=True) == [b"start creator", None, b"metrics public", b"end public"]


def test_each_unwatched_run_is_cancelled_as_its_reader_would() -> None:
    transport = FakeTransport(unwatched_ids=["a", "b"])
    asyncio.run(service(transport).cancel_unwatched())
    assert transport.calls == [("cancel", "a", CANCELLED_QUEUED_MESSAGE), ("cancel", "b", CANCELLED_QUEUED_MESSAGE)]


def test_the_idle_check_looks_again_after_a_failed_look_and_ends_with_the_service() -> None:
    """A look that fails (Redis unreachable, say) is logged, and the next one cancels as usual;
    once stopped, the service looks no more (0.2 s of checks at a 0.01 s period)."""

    class Flaky(FakeTransport):
        looks = 0

        async def start(self) -> None: ...

        async def stop(self) -> None: ...

        async def unwatched(self) -> list[str]:
            self.looks += 1
            if self.looks == 1:
                raise ConnectionError("the first look fails")
            return ["idle"]

    transport = Flaky()

    async def run_briefly() -> int:
        engine = RunService(SETTINGS.model_copy(update={"idle_cancel_seconds": 0.04}), transport)
        await engine.start()
        await asyncio.sleep(0.2)
        await engine.stop()
        looks = transport.looks
        await asyncio.sleep(0.05)
        return looks

    looks_at_stop = asyncio.run(run_briefly())
    assert looks_at_stop > 2 and transport.looks == looks_at_stop
    assert ("cancel", "idle", CANCELLED_QUEUED_MESSAGE) in transport.calls
