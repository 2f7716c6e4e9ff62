"""The worker's Scheduler alone: steps per CPU second of a demo run through it, in this process,
against the bare loop of bench_engine, interleaved five times each.

Run: .venv/bin/python bench/bench_scheduler.py                  (every overhead case)
     .venv/bin/python bench/bench_scheduler.py gradient-descent (only that demo)

bench_engine's ratio counts the whole server (web process, pipes, the worker); this one leaves out
everything but the worker's own loop (picking the run, the watchdog, recording, divergence checks,
encoding the flushes), so a change to the hot loop shows here without the server's noise.
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import time

import torch
from _harness import ROOT
from bench_engine import OVERHEAD_CASES, bare_rate

sys.path.insert(0, str(ROOT))
from app.demos import load_demos
from app.demos.artifacts import ArtifactStore
from app.playground.core.messages import Ended, FromWorker, Points, StartRun, ToWorker
from app.playground.core.scheduler import Scheduler
from app.settings import Settings

UNLIMITED = 10**9  # steps, compute seconds and wall seconds: the run ends when its demo does


class OneRun:
    """The Scheduler's link for one run: StartRun, then the exit once the run has ended. Notes the
    step and this thread's CPU time at the first Points message and at the last, so that, as in
    bench_engine, the rate leaves out the run's start (building its model, its first step)."""

    def __init__(self, name: str, params: dict) -> None:
        self.inbox: list[ToWorker] = [StartRun(1, name, dict(params), UNLIMITED, UNLIMITED, UNLIMITED)]
        self.first: tuple[int, float] | None = None
        self.last: tuple[int, float] = (0, 0.0)

    def poll(self, timeout: float | None = 0) -> bool:
        return bool(self.inbox)

    def recv(self) -> ToWorker:
        return self.inbox.pop(0)

    def send(self, message: FromWorker) -> None:
        if isinstance(message, Points):
            self.last = (message.step, time.thread_time())
            self.first = self.first or self.last
        elif isinstance(message, Ended):
            self.inbox.append(None)

    def rate(self) -> float:
        """Steps per CPU second from the first Points message to the last."""
        assert self.first is not None, "the run sent no points"
        (first_step, first_cpu), (last_step, last_cpu) = self.first, self.last
        return (last_step - first_step) / (last_cpu - first_cpu)


def scheduled_rate(name: str, params: dict) -> float:
    """Steps per CPU second of this thread through the Scheduler."""
    link = OneRun(name, params)
    watchdog = multiprocessing.RawArray("d", 3)  # as the embedded engine shares it
    Scheduler(link, load_demos(), "cpu", ArtifactStore(Settings().artifacts_dir), watchdog).serve()
    return link.rate()


def main(names: list[str]) -> None:
    torch.set_num_threads(1)  # as in a worker
    for name in names or list(OVERHEAD_CASES):
        params = OVERHEAD_CASES[name]
        bare, scheduled = [], []
        for _ in range(5):
            bare.append(bare_rate(name, params)[1])
            scheduled.append(scheduled_rate(name, params))
        bare_cpu, scheduled_cpu = statistics.median(bare), statistics.median(scheduled)
        print(
            f"scheduler {name:18}: {scheduled_cpu:6.0f} steps per CPU second, bare {bare_cpu:6.0f}, "
            f"ratio {scheduled_cpu / bare_cpu:.3f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
