"""The embedded backend's transport (core.transport.RunTransport): admission's counts, worker
processes that each hold many runs, budgets, live control, prepared artifacts, event logs and
storage. The decisions of the web side are core.service.RunService's.

Everything here runs on the web server's event loop (every state change happens there) and
never imports torch; the workers (app.playground.core.scheduler) do the training. Each worker's pipe is
read and written by two small threads (`WorkerLink`) with blocking calls, and what they receive is
handed to the loop: a worker busy inside a long step can never block the loop, and the pipe is
never switched to non-blocking mode (uvloop's `add_reader` does that, and a message bigger than
the pipe's buffer then fails half-read). Live changes go to the worker as they come; the worker
applies those of a run that wait together as one batch (`interface.collapse`), as on Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import time
from collections import OrderedDict, deque
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from app.demos.artifacts import Artifact, ArtifactStore
from app.demos.base import Demo
from app.playground.core import admission
from app.playground.core.events import Event, EventLog, end_data
from app.playground.core.interface import (
    ACTIVE,
    DEAD_AFTER_BEATS,
    SERVER_STOPPED,
    SERVER_STOPPED_MESSAGE,
    Budget,
    RunFinished,
    StoredRun,
)
from app.playground.core.messages import Change, FromWorker, Ready, StartRun, StopRun
from app.playground.core.scheduler import process_context, worker_main
from app.playground.core.supervisor import supervise
from app.playground.core.transport import Changed, NewRun, Progress, Refusal, Sent
from app.playground.core.watchdog import WorkerStop, hung_step
from app.playground.embedded.link import WorkerLink
from app.playground.embedded.preparing import Preparation
from app.playground.embedded.store import RunStore
from app.settings import Settings

WATCHDOG_SECONDS = 0.25
STOP_GRACE_SECONDS = 3.0
RECENT_RUNS = 32  # finished runs kept in memory (a big one holds MBs of points); older ones come from the store
INTERRUPTED = "The server stopped during this run, so it could not finish. Start it again."

log = logging.getLogger("modelterms.engine")


@dataclass(eq=False, repr=False)  # a run is itself (identity), and its repr would hold every event
class Run:
    id: str
    demo: Demo
    params: dict[str, Any]  # as shown (Demo.shown), as on every backend: never a reader's withheld text
    client: str = ""  # the seat's holder: an address, or a student of a class
    counted: tuple[str, ...] = ()  # the names it counts under while active (core.admission.counters)
    seq: int = 0  # names the run on the wire to its worker
    created: float = field(default_factory=time.time)
    status: str = "queued"
    log: EventLog = field(default_factory=EventLog)
    worker: Worker | None = None
    started_at: float | None = None
    step: int = 0
    clients: int = 0
    last_watched: float = field(default_factory=time.monotonic)
    summary: dict[str, Any] = field(default_factory=dict)
    waiting_for: set[str] = field(default_factory=set)  # artifacts still being prepared
    acks: deque[asyncio.Future] = field(default_factory=deque)
    """The PATCHes sent to the worker and not yet answered, in the order they went."""
    control_token: str = field(kw_only=True)
    """Given to the run's creator only; PATCH and DELETE need it (the permalink is read-only)."""
    withheld: dict[str, Any] = field(default_factory=dict)
    """What only the worker may have (Demo.private_split); handed over and forgotten when it starts."""
    hidden: frozenset[str] = frozenset()
    """Event keys for the creator's eyes only (Demo.hidden_outputs); forgotten when the run ends."""
    budget: Budget = field(kw_only=True)
    """Its limits, stamped at admission: what the watchdog, the idle check and the worker apply."""
    saved_events: int = 0
    """How many of its events the store has while it runs (`_save_progress`)."""

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE

    @property
    def demo_name(self) -> str:
        return self.demo.name

    @property
    def event_count(self) -> int:
        return len(self.log.events)

    def record(self) -> StoredRun:
        return StoredRun(
            self.id,
            self.demo.name,
            self.status,
            self.params,
            self.summary,
            self.created,
            time.time(),
            self.step,
            0,
        )


@dataclass(eq=False)
class Worker:
    process: multiprocessing.process.BaseProcess
    watchdog: Any  # shared doubles: [start of the current step (monotonic) or 0, its run's seq, heartbeat]
    link: WorkerLink = field(init=False)  # set right after: its callbacks name this worker
    ledger: WorkerLedger = field(init=False)  # likewise
    device: str | None = None  # set when the worker reports ready
    runs: dict[int, Run] = field(default_factory=dict)


@dataclass(eq=False)
class WorkerLedger:
    """Where the supervisor (core.supervisor) keeps what one worker says of its runs: in memory,
    each run's event log and state, and the futures its PATCHes wait on."""

    worker: Worker
    end: Callable[[Run, str, str, dict[str, Any], str | None], None]  # the engine's: stored, announced, slot reused

    @property
    def device(self) -> str | None:
        return self.worker.device

    def find(self, seq: int) -> Run | None:
        return self.worker.runs.get(seq)

    def relay(self, run: Run, payload: bytes, creator_payload: bytes | None) -> None:
        run.log.relay("metrics", payload, creator_payload)

    def append(self, run: Run, kind: str, data: dict[str, Any]) -> None:
        run.log.append(kind, data, run.hidden)  # its params and status are the run's own fields

    def answer(self, run: Run, acks: list[asyncio.Future], step: int) -> None:
        for future in acks:
            if not future.done():  # settled already: set_result would raise
                future.set_result(step)


class EmbeddedTransport:
    """The embedded backend's storage and wire (core.transport.RunTransport): runs in memory and
    SQLite, trained by worker processes on this machine over pipes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runs: dict[str, Run] = {}  # active runs
        self.recent: OrderedDict[str, Run] = OrderedDict()
        self.queue: deque[Run] = deque()
        self.workers: list[Worker] = []
        self.preparing: dict[str, Preparation] = {}  # by artifact file name
        self.artifacts = ArtifactStore(settings.artifacts_dir)
        self.accepting = False
        self.store: RunStore | None = None
        self.store_error: str | None = None
        self._context = process_context()
        self._tasks: list[asyncio.Task] = []
        self._pending_writes: set[asyncio.Future] = set()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="modelterms-store")  # one: writes stay in order
        self._seq = 0

    @property
    def capacity(self) -> int:
        return self.settings.workers * self.settings.runs_per_worker

    # --- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        self.store = RunStore(
            self.settings.data_dir / "runs.sqlite3", self.settings.keep_runs, self.settings.keep_runs_per_client
        )
        interrupted = self.store.fail_interrupted(INTERRUPTED)
        if interrupted:
            log.warning("%d runs were cut off when the server last stopped; stored as failed", interrupted)
        for _ in range(self.settings.workers):
            self._spawn_worker()
        self._tasks = [
            asyncio.create_task(self._every(WATCHDOG_SECONDS, self._check_hung_steps)),
            asyncio.create_task(self._every(self.settings.save_progress_seconds, self._save_progress)),
        ]
        self.accepting = True

    async def stop(self) -> None:
        """Stop admitting, end every active run as stopped by the server (stored), stop the workers. Each part
        runs whatever failed before it: the workers always end."""
        if not self.accepting and not self.workers:
            return
        self.accepting = False
        for task in self._tasks:
            task.cancel()
        try:
            for run in list(self.runs.values()):
                self._cancel(run.id, SERVER_STOPPED_MESSAGE, SERVER_STOPPED)
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            while any(w.runs for w in self.workers) and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        except Exception:
            log.exception("cancelling runs at shutdown failed")
        finally:
            for worker in list(self.workers):
                with _logged("stopping a worker"):
                    for run in list(worker.runs.values()):
                        self._end(run, "cancelled", SERVER_STOPPED_MESSAGE, {}, SERVER_STOPPED)
                    self._retire(worker)
            self.workers.clear()
            for preparation in list(self.preparing.values()):
                with _logged("stopping an artifact build"):
                    preparation.close()
            self.preparing.clear()
            with _logged("saving the last runs"):
                if self._pending_writes:
                    await asyncio.wait(self._pending_writes, timeout=10)
            self._writer.shutdown(wait=True)
            if self.store:
                self.store.close()
                self.store = None

    def health(self) -> dict[str, Any]:
        return {
            "workers": len(self.workers),
            "workers_ready": sum(w.device is not None for w in self.workers),
            "device": next((w.device for w in self.workers if w.device), None),
            "capacity": self.capacity,
            "running": sum(1 for r in self.runs.values() if r.status in ("running", "paused")),
            "queued": len(self.queue),
            "preparing": sorted(p.artifact.title for p in self.preparing.values()),
            "store": self.store_error or "ok",
        }

    async def _every(self, seconds: float, job: Callable[[], None]) -> None:
        """A background job that survives its own errors (each one is logged)."""
        while True:
            await asyncio.sleep(seconds)
            with _logged(f"background job {job.__name__}"):
                job()

    # --- workers -------------------------------------------------------------------------
    def _spawn_worker(self) -> Worker:
        parent, child = self._context.Pipe()
        watchdog = self._context.RawArray("d", 3)
        process = self._context.Process(
            target=worker_main,
            args=(
                child,
                self.settings.device,
                self.settings.artifacts_dir,
                list(self.settings.extra_demo_modules),
                watchdog,
                self.settings.heartbeat_seconds,
            ),
            daemon=True,
            name="modelterms-worker",
        )
        process.start()
        child.close()
        worker = Worker(process, watchdog)
        worker.link = WorkerLink(parent, partial(self._on_message, worker), partial(self._on_lost, worker))
        worker.ledger = WorkerLedger(worker, self._end_and_dispatch)
        self.workers.append(worker)
        return worker

    def _retire(self, worker: Worker) -> None:
        self.workers.remove(worker)
        worker.link.send(None)  # exit
        worker.link.close()
        worker.process.join(0.5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(1)

    def _replace(self, worker: Worker, stop: WorkerStop) -> None:
        """Kill a worker (a step hung, or it died) and start a fresh one. Its runs end as `stop`
        says: a hung one as `timeout`, every other one as `failed`, saying why."""
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(1)
        worker.link.close()
        self.workers.remove(worker)
        for seq, run in list(worker.runs.items()):
            self._end(run, *stop.ending(seq), {})
        if self.accepting:
            self._spawn_worker()

    def _on_lost(self, worker: Worker) -> None:
        if worker not in self.workers:
            return  # retired or replaced on purpose
        self._replace(worker, WorkerStop("it ended without a word (killed by the system, perhaps for memory)."))
        self._dispatch()

    def _on_message(self, worker: Worker, message: FromWorker) -> None:
        if worker not in self.workers:
            return  # a message still in flight from a worker that was replaced
        if isinstance(message, Ready):
            worker.device = message.device
            self._dispatch()
        else:
            supervise(message, worker.ledger)

    def _check_hung_steps(self) -> None:
        """A step that runs past the limit never gives control back: kill its worker. Between
        steps, a worker whose loop has not come round for DEAD_AFTER_BEATS heartbeats is frozen
        (stopped, or starved): kill it too, or its runs would stay `running` and take new ones."""
        silent_limit = DEAD_AFTER_BEATS * self.settings.heartbeat_seconds
        now = time.monotonic()
        for worker in list(self.workers):
            budgets = {seq: run.budget for seq, run in worker.runs.items()}
            hung = hung_step(worker.watchdog, now, budgets, Budget.of(self.settings))
            if hung is not None:
                self._replace(worker, hung)
            elif not worker.watchdog[0] and worker.device is not None and now - worker.watchdog[2] > silent_limit:
                frozen = f"it did not answer for over {silent_limit:g} s (frozen or stopped)."
                self._replace(worker, WorkerStop(frozen))
        self._dispatch()

    # --- admission -----------------------------------------------------------------------
    async def admit(self, new: NewRun) -> Run | Refusal:
        refused = admission.first_reached(new.quotas, lambda counter: len(self._counted(counter)), self.capacity)
        if refused is not None:
            return Refusal(refused, self.capacity)
        self._seq += 1
        run = Run(
            new.id,
            new.demo,
            new.shown,
            new.holder,
            admission.counters(new.quotas),
            self._seq,
            control_token=new.control_token,
            withheld=new.withheld,
            hidden=new.demo.hidden_outputs(new.withheld),
            budget=new.budget,
        )
        self.runs[run.id] = run
        self._write(self._store_call("accept", run.record()))
        missing = [a for a in new.demo.artifacts if not self.artifacts.ready(a)]
        if missing:
            for artifact in missing:
                self._prepare(artifact, run)
        else:
            self.queue.append(run)
            self._dispatch()
        return run

    def _counted(self, counter: str | None) -> list[Run]:
        """The active runs counted under `counter` (every one for None)."""
        return [r for r in self.runs.values() if counter is None or counter in r.counted]

    async def progress(self, counter: str | None) -> list[Progress]:
        now = time.monotonic()
        return [Progress(r.params, r.status, r.step, r.started_at, now, r.budget) for r in self._counted(counter)]

    def position(self, run: Run) -> int | None:
        # Not deque.index: its ValueError for a run that is not queued formats the run's repr,
        # every event included (that made each POST cost tens of milliseconds).
        return next((i for i, queued in enumerate(self.queue, 1) if queued is run), None)

    def _dispatch(self) -> None:
        cap = self.settings.runs_per_worker
        while self.queue:
            ready = [w for w in self.workers if w.device is not None and len(w.runs) < cap]
            if not ready:
                return
            self._start(min(ready, key=lambda w: len(w.runs)), self.queue.popleft())

    def _start(self, worker: Worker, run: Run) -> None:
        worker.runs[run.seq], run.worker = run, worker
        run.status = "running"
        run.started_at = time.monotonic()
        budget, trained = run.budget, run.demo.trained(run.params, run.withheld)
        limits = (budget.max_steps, budget.cpu_seconds, budget.wall_seconds)  # the Scheduler applies them
        worker.link.send(StartRun(run.seq, run.demo.name, trained, *limits, run.hidden))
        run.withheld = {}

    # --- prepared artifacts --------------------------------------------------------------
    def _prepare(self, artifact: Artifact, run: Run) -> None:
        preparation = self.preparing.get(artifact.filename)
        if preparation is None:
            preparation = Preparation(
                artifact, self.settings.artifacts_dir, self._context, self._on_prepare_progress, self._on_prepared
            )
            self.preparing[artifact.filename] = preparation
        preparation.waiting.append(run)
        run.waiting_for.add(artifact.filename)
        run.log.append(
            "prepare",
            {"artifact": artifact.title, "done": 0, "total": None, "message": f"Preparing {artifact.title}, one time…"},
        )

    def _on_prepare_progress(self, preparation: Preparation, done: int, total: int) -> None:
        data = {
            "artifact": preparation.artifact.title,
            "done": done,
            "total": total,
            "message": preparation.message(done, total),
        }
        for run in preparation.waiting:
            if not run.finished:
                run.log.append("prepare", data)

    def _on_prepared(self, preparation: Preparation, error: str | None) -> None:
        artifact = preparation.artifact
        self.preparing.pop(artifact.filename, None)
        for run in preparation.waiting:
            if run.finished:
                continue
            run.waiting_for.discard(artifact.filename)
            if error is not None or not self.artifacts.ready(artifact):
                reason = error or "the built file did not check out"
                self._end(run, "failed", f"Could not prepare {artifact.title}: {reason}. Try again.", {})
            elif not run.waiting_for:
                self.queue.append(run)
        self._dispatch()

    # --- control -------------------------------------------------------------------------
    async def load(self, run_id: str) -> Run | StoredRun | None:
        run = self.runs.get(run_id) or self.recent.get(run_id)
        if run is None and self.store is not None:
            return await self._read(self.store.status, run_id)
        return run

    async def change(
        self, run: Run, changes: dict[str, Any], queued_params: dict[str, Any], queued_event: dict[str, Any]
    ) -> Changed | Sent:
        if run.finished:
            return Changed.ENDED
        if run.status == "queued":  # one process: what `run` holds is what it has
            run.params = queued_params
            run.log.append("control", queued_event)
            return Changed.QUEUED
        if run.worker is None:
            return Changed.ENDED
        future = asyncio.get_running_loop().create_future()
        run.acks.append(future)
        run.worker.link.send(Change(run.seq, changes))
        return Sent(future)

    async def await_ack(self, run: Run, ticket: asyncio.Future, seconds: float) -> int | None:
        try:  # shielded: the worker still answers the future after a timeout (supervise pops it)
            return await asyncio.wait_for(asyncio.shield(ticket), seconds)
        except TimeoutError:
            return None

    async def reread(self, run: Run) -> bool:
        return not run.finished  # in memory, `run` is the run itself

    async def cancel(self, run_id: str, queued_message: str) -> None:
        self._cancel(run_id, queued_message)

    def _cancel(self, run_id: str, queued_message: str, why: str = "cancelled") -> None:
        """`why`: 'cancelled' (the reader, or nobody watching) or SERVER_STOPPED (shutting down);
        `queued_message`: the end message of a run that had not started."""
        run = self.runs.get(run_id)
        if run is None or run.finished:
            return
        if run.worker is not None:
            run.worker.link.send(StopRun(run.seq, why))
            return
        with contextlib.suppress(ValueError):
            self.queue.remove(run)
        self._end(run, "cancelled", queued_message, {}, SERVER_STOPPED if why == SERVER_STOPPED else None)

    def _end(self, run: Run, status: str, message: str, summary: dict[str, Any], reason: str | None = None) -> None:
        if run.finished:
            return
        if run.worker is not None:
            run.worker.runs.pop(run.seq, None)
        run.status, run.summary, run.worker = status, summary, None
        for future in run.acks:
            if not future.done():
                future.set_exception(RunFinished())
        self.runs.pop(run.id, None)
        self.recent[run.id] = run
        while len(self.recent) > RECENT_RUNS:
            self.recent.popitem(last=False)
        end = end_data(status, message, run.step, summary, reason)
        final = Event.create(len(run.log.events) + 1, "end", end)
        # The `end` event goes out once the run is stored, so a watcher can be told if it was not.
        saving = self._write(self._store_call("finish", run.record(), [*run.log.events, final], run.client))
        saving.add_done_callback(lambda done: self._announce_end(run, end, done))

    def _end_and_dispatch(
        self, run: Run, status: str, message: str, summary: dict[str, Any], reason: str | None
    ) -> None:
        """A run its worker ended: its slot there is free for the next queued one."""
        self._end(run, status, message, summary, reason)
        self._dispatch()

    def _announce_end(self, run: Run, end: dict[str, Any], saving: asyncio.Future) -> None:
        if saving.cancelled() or saving.exception() is not None:
            unsaved = "(This run could not be saved, so its link will not work after the server restarts.)"
            end = end | {"message": " ".join(filter(None, [end["message"], unsaved])), "saved": False}
        run.log.append("end", end)
        # What only the creator saw live is not kept past the run, as it is not stored.
        run.log.events[:] = [event.forgotten() for event in run.log.events]

    # --- the store, off the loop ---------------------------------------------------------
    def _store_call(self, method: str, *args: Any) -> Callable[[], None]:
        def call() -> None:
            if self.store is not None:
                getattr(self.store, method)(*args)

        return call

    def _save_progress(self) -> None:
        """Every active run's events since the last save, in one store write, so a crash keeps
        each curve up to here (the store ends those runs at the next start). A save costs what is
        new: the events themselves are never written twice while a run lasts."""
        batch = []
        for run in self.runs.values():
            count = len(run.log.events)
            if count > run.saved_events:
                batch.append((run.record(), run.saved_events + 1, run.log.events[run.saved_events : count]))
                run.saved_events = count
        if batch:
            self._write(self._store_call("save_progress", batch))

    def _write(self, call: Callable[[], None]) -> asyncio.Future:
        """A store write in the one writer thread; a failure is logged and reported by /healthz."""
        future = asyncio.get_running_loop().run_in_executor(self._writer, call)
        self._pending_writes.add(future)
        future.add_done_callback(self._on_written)
        return future

    def _on_written(self, future: asyncio.Future) -> None:
        self._pending_writes.discard(future)
        error = None if future.cancelled() else future.exception()
        if error is not None:
            self.store_error = f"cannot write runs: {type(error).__name__}"
            log.error("the run store could not be written", exc_info=error)
        elif self.store_error and not future.cancelled():
            self.store_error = None  # the disk was freed or the file made writable again: healthy

    async def _read(self, call: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, call, *args)

    # --- streaming -----------------------------------------------------------------------
    async def replay(self, run: StoredRun, after: int) -> AsyncGenerator[bytes, None]:
        frames = await self._read(self.store.replay, run.id) if self.store else []
        for frame in frames[after:]:
            yield frame

    async def tail(self, run: Run, after: int) -> AsyncGenerator[Event | None, None]:
        """Watched: the run counts its followers, and when the last one left (`unwatched`)."""
        run.clients += 1
        run.last_watched = time.monotonic()
        try:
            async for event in run.log.follow(after):
                yield event
        finally:
            run.clients -= 1
            run.last_watched = time.monotonic()

    async def creator_frame(self, run: Run, event: Event) -> bytes:
        return event.creator_sse or event.sse

    async def unwatched(self) -> list[str]:
        now = time.monotonic()
        return [
            run.id
            for run in self.runs.values()
            if run.clients == 0 and now - run.last_watched > run.budget.idle_seconds
        ]


@contextlib.contextmanager
def _logged(what: str):
    try:
        yield
    except Exception:
        log.exception("%s failed", what)
