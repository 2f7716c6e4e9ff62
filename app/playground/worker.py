"""The worker process: torch loaded once, then runs one demo at a time for the engine.

Messages from the engine (tuples over a Pipe):
  ("run", demo_name, params, max_steps)           start a run
  ("change", changes)                            live params, from the next step
  ("pause", bool) / ("step_once",)               pause, resume, single step while paused
  ("stop", status)                               end now as 'cancelled' or 'timeout'
  None                                           exit
Messages to the engine:
  ("ready", device) once; then per run ("start", facts), ("points", [...]),
  ("control", step, changes), ("end", status, message, summary).
"""

from __future__ import annotations

import math
import os
import signal
import time
import warnings
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from app.demos import load_demos
from app.demos.artifacts import ArtifactStore
from app.demos.base import Demo, DemoParams, InlineControl, Point

FLUSH_SECONDS = 1 / 30  # at most ~30 metric events a second reach a client
POLL_SECONDS = 0.002  # how often a run at full speed looks for control messages
WORKER_NICENESS = 5


def worker_main(conn: Connection, device_setting: str, artifacts_dir: Path, extra_demo_modules: list[str]) -> None:
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
    conn.send(("ready", device))
    while True:
        try:
            message = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if message is None:
            return
        if message[0] == "run":
            _, demo_name, params, max_steps = message
            demo = demos[demo_name]
            Run(conn, demo, demo.parse(params), device, ArtifactStore(artifacts_dir), max_steps).execute()
        # Controls that arrive after their run ended are stale: ignore them.


class Stop(Exception):
    def __init__(self, status: str, message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Run(InlineControl):
    """One run inside the worker; it is also the `Control` handle the demo trains against."""

    def __init__(
        self, conn: Connection, demo: Demo, params: DemoParams, device: str, artifacts: ArtifactStore, max_steps: int
    ) -> None:
        super().__init__(params, device, artifacts)
        self.conn = conn
        self.demo = demo
        self.max_steps = max_steps
        self.started = False
        self.paused = False
        self.single_steps = 0
        self.pace = _pace(params)
        self.next_step = 0  # the step the next yield will log: changes apply from here
        self.pending: list[Point] = []
        self.last_flush = 0.0  # the first point goes out at once
        self.last_poll = self.last_step_at = time.monotonic()

    def announce(self, **facts: Any) -> None:
        if not self.started:  # the start event has gone out: later facts have nowhere to go
            super().announce(**facts)

    # --- the run loop ----------------------------------------------------------------------
    def execute(self) -> None:
        status, message, summary = "done", "", {}
        steps = self.demo.train(self._params, self)
        try:
            for taken in range(self.max_steps + 1):
                self._between_steps()
                try:
                    out = next(steps)
                except StopIteration as finished:
                    summary = finished.value or {}
                    break
                if taken == self.max_steps:
                    status, message = "done", f"Stopped at the server's budget of {self.max_steps} steps."
                    break
                self._record(out if isinstance(out, list) else [out])
        except Stop as stop:
            status, message = stop.status, stop.message
        except Exception as error:  # a bug in a demo must end its run, never the worker
            status, message = "failed", f"{type(error).__name__}: {error}"
        finally:
            steps.close()
        self._ensure_started()
        self._flush()
        self.conn.send(("end", status, message, summary))

    def _ensure_started(self) -> None:
        if not self.started:
            self.started = True
            self.conn.send(("start", self.facts))

    def _record(self, points: list[Point]) -> None:
        """The hot path: runs once per step, so it does the least it can (no copies)."""
        if not points:
            return
        if not self.started:
            self._ensure_started()
        self.pending.extend(points)
        self.next_step = points[-1]["step"] + 1  # every point of one yield belongs to one step
        bound = self.demo.loss_bound
        for point in points:
            if not _diverged(point, bound):
                break  # one healthy series keeps the run going
        else:
            raise Stop("diverged", _diverged_message(points[0], bound))
        if time.monotonic() - self.last_flush >= FLUSH_SECONDS:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.conn.send(("points", self.pending))
            self.pending = []
        self.last_flush = time.monotonic()

    def _between_steps(self) -> None:
        """Apply control messages; wait while paused or to keep the requested pace."""
        if not self.paused and not self.pace:  # full speed: only glance at the pipe now and then
            now = time.monotonic()
            if now - self.last_poll < POLL_SECONDS:
                return
            self.last_poll = now
            while self.conn.poll():
                self._handle(self.conn.recv())
            if not self.paused and not self.pace:
                return
        self._wait_for_turn()

    def _wait_for_turn(self) -> None:
        while True:
            if self.paused:
                if self.single_steps:
                    self.single_steps -= 1
                    return
                self._flush()
                self._handle(self.conn.recv())
                continue
            pace = self.pace
            now = time.monotonic()
            if pace > 0:
                wait = self.last_step_at + 1 / pace - now
                if self.pending and wait > 0:  # a watched run shows its points without delay
                    flush_in = self.last_flush + FLUSH_SECONDS - now
                    if flush_in <= 0:
                        self._flush()
                    else:
                        wait = min(wait, flush_in)
                if self.conn.poll(max(wait, 0)):
                    self._handle(self.conn.recv())
                    continue
                if self.last_step_at + 1 / pace > time.monotonic():
                    continue  # woke early only to flush
            self.last_step_at = time.monotonic()
            return  # at pace 0 (resumed at full speed) `_between_steps` does the polling

    def _handle(self, message: tuple | None) -> None:
        kind = message[0] if message else "stop"  # None (the engine retiring us) also stops the run
        if kind == "stop":
            status = message[1] if message else "cancelled"
            raise Stop(status, _stop_message(status))
        if kind == "change":
            self.change(**message[1])
            self.pace = _pace(self._params)
            self._acknowledge(message[1])
        elif kind == "pause":
            self.paused = bool(message[1])
            self.single_steps = 0
            self._acknowledge({"paused": self.paused})
        elif kind == "step_once":
            self._acknowledge({"step_once": True})
            self.single_steps = 1

    def _acknowledge(self, changes: dict[str, Any]) -> None:
        self._flush()  # the points before a change must precede its control event
        self.conn.send(("control", self.next_step, changes))


def _pace(params: DemoParams) -> float:
    """Steps per second the reader asked for; 0 (or no `pace` param) means as fast as possible."""
    return float(getattr(params, "pace", 0) or 0)


def _diverged(point: Point, bound: float) -> bool:
    """A loss that is NaN, infinite or past the demo's bound, unless the demo flagged the point
    `diverged` itself (it stopped that series, one of several learning rates, say)."""
    loss = point.get("loss")
    if loss is None or point.get("diverged"):
        return False
    return not (-math.inf < loss <= bound and loss < math.inf)  # NaN fails every comparison


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


def _stop_message(status: str) -> str:
    return {
        "timeout": "Stopped: the run used up its wall-time budget.",
        "cancelled": "Cancelled.",
    }.get(status, status)
