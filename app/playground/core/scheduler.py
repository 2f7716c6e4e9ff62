"""The worker process: torch loaded once, then many runs at a time, their steps interleaved.

Each run is its demo's generator; one step is one `next()`. The scheduler steps whichever run is
due: a paced run at its next due time (it waits in a heap), one step; otherwise the unpaced runs
in turn (a round-robin deque), so none starves, each stepping for a turn of TURN_SECONDS (one step
at least; a paced run that falls due ends the turn early). A paused run is in neither until it is
resumed or asked for a single step. A run is charged for the CPU time of its own steps, never for
the time it waits for its turn; and it ends at its wall-time limit, paused or not, on this
process's clock (a step that never returns is the engine's to see: the watchdog below).

Messages (core/messages.py, `seq` naming the run). From the engine: StartRun (with the run's
budget: steps, compute, wall time); Change (live params and/or "paused" and/or "step_once"; those
of one run that wait together apply as one batch, `collapse`); StopRun (why: 'cancelled' by the
reader, or SERVER_STOPPED); None: end every run as stopped by the server and exit. To the engine:
Ready once; then per run Started, Points, Applied (a batch of changes from a step on, answering
`patches` Changes in the order they came) and Ended. Points carry their `metrics` event's data
encoded here, once (events.encode_event): the web process or Redis only frames it, whoever follows
the run.

While a step runs, `watchdog[0]` holds its start (time.monotonic, shared by every process on the
host) and `watchdog[1]` its run's seq, so the engine can see a step that hangs and kill us.
`watchdog[2]` is the heartbeat: when the loop last came round, at least every `beat_seconds` while
idle, so the engine can also see a worker that stopped between steps (frozen, SIGSTOP).
"""

from __future__ import annotations

import heapq
import importlib
import logging
import math
import multiprocessing
import os
import pkgutil
import signal
import time
import uuid
import warnings
from collections import deque
from collections.abc import Callable, Generator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol, cast

from app.demos import load_demos
from app.demos.artifacts import Artifact, ArtifactDamaged, ArtifactStore
from app.demos.base import Demo, DemoParams, InlineControl, Point
from app.demos.divergence import diverged
from app.playground.core.events import encode_event
from app.playground.core.interface import SERVER_STOPPED, SERVER_STOPPED_MESSAGE, collapse, shown_changes
from app.playground.core.messages import (
    Applied,
    Change,
    Ended,
    FromWorker,
    Points,
    Ready,
    Started,
    StartRun,
    StopRun,
    ToWorker,
)

FLUSH_SECONDS = 1 / 30  # at most ~30 metric events a second per run reach a client
# ... and at most this many a second per worker in all: with many runs each run's points go out
# in fewer, bigger batches, so the pipes, the web process and the browsers are not swamped by
# thousands of tiny events (a class of 200 at 30 steps/s would be 6000 a second).
FLUSHES_PER_SECOND = 500
POLL_SECONDS = 0.002  # how often a worker at full speed looks for messages
TURN_SECONDS = 0.002  # an unpaced run steps this long per turn (at least one step)
CATCH_UP_SECONDS = 0.25  # a paced run this late catches up (steps sooner); later, it starts afresh
WORKER_NICENESS = 5

log = logging.getLogger("modelterms.worker")


class MessageLink(Protocol):
    """What the Scheduler reads its messages from and sends its own to: the pipe to the web
    process (embedded), or the Redis worker's RedisConn."""

    def poll(self, timeout: float | None = 0) -> bool: ...

    def recv(self) -> ToWorker: ...

    def send(self, message: FromWorker) -> None: ...


def worker_main(
    conn: Connection,
    device_setting: str,
    artifacts_dir: Path,
    extra_demo_modules: list[str],
    watchdog: Any,
    beat_seconds: float,
) -> None:
    # torch looks for NumPy at import and warns when it is absent; no demo needs it.
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
    import torch

    torch.set_num_threads(1)  # many small runs side by side beat one run fighting for cores
    # Ctrl+C or a SIGTERM to the whole process group must not kill runs mid-step: the engine
    # stops the workers itself, after ending their runs as cancelled.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.nice(WORKER_NICENESS)  # pages stay fast while runs train: the web process wins the CPU
    device = "cuda" if device_setting == "cuda" or (device_setting == "auto" and torch.cuda.is_available()) else "cpu"
    demos = load_demos(extra_demo_modules)
    warm_up()
    watchdog[2] = time.monotonic()  # alive from the moment the engine hears it is ready
    conn.send(Ready(device))
    Scheduler(conn, demos, device, ArtifactStore(artifacts_dir), watchdog, beat_seconds=beat_seconds).serve()


def import_training_code() -> None:
    """Import torch and the training code: seconds of CPU, paid once per process (or once per
    forkserver, see `process_context`). Only imports: nothing here starts a thread or a device."""
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
    import torch._dynamo  # noqa: F401  the first optimizer step a process takes imports it (seconds)

    import app.ml
    import app.training

    for package in (app.ml, app.training):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")


ProcessContext = multiprocessing.context.SpawnContext | multiprocessing.context.ForkServerContext
"""The two ways worker and build processes may start (BaseContext itself has no `Process`)."""


def process_context() -> ProcessContext:
    """How worker and build processes start. Where the platform has it, a forkserver that has
    imported the training code once (`app.playground.core.worker_preload`) forks each of them in a
    fraction of a second; `spawn` would import torch afresh in each (about 3.5 s of CPU). The web
    process itself never imports torch either way."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["app.playground.core.worker_preload"])
    return context


def warm_up() -> None:
    """Import the training code and take one optimizer step now, so no run pays for it (the
    first step builds state every later one reuses, and a run sharing this worker would stall)."""
    import torch

    import_training_code()
    weight = torch.zeros(2, requires_grad=True)
    for optimizer in (torch.optim.SGD([weight], lr=0.1), torch.optim.Adam([weight], lr=0.1)):
        (weight - 1).square().sum().backward()
        optimizer.step()


class Stop(Exception):
    def __init__(self, status: str, message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Run(InlineControl):
    """One run inside the worker; it is also the `Control` handle the demo trains against."""

    def __init__(
        self,
        seq: int,
        demo: Demo,
        params: DemoParams,
        device: str,
        artifacts: ArtifactStore,
        max_steps: int,
        cpu_budget: float,
        hidden: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(params, device, artifacts)
        self.seq = seq
        self.demo = demo
        self.hidden = hidden
        self.max_steps = max_steps
        self.cpu_budget = cpu_budget
        self.cpu_seconds = 0.0
        self.taken = 0  # steps taken: `next()` calls that returned points
        self.started = False  # the start event has gone out
        self.paused = False
        self.single_steps = 0
        self.pace = _pace(params)
        self.due = 0.0  # when a paced run may take its next step
        self.next_step = 0  # the step the next yield will log: changes apply from here
        self.pending: list[Point] = []
        self.flush_due = -math.inf  # when pending points go out; the first point goes out at once
        self.ticket = 0  # see Scheduler.schedule
        # Every demo's train function is a generator (its return value is the summary), so the run
        # can be closed when it ends early; Demo.steps promises only an iterator.
        self.steps = cast(Generator[Point | list[Point], None, dict[str, Any] | None], demo.steps(params, self))

    def artifact(self, artifact: Artifact) -> Path:
        return self._artifacts.checked(artifact)  # hashed at every load: a file may rot after it was checked

    def announce(self, **facts: Any) -> None:
        if not self.started:  # the start event has gone out: later facts have nowhere to go
            super().announce(**facts)

    def apply(self, changes: dict[str, Any]) -> None:
        params = {k: v for k, v in changes.items() if k not in ("paused", "step_once")}
        if params:
            self.change(**params)
            self.pace = _pace(self._params)
        if "paused" in changes:
            self.paused = bool(changes["paused"])
            self.single_steps = 0
        if changes.get("step_once"):
            self.single_steps += int(changes["step_once"])

    @property
    def runnable(self) -> bool:
        return not self.paused or self.single_steps > 0


class Scheduler:
    """Runs many demos' generators in one process, stepping whichever is due."""

    def __init__(
        self,
        conn: MessageLink,
        demos: dict[str, Demo],
        device: str,
        artifacts: ArtifactStore,
        watchdog: Any,
        clock: Callable[[], float] = time.monotonic,
        cpu_clock: Callable[[], float] = time.thread_time,
        beat_seconds: float = 1.0,
    ) -> None:
        self.conn = conn
        self.beat_seconds = beat_seconds
        self.demos = demos
        self.device = device
        self.artifacts = artifacts
        self.watchdog = watchdog
        self.clock = clock
        self.cpu_clock = cpu_clock
        self.runs: dict[int, Run] = {}
        self.round_robin: deque[tuple[int, Run]] = deque()  # unpaced runnable runs, next on the left
        # Places in line are (due, seq, ticket, run) in the heap and (ticket, run) in the deque; a
        # place whose ticket is older than its run's is void (the run was rescheduled or ended).
        self.paced: list[tuple[float, int, int, Run]] = []
        # (when it ends, the order it started in, run): a run's wall-time limit; an ended run's is void.
        self.wall_limits: list[tuple[float, int, Run]] = []
        self.started_count = 0
        self.last_poll = -math.inf
        self.exiting = False

    # --- the loop ----------------------------------------------------------------------------
    def serve(self) -> None:
        while not self.exiting:
            self.watchdog[2] = self.clock()  # the heartbeat: the loop came round
            self.poll_messages()
            if not self.step_next():
                self.wait()
        for run in list(self.runs.values()):
            self.finish(run, *_STOPPED[SERVER_STOPPED])

    def poll_messages(self, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self.last_poll < POLL_SECONDS:
            return
        self.last_poll = now
        self.stop_past_wall_time(now)
        waiting: list[ToWorker] = []  # all that has come, so that live changes go as one batch
        while not self.exiting and self.conn.poll():
            waiting.append(self.conn.recv())
            if waiting[-1] is None:
                break  # exit: nothing after it is read
        for message in batched(waiting):
            self.handle(message)

    def stop_past_wall_time(self, now: float) -> None:
        """End every run whose wall-time limit has come, whether it steps, waits or is paused."""
        while self.wall_limits and self.wall_limits[0][0] <= now:
            run = heapq.heappop(self.wall_limits)[2]
            if self.runs.get(run.seq) is run:
                self.finish(run, *WALL_TIME_LIMIT)

    def next_due(self) -> float:
        """When the next thing falls due that no message brings: a paced run's step, or a run's
        wall-time limit (either may be void by then: waking early is harmless)."""
        return min(
            self.paced[0][0] if self.paced else math.inf, self.wall_limits[0][0] if self.wall_limits else math.inf
        )

    def wait(self) -> None:
        """Nothing is due: sleep until the next paced step, wall-time limit or message.

        No run waits here with points unsent for long: a run sends its points at least every
        flush_seconds while it steps, and all of them when it pauses or ends."""
        timeout = max(self.next_due() - self.clock(), 0)
        if timeout > self.flush_seconds:
            self.flush_all()  # a long sleep ahead: send what is pending first
        if self.conn.poll(min(timeout, self.beat_seconds)):  # awake at least once a beat
            self.poll_messages(force=True)

    def step_next(self) -> bool:
        """Give the run that is due its turn; False when none is."""
        now = self.clock()
        run = None
        while self.paced and self.paced[0][0] <= now:
            _, _, ticket, candidate = heapq.heappop(self.paced)
            if candidate.ticket == ticket:
                run = candidate
                break
        while run is None and self.round_robin:
            ticket, candidate = self.round_robin.popleft()
            if candidate.ticket == ticket:
                run = candidate
        if run is None:
            return False
        self.take_turn(run, now)
        return True

    def take_turn(self, run: Run, now: float) -> None:
        """One step of a paced or paused run; an unpaced run steps on until its turn is over
        (TURN_SECONDS, or sooner when a paced run falls due). The loop's cost of choosing a run
        and putting it back in line is paid once a turn, not once a step: for the fastest demos
        (a few hundred microseconds a step) that cost was a tenth of their time."""
        turn_ends = now  # a paced or paused run: one step
        if not run.pace and not run.paused:
            turn_ends = now + TURN_SECONDS
            if self.paced:
                turn_ends = min(turn_ends, self.paced[0][0])  # the next paced run's due time
        self.watchdog[1] = run.seq
        cpu_start = self.cpu_clock()
        try:
            ended = self.steps_until(run, now, turn_ends)
        finally:
            self.watchdog[2] = self.clock()  # a beat first: the engine never sees a long step's end as silence
            self.watchdog[0] = 0.0
            run.cpu_seconds += self.cpu_clock() - cpu_start
        if ended:
            return
        if run.cpu_seconds > run.cpu_budget:
            self.finish(run, "timeout", f"Stopped: the run used up its budget of {run.cpu_budget:g} s of compute.")
            return
        if not run.runnable:
            self.flush(run)  # a single step while paused: show it now, nothing follows soon
        self.schedule(run, stepped_at=now)

    def steps_until(self, run: Run, now: float, turn_ends: float) -> bool:
        """The hot loop: steps of one run, at least one, until `turn_ends`. True if the run ended."""
        watchdog = self.watchdog
        while True:
            if run.paused:
                run.single_steps -= 1
            watchdog[0] = now
            ended: tuple[str, str, dict | None] | None = None  # status, message, summary
            try:
                out = next(run.steps)
            except StopIteration as finished:
                ended = ("done", "", finished.value or {})
            except ArtifactDamaged as error:  # the server's file, not a bug: say what happened
                ended = ("failed", str(error), None)
            except Exception as error:  # a bug in a demo ends its run, never the worker
                ended = ("failed", _failure_message(run, error), None)
            now = self.clock()
            # The step is over: what follows (sending its points) is watched by the heartbeat, so a
            # worker frozen there is seen in a few beats, not only after max_step_seconds.
            watchdog[2], watchdog[0] = now, 0.0
            if ended is not None:
                self.finish(run, *ended)
                return True
            try:
                self.record(run, out if isinstance(out, list) else [out], now)
            except Stop as stop:
                self.finish(run, stop.status, stop.message)
                return True
            run.taken += 1
            if run.taken >= run.max_steps:
                self.finish(run, "done", f"Stopped at the server's budget of {run.max_steps} steps.")
                return True
            if now >= turn_ends or not run.runnable:
                return False

    def schedule(self, run: Run, stepped_at: float | None = None) -> None:
        """Put a run in line (anew: any place it held before is void). A paced run goes to the heap
        at its next due time, an unpaced one to the back of the round robin; a paused one nowhere.
        `stepped_at`: the run has just taken a step then (else it may step at once)."""
        run.ticket += 1
        if run.seq not in self.runs or not run.runnable:
            return
        if not run.pace:
            self.round_robin.append((run.ticket, run))
            return
        interval = 1 / run.pace
        if stepped_at is None:
            run.due = self.clock()
        elif run.due < stepped_at - max(interval, CATCH_UP_SECONDS):
            run.due = stepped_at + interval  # fell far behind (a busy machine): start afresh, no burst
        else:
            run.due += interval  # on time, or a little late: keep the pace exactly on average
        heapq.heappush(self.paced, (run.due, run.seq, run.ticket, run))

    # --- points ------------------------------------------------------------------------------
    def record(self, run: Run, points: list[Point], now: float) -> None:
        """Runs once per step, so it does the least it can (no copies)."""
        if not points:
            return
        self.ensure_started(run)
        run.pending.extend(points)
        run.next_step = points[-1]["step"] + 1  # every point of one yield belongs to one step
        bound = run.demo.loss_bound
        for point in points:
            if not diverged(point, bound):
                break  # one healthy series keeps the run going
        else:
            raise Stop("diverged", _diverged_message(points[0], bound))
        if now >= run.flush_due:
            self.flush(run)

    @property
    def flush_seconds(self) -> float:
        """How long a stepping run's points may wait to go out: FLUSH_SECONDS, or longer when this
        worker holds so many runs that they would send more than FLUSHES_PER_SECOND in all."""
        return max(FLUSH_SECONDS, len(self.runs) / FLUSHES_PER_SECOND)

    def ensure_started(self, run: Run) -> None:
        if not run.started:
            run.started = True
            self.conn.send(Started(run.seq, run.facts))

    def flush_all(self) -> None:
        for run in self.runs.values():
            if run.pending:
                self.flush(run)

    def flush(self, run: Run) -> None:
        if run.pending:
            payload, creator_payload = encode_event("metrics", {"points": run.pending}, run.hidden)
            self.conn.send(Points(run.seq, run.pending[-1]["step"], payload, creator_payload))
            run.pending = []
        run.flush_due = self.clock() + self.flush_seconds  # once a flush, not once a step

    # --- messages ----------------------------------------------------------------------------
    def handle(self, message: ToWorker) -> None:
        if message is None:
            self.exiting = True
            return
        if isinstance(message, StartRun):
            self.start(message)
            return
        run = self.runs.get(message.seq)
        if run is None:
            return  # a message for a run that has just ended: stale
        if isinstance(message, StopRun):
            self.finish(run, *_STOPPED[message.why])
            return
        before = (run.runnable, run.pace)
        run.apply(message.changes)
        self.flush(run)  # the points before a change must precede its control event
        self.conn.send(Applied(run.seq, run.next_step, shown_changes(message.changes), message.patches))
        if (run.runnable, run.pace) != before:
            self.schedule(run)  # resumed, paused, stepped once or re-paced: a new place in line

    def start(self, order: StartRun) -> None:
        demo, seq = self.demos[order.demo], order.seq
        ends_at = self.clock() + order.wall_seconds
        cpu_start = self.cpu_clock()
        try:
            parsed = demo.parse(order.params)
            run = Run(seq, demo, parsed, self.device, self.artifacts, order.max_steps, order.cpu_budget, order.hidden)
        except Exception as error:
            self.conn.send(Started(seq, {}))
            self.conn.send(Ended(seq, "failed", _failure_message(None, error), {}))
            return
        run.cpu_seconds += self.cpu_clock() - cpu_start
        self.runs[seq] = run
        self.started_count += 1  # orders runs that end at the same time: a Run itself has no order
        heapq.heappush(self.wall_limits, (ends_at, self.started_count, run))
        self.schedule(run)

    def finish(
        self, run: Run, status: str, message: str, summary: dict | None = None, reason: str | None = None
    ) -> None:
        self.runs.pop(run.seq, None)
        run.ticket += 1  # void its place in line
        try:
            run.steps.close()
        except Exception:  # a demo's cleanup that fails must not take the others down
            log.exception("closing run %s failed", run.seq)
        self.ensure_started(run)
        self.flush(run)
        self.conn.send(Ended(run.seq, status, message, summary or {}, reason))


def batched(messages: list[ToWorker]) -> list[ToWorker]:
    """The messages as the scheduler acts on them: each run's live changes that arrived together
    become one Change (collapsed, with how many they were) where the first of them came."""
    acted: list[ToWorker] = []
    batches: dict[int, list[dict[str, Any]]] = {}  # seq -> its changes waiting, in the order they came
    for message in messages:
        if not isinstance(message, Change):
            acted.append(message)
            continue
        if message.seq not in batches:
            batches[message.seq] = []
            acted.append(message)  # the batch's place: filled in below
        batches[message.seq].append(message.changes)
    return [Change(m.seq, collapse(batches[m.seq]), len(batches[m.seq])) if isinstance(m, Change) else m for m in acted]


def _pace(params: DemoParams) -> float:
    """Steps per second the reader asked for; 0 (or no `pace` param) means as fast as possible."""
    return float(getattr(params, "pace", 0) or 0)


def _diverged_message(point: Point, bound: float) -> str:
    loss = point.get("loss")
    finite = isinstance(loss, int | float) and math.isfinite(loss)
    what = f"grew past {bound:g}" if finite else "stopped being a finite number"
    lr = point.get("lr")
    rate = f" at learning rate {lr:g}" if isinstance(lr, int | float) else ""
    return (
        f"Diverged at step {point['step']}: the loss {what}{rate}. Each update overshot the minimum by more "
        "than it corrected, so the error grew instead of shrinking. Try a smaller learning rate."
    )


def _failure_message(run: Run | None, error: Exception) -> str:
    """What a reader may see of a bug: a plain sentence and an id; the details go to the log."""
    error_id = uuid.uuid4().hex[:8]
    log.error("run failed (error id %s)", error_id, exc_info=error)
    where = f" at step {run.next_step}" if run is not None else " while starting"
    return f"The demo failed{where} because of an error on the server (error id {error_id})."


_STOPPED: dict[str, tuple[str, str, dict | None, str | None]] = {
    "cancelled": ("cancelled", "Cancelled.", None, None),
    SERVER_STOPPED: ("cancelled", SERVER_STOPPED_MESSAGE, None, SERVER_STOPPED),
}
"""A stop's `why` -> how the run ends: status, message[, summary, reason]."""
WALL_TIME_LIMIT = ("timeout", "Stopped: the run reached its wall-time limit.")
"""How a run ends at its wall-time limit: status, message."""
