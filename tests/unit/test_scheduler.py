"""The worker's scheduler on a fake clock: many runs in one process, steps interleaved."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest
from pydantic import Field

from app.demos.artifacts import ArtifactStore
from app.demos.base import Control, Demo, DemoParams
from app.playground.core.interface import SERVER_STOPPED, SERVER_STOPPED_MESSAGE, collapse, shown_changes
from app.playground.core.messages import Applied, Change, Ended, Points, Started, StartRun, StopRun
from app.playground.core.scheduler import FLUSHES_PER_SECOND, TURN_SECONDS, Scheduler

STEP_COST = 0.001  # seconds each step takes on the fake clock


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeConn:
    """The worker's end of the pipe: messages in, messages out, no process."""

    def __init__(self) -> None:
        self.inbox: list = []
        self.sent: list = []

    def poll(self, timeout: float | None = 0) -> bool:
        return bool(self.inbox)

    def recv(self):
        return self.inbox.pop(0)

    def send(self, message) -> None:
        self.sent.append(message)


class TickParams(DemoParams):
    steps: int = Field(10_000, ge=1)
    pace: float = Field(0, ge=0)
    nan_at: int = Field(-1, ge=-1)
    lr: float = Field(0.1, gt=0)


def make_scheduler(trace: list[int] | None = None) -> tuple[Scheduler, FakeConn, FakeClock]:
    """`trace`, if given, gets the seq of each run as it steps, in order."""
    clock, conn = FakeClock(), FakeConn()

    def tick(p: TickParams, ctl: Control):
        for step in range(p.steps):
            clock.now += STEP_COST  # the step's own work, on the wall and CPU clocks alike
            if trace is not None:
                trace.append(ctl.seq)  # the scheduler's Run is the demo's control
            yield {"step": step, "loss": math.nan if step == p.nan_at else 1.0, "lr": ctl.params.lr}

    demo = Demo(name="tick", title="tick", terms=(), Params=TickParams, train=tick, live=frozenset({"lr", "pace"}))
    scheduler = Scheduler(
        conn, {"tick": demo}, "cpu", ArtifactStore(Path("/nonexistent")), [0.0, 0.0, 0.0], clock, clock
    )
    return scheduler, conn, clock


def start(
    conn: FakeConn, seq: int, cpu_budget: float = 1e9, max_steps: int = 10**9, wall_seconds: float = math.inf, **params
) -> None:
    conn.inbox.append(StartRun(seq, "tick", params, max_steps, cpu_budget, wall_seconds))


def drive(scheduler: Scheduler, clock: FakeClock, seconds: float) -> None:
    """The serve loop, with the fake clock jumping to what falls due next instead of sleeping."""
    until = clock.now + seconds
    while clock.now < until:
        scheduler.poll_messages(force=True)
        if not scheduler.step_next():
            clock.now = min(scheduler.next_due(), until)


def points_of(message: Points) -> list[dict]:
    """The points of a Points message, as sent."""
    return json.loads(message.payload)["points"]


def steps_by_run(conn: FakeConn) -> Counter:
    return Counter({m.seq: 0 for m in conn.sent if isinstance(m, Started)}) + Counter(
        m.seq for m in conn.sent if isinstance(m, Points) for _ in points_of(m)
    )


def ends(conn: FakeConn) -> dict[int, tuple]:
    return {m.seq: (m.status, m.message, m.summary, m.reason) for m in conn.sent if isinstance(m, Ended)}


def test_paced_runs_keep_their_pace() -> None:
    scheduler, conn, clock = make_scheduler()
    for seq, pace in ((1, 10), (2, 30), (3, 240)):
        start(conn, seq, pace=pace)
    drive(scheduler, clock, 2.0)
    scheduler.flush_all()
    counts = steps_by_run(conn)
    assert counts[1] == pytest.approx(20, abs=1)
    assert counts[2] == pytest.approx(60, abs=1)
    assert counts[3] == pytest.approx(480, abs=2)


def test_unpaced_runs_share_the_time_equally() -> None:
    scheduler, conn, clock = make_scheduler()
    for seq in (1, 2, 3):
        start(conn, seq)
    drive(scheduler, clock, 0.9)  # 900 steps of 1 ms
    scheduler.flush_all()
    assert set(steps_by_run(conn).values()) == {300}


def test_an_unpaced_turn_lasts_turn_seconds_and_a_paced_run_due_cuts_it_short() -> None:
    per_turn = round(TURN_SECONDS / STEP_COST)
    assert per_turn > 1  # else this test shows nothing
    trace: list[int] = []
    scheduler, conn, clock = make_scheduler(trace)
    start(conn, 1)
    start(conn, 2)
    drive(scheduler, clock, 4 * per_turn * STEP_COST)
    assert trace == ([1] * per_turn + [2] * per_turn) * 2

    trace.clear()
    start(conn, 3, pace=1 / (1.5 * STEP_COST))  # falls due halfway through the others' turns
    drive(scheduler, clock, 6 * STEP_COST)
    assert trace[:3] == [3, 1, 3]  # run 1's turn ends after one step: run 3 fell due within it
    assert trace.count(3) == 4  # its pace held: 6 ms at one step per 1.5 ms


def test_a_paced_run_keeps_its_pace_beside_runs_at_full_speed() -> None:
    scheduler, conn, clock = make_scheduler()
    start(conn, 1, pace=30)
    start(conn, 2)
    start(conn, 3)
    drive(scheduler, clock, 1.0)
    scheduler.flush_all()
    counts = steps_by_run(conn)
    assert counts[1] == pytest.approx(30, abs=1)
    assert abs(counts[2] - counts[3]) <= 1 and counts[2] + counts[3] + counts[1] == pytest.approx(1000, abs=2)


def test_pause_and_single_step() -> None:
    scheduler, conn, clock = make_scheduler()
    start(conn, 1, pace=50)
    start(conn, 2, pace=50)
    drive(scheduler, clock, 0.2)
    conn.inbox.append(Change(1, {"paused": True}))
    drive(scheduler, clock, 0.01)
    paused_at = steps_by_run(conn)[1]
    drive(scheduler, clock, 1.0)
    assert steps_by_run(conn)[1] == paused_at  # paused: no steps, and the others go on
    conn.inbox.append(Change(1, {"step_once": 1}))
    drive(scheduler, clock, 0.5)
    assert steps_by_run(conn)[1] == paused_at + 1  # exactly one, sent at once
    conn.inbox.append(Change(1, {"paused": False}))
    drive(scheduler, clock, 1.0)
    scheduler.flush_all()
    assert steps_by_run(conn)[1] == pytest.approx(paused_at + 1 + 50, abs=1)
    acks = [(m.step, m.changes) for m in conn.sent if isinstance(m, Applied)]
    assert [changes for _, changes in acks] == [{"paused": True}, {"step_once": 1}, {"paused": False}]
    assert acks[1][0] == paused_at  # the single step is the next step after the pause


def test_a_live_change_applies_from_the_step_its_acknowledgement_names() -> None:
    scheduler, conn, clock = make_scheduler()
    start(conn, 1, pace=100)
    drive(scheduler, clock, 0.1)
    conn.inbox.append(Change(1, {"lr": 0.5}))
    drive(scheduler, clock, 0.1)
    scheduler.flush_all()
    applies_from = next(m.step for m in conn.sent if isinstance(m, Applied))
    points = [p for m in conn.sent if isinstance(m, Points) for p in points_of(m)]
    assert [p["lr"] for p in points] == [0.1] * applies_from + [0.5] * (len(points) - applies_from)


def test_a_run_that_ends_or_diverges_leaves_the_others_running() -> None:
    scheduler, conn, clock = make_scheduler()
    start(conn, 1, steps=5)
    start(conn, 2, nan_at=3)
    start(conn, 3, pace=100)
    drive(scheduler, clock, 1.0)
    scheduler.flush_all()
    finished = ends(conn)
    assert finished[1][0] == "done" and finished[2][0] == "diverged"
    assert 3 not in finished and steps_by_run(conn)[3] == pytest.approx(100, abs=1)


def test_a_run_is_charged_only_for_its_own_steps() -> None:
    scheduler, conn, clock = make_scheduler()
    start(conn, 1, cpu_budget=0.05)  # 50 steps of 1 ms
    for seq in range(2, 6):
        start(conn, seq)  # four others take turns, so the wall clock runs five times as fast
    drive(scheduler, clock, 0.3)
    status, message, _summary, _reason = ends(conn)[1]
    assert status == "timeout" and "0.05 s of compute" in message
    assert steps_by_run(conn)[1] == pytest.approx(51, abs=1)


def test_stop_and_step_budget() -> None:
    scheduler, conn, clock = make_scheduler()
    start(conn, 1, max_steps=7)
    start(conn, 2, pace=10)
    start(conn, 3, pace=10)
    drive(scheduler, clock, 0.5)
    conn.inbox.append(StopRun(2, "cancelled"))
    conn.inbox.append(StopRun(3, SERVER_STOPPED))
    drive(scheduler, clock, 0.1)
    finished = ends(conn)
    assert finished[1][0] == "done" and "budget of 7 steps" in finished[1][1]
    assert finished[2] == ("cancelled", "Cancelled.", {}, None)
    assert finished[3] == ("cancelled", SERVER_STOPPED_MESSAGE, {}, SERVER_STOPPED)  # not the reader's cancel
    assert not scheduler.runs and not scheduler.step_next()


def test_a_run_ends_at_its_wall_time_limit_paused_or_stepping_and_a_run_under_it_goes_on() -> None:
    scheduler, conn, clock = make_scheduler()
    start(conn, 1, wall_seconds=2.0, pace=10)
    start(conn, 2, wall_seconds=2.0)  # unpaced: it steps all the time
    drive(scheduler, clock, 0.5)
    start(conn, 3, wall_seconds=2.0, pace=10)  # its limit counts from its own start: 2.5 s
    conn.inbox.append(Change(1, {"paused": True}))
    drive(scheduler, clock, 1.49)
    assert not ends(conn) and clock.now < 2.0
    drive(scheduler, clock, 0.02)
    wall_time = ("timeout", "Stopped: the run reached its wall-time limit.", {}, None)
    assert ends(conn) == {1: wall_time, 2: wall_time}  # paused, and stepping: both at 2 s
    assert list(scheduler.runs) == [3]
    stepped = steps_by_run(conn)[3]
    drive(scheduler, clock, 0.4)
    assert list(scheduler.runs) == [3] and steps_by_run(conn)[3] > stepped  # under its limit: it goes on
    conn.inbox.append(Change(3, {"paused": True}))
    drive(scheduler, clock, 0.01)
    assert scheduler.next_due() == pytest.approx(2.5)  # all paused: the sleep ends at the limit
    drive(scheduler, clock, 5.0)
    assert ends(conn)[3] == wall_time and not scheduler.runs


def test_many_runs_send_their_points_in_fewer_bigger_batches() -> None:
    scheduler, conn, clock = make_scheduler()
    runs = 2 * FLUSHES_PER_SECOND // 30  # at 30 steps/s each, per-step sends would be twice the cap
    for seq in range(runs):
        start(conn, seq, pace=30)
    drive(scheduler, clock, 2.0)
    batches = sum(isinstance(m, Points) for m in conn.sent)
    assert batches <= 2 * FLUSHES_PER_SECOND + runs  # each run's first point goes out at once
    scheduler.flush_all()
    assert all(count == pytest.approx(60, abs=1) for count in steps_by_run(conn).values())  # no point lost


def test_changes_collapse_to_the_latest_value_of_each_field_and_the_sum_of_single_steps() -> None:
    waiting = [{"lr": 0.1, "step_once": True}, {"lr": 0.2, "paused": True}, {"step_once": True}, {"paused": False}]
    assert collapse(waiting) == {"lr": 0.2, "paused": False, "step_once": 2}
    assert collapse([{"lr": 0.3}]) == {"lr": 0.3} and collapse([]) == {}
    assert shown_changes({"paused": True, "step_once": 2}) == {"paused": True, "step_once": True}


def test_live_changes_that_wait_together_apply_as_one_batch_answering_each() -> None:
    scheduler, conn, clock = make_scheduler()
    start(conn, 1, pace=100)
    start(conn, 2, pace=100)
    drive(scheduler, clock, 0.1)
    burst = [{"lr": 0.2}, {"lr": 0.3, "pace": 50}, {"paused": True}, {"step_once": True}, {"step_once": True}]
    conn.inbox += [Change(1, changes) for changes in burst[:3]]
    conn.inbox.append(Change(2, {"lr": 0.5}))  # another run's change is its own batch
    conn.inbox += [Change(1, changes) for changes in burst[3:]]
    scheduler.poll_messages(force=True)
    scheduler.flush_all()
    stepped = steps_by_run(conn)[1]
    acks = [m for m in conn.sent if isinstance(m, Applied)]
    assert [(m.seq, m.changes, m.patches) for m in acks] == [
        (1, {"lr": 0.3, "pace": 50, "paused": True, "step_once": True}, 5),
        (2, {"lr": 0.5}, 1),
    ]
    drive(scheduler, clock, 1.0)
    scheduler.flush_all()
    assert steps_by_run(conn)[1] == stepped + 2  # paused, then the two single steps asked for
