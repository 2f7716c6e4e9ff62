"""The run engine: worker processes, admission, budgets, live control, event logs, storage.

Everything here runs on the web server's event loop and never imports torch; the
workers (app.playground.worker) do the training. A worker's pipe is watched with
`loop.add_reader`, so messages are handled as they arrive, with no polling thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import secrets
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from app.demos.base import Demo
from app.playground.events import Event, EventLog
from app.playground.store import RunStore, StoredRun
from app.playground.worker import worker_main
from app.settings import Settings

ACTIVE = ("queued", "running", "paused")
KILL_GRACE_SECONDS = 1.0
ACK_TIMEOUT_SECONDS = 2.0
RECENT_RUNS = 32  # finished runs kept in memory (a big one holds MBs of points); older ones come from the store


class QueueFull(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("queue full")
        self.retry_after = retry_after


class RunFinished(Exception):
    """A live change sent to a run that has already ended."""


@dataclass
class Run:
    id: str
    demo: Demo
    params: dict[str, Any]
    created: float = field(default_factory=time.time)
    status: str = "queued"
    log: EventLog = field(default_factory=EventLog)
    worker: Worker | None = None
    started_at: float | None = None
    step: int = 0
    clients: int = 0
    last_watched: float = field(default_factory=time.monotonic)
    summary: dict[str, Any] = field(default_factory=dict)
    acks: deque[asyncio.Future] = field(default_factory=deque)
    deadline: asyncio.TimerHandle | None = None
    control_token: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    """Given to the run's creator only; PATCH and DELETE need it (the permalink is read-only)."""

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE


@dataclass
class Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    device: str | None = None  # set when the worker reports ready
    run: Run | None = None


class Engine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runs: dict[str, Run] = {}
        self.recent: OrderedDict[str, Run] = OrderedDict()
        self.queue: deque[Run] = deque()
        self.workers: list[Worker] = []
        self.accepting = False
        self.store: RunStore | None = None
        self._context = multiprocessing.get_context("spawn")
        self._janitor: asyncio.Task | None = None
        self._saving: set[asyncio.Future] = set()

    # --- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        self.store = RunStore(self.settings.data_dir / "runs.sqlite3", self.settings.keep_runs)
        for _ in range(self.settings.workers):
            self._spawn_worker()
        self._janitor = asyncio.create_task(self._cancel_unwatched())
        self.accepting = True

    async def stop(self) -> None:
        """Stop admitting, end every active run as cancelled (stored), stop the workers."""
        self.accepting = False
        if self._janitor:
            self._janitor.cancel()
        for run in list(self.runs.values()):
            self.cancel(run.id)
        deadline = time.monotonic() + 3.0
        while any(w.run for w in self.workers) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for worker in self.workers:
            if worker.run:
                self._end(worker.run, "cancelled", "The server shut down.", {})
            self._retire(worker)
        self.workers.clear()
        if self._saving:
            await asyncio.gather(*self._saving)
        if self.store:
            self.store.close()
            self.store = None

    def health(self) -> dict[str, Any]:
        return {
            "workers": len(self.workers),
            "workers_ready": sum(w.device is not None for w in self.workers),
            "device": next((w.device for w in self.workers if w.device), None),
            "running": sum(1 for r in self.runs.values() if r.status in ("running", "paused")),
            "queued": len(self.queue),
        }

    # --- workers -------------------------------------------------------------------------
    def _spawn_worker(self) -> Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=worker_main,
            args=(
                child,
                self.settings.device,
                self.settings.artifacts_dir,
                list(self.settings.extra_demo_modules),
            ),
            daemon=True,
            name="modelterms-worker",
        )
        process.start()
        child.close()
        worker = Worker(process, parent)
        self.workers.append(worker)
        asyncio.get_running_loop().add_reader(parent.fileno(), self._on_readable, worker)
        return worker

    def _retire(self, worker: Worker) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(worker.conn.fileno())
        with contextlib.suppress(OSError, ValueError):  # the worker may be gone already
            worker.conn.send(None)
        worker.conn.close()
        worker.process.join(0.5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(1)

    def _replace(self, worker: Worker) -> None:
        """Kill a worker whose run will not stop (or that died) and start a fresh one."""
        asyncio.get_running_loop().remove_reader(worker.conn.fileno())
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(1)
        worker.conn.close()
        self.workers.remove(worker)
        if self.accepting:
            self._spawn_worker()

    def _on_readable(self, worker: Worker) -> None:
        try:
            while worker.conn.poll():
                self._on_message(worker, worker.conn.recv())
        except (EOFError, OSError):
            run = worker.run
            if run:
                self._end(run, "failed", "The worker process died during this run.", {})
            self._replace(worker)
            self._dispatch()

    def _on_message(self, worker: Worker, message: tuple) -> None:
        kind = message[0]
        if kind == "ready":
            worker.device = message[1]
            self._dispatch()
            return
        run = worker.run
        if run is None:
            return
        if kind == "points":
            run.step = message[1][-1]["step"]
            run.log.append("metrics", {"points": message[1]})
        elif kind == "start":
            run.log.append(
                "start",
                {"demo": run.demo.name, "params": run.params, "device": worker.device, **message[1]},
            )
        elif kind == "control":
            self._on_control(run, message[1], message[2])
        elif kind == "end":
            worker.run = None
            self._end(run, message[1], message[2], message[3])
            self._dispatch()

    def _on_control(self, run: Run, step: int, changes: dict[str, Any]) -> None:
        if "paused" in changes:
            run.status = "paused" if changes["paused"] else "running"
        run.params = run.params | {k: v for k, v in changes.items() if k in run.params}
        run.log.append("control", {"step": step, "changes": changes})
        if run.acks:
            future = run.acks.popleft()
            if not future.done():
                future.set_result(step)

    # --- admission -----------------------------------------------------------------------
    def submit(self, demo: Demo, params: dict[str, Any]) -> Run:
        if not self.accepting:
            raise QueueFull(retry_after=5)
        idle = sum(1 for w in self.workers if w.run is None)
        if len(self.queue) >= self.settings.queue_size + max(idle - len(self.queue), 0):
            raise QueueFull(retry_after=self._retry_after())
        run = Run(uuid.uuid4().hex[:12], demo, params)
        self.runs[run.id] = run
        self.queue.append(run)
        self._dispatch()
        return run

    def _retry_after(self) -> int:
        """Seconds until a slot is likely free: the soonest wall-time budget of a running run."""
        now = time.monotonic()
        remaining = [
            self.settings.max_run_seconds - (now - w.run.started_at) for w in self.workers if w.run and w.run.started_at
        ]
        return max(1, int(min(remaining, default=5)))

    def position(self, run: Run) -> int | None:
        try:
            return self.queue.index(run) + 1
        except ValueError:
            return None

    def _dispatch(self) -> None:
        for worker in self.workers:
            if not self.queue:
                return
            if worker.run is None and worker.device is not None:
                self._start(worker, self.queue.popleft())

    def _start(self, worker: Worker, run: Run) -> None:
        worker.run, run.worker = run, worker
        run.status = "running"
        run.started_at = time.monotonic()
        worker.conn.send(("run", run.demo.name, run.params, self.settings.max_steps))
        run.deadline = asyncio.get_running_loop().call_later(self.settings.max_run_seconds, self._on_deadline, run)

    def _on_deadline(self, run: Run) -> None:
        if run.finished or run.worker is None:
            return
        worker = run.worker
        worker.conn.send(("stop", "timeout"))
        # A demo stuck inside one step never reads its pipe: kill and replace its worker.
        asyncio.get_running_loop().call_later(KILL_GRACE_SECONDS, self._kill_if_stuck, worker, run)

    def _kill_if_stuck(self, worker: Worker, run: Run) -> None:
        if worker.run is not run:
            return
        worker.run = None
        self._end(run, "timeout", "Stopped: the run used up its wall-time budget and did not yield control.", {})
        self._replace(worker)
        self._dispatch()

    # --- control -------------------------------------------------------------------------
    def get(self, run_id: str) -> Run | StoredRun | None:
        run = self.runs.get(run_id) or self.recent.get(run_id)
        if run is None and self.store is not None:
            return self.store.load(run_id)
        return run

    async def change(self, run: Run, changes: dict[str, Any]) -> int:
        """Send live changes; returns the step from which they apply."""
        if run.finished:
            raise RunFinished
        if run.status == "queued":
            if "paused" in changes or "step_once" in changes:
                raise RunFinished  # nothing to pause or step yet: the route answers 409
            self._on_control_queued(run, changes)
            return 0
        assert run.worker is not None
        messages = _control_messages(changes)
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in messages]
        run.acks.extend(futures)  # the worker acknowledges each message, in order
        for message in messages:
            run.worker.conn.send(message)
        try:
            steps = await asyncio.wait_for(asyncio.gather(*futures), ACK_TIMEOUT_SECONDS)
        except TimeoutError:
            return run.step + 1
        return steps[0]

    def _on_control_queued(self, run: Run, changes: dict[str, Any]) -> None:
        run.params = run.params | changes
        run.log.append("control", {"step": 0, "changes": changes})

    def cancel(self, run_id: str) -> None:
        run = self.runs.get(run_id)
        if run is None or run.finished:
            return
        if run.status == "queued":
            self.queue.remove(run)
            self._end(run, "cancelled", "Cancelled before it started.", {})
        elif run.worker is not None:
            run.worker.conn.send(("stop", "cancelled"))

    def _end(self, run: Run, status: str, message: str, summary: dict[str, Any]) -> None:
        if run.finished:
            return
        if run.deadline:
            run.deadline.cancel()
        run.status, run.summary, run.worker = status, summary, None
        for future in run.acks:
            if not future.done():
                future.set_exception(RunFinished())
        run.log.append("end", {"status": status, "message": message, "step": run.step, "summary": summary})
        self.runs.pop(run.id, None)
        self.recent[run.id] = run
        while len(self.recent) > RECENT_RUNS:
            self.recent.popitem(last=False)
        if self.store:
            record = StoredRun(
                run.id, run.demo.name, status, run.params, summary, run.created, time.time(), run.log.events
            )
            # Compressing and writing thousands of points takes milliseconds: do it off the event
            # loop, so neither pages nor the `end` event wait for the disk. `stop` awaits these.
            saving = asyncio.get_running_loop().run_in_executor(None, self.store.save, record)
            self._saving.add(saving)
            saving.add_done_callback(self._saving.discard)

    # --- streaming -----------------------------------------------------------------------
    async def follow(self, run: Run | StoredRun, after: int) -> AsyncIterator[Event | None]:
        if isinstance(run, StoredRun):
            for event in run.events[after:]:
                yield event
            return
        run.clients += 1
        run.last_watched = time.monotonic()
        try:
            async for event in run.log.follow(after):
                yield event
        finally:
            run.clients -= 1
            run.last_watched = time.monotonic()

    async def _cancel_unwatched(self) -> None:
        """Cancel runs nobody has watched for `idle_cancel_seconds`: a closed tab frees its slot."""
        while True:
            await asyncio.sleep(min(1.0, self.settings.idle_cancel_seconds / 4))
            now = time.monotonic()
            for run in list(self.runs.values()):
                if run.clients == 0 and now - run.last_watched > self.settings.idle_cancel_seconds:
                    self.cancel(run.id)


def _control_messages(changes: dict[str, Any]) -> list[tuple]:
    messages: list[tuple] = []
    params = {k: v for k, v in changes.items() if k not in ("paused", "step_once")}
    if params:
        messages.append(("change", params))
    if "paused" in changes:
        messages.append(("pause", changes["paused"]))
    if "step_once" in changes:  # validated: only ever true
        messages.append(("step_once",))
    return messages
