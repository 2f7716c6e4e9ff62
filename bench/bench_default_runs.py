"""CPU time of each playground's default run, on one thread, as its generator runs in a worker.

Usage: .venv/bin/python bench/bench_default_runs.py [demo ...]   (default: every demo)

Each demo runs its default params at pace 0 (no pacing sleeps), in this process, with
torch.set_num_threads(1). The number reported is this thread's CPU time, not wall time, so other
work on a shared machine barely moves it. Prepared artifacts are built first and not counted.
Targets: issue 10 (the language-model demos) under about 15 s, issue 11 under about 10 s,
issue 12's scaling-laws under about 30 s. The end summary's scalar numbers are printed beside it,
so a change that makes a run cheaper can be seen not to gut its lesson.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from app.demos import load_demos
from app.demos.base import Demo, InlineControl


def default_run_seconds(demo: Demo) -> tuple[float, int, dict]:
    """(CPU seconds of this thread, points, end summary) of the demo's default run at pace 0."""
    params = demo.parse({"pace": 0} if "pace" in demo.Params.model_fields else {})
    control = InlineControl(params)
    for artifact in demo.artifacts:
        control.artifact(artifact)  # built before the clock starts, as `modelterms prepare` does
    steps = demo.steps(params, control)
    points = 0
    started = time.thread_time()
    while True:
        try:
            out = next(steps)
        except StopIteration as stop:
            return time.thread_time() - started, points, stop.value or {}
        points += len(out) if isinstance(out, list) else 1


def flat_numbers(summary: dict, prefix: str = "") -> dict[str, float]:
    """The summary's numbers one level deep ({"accuracy": {"acc_first": 0.9}} -> acc_first)."""
    numbers = {}
    for key, value in summary.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            numbers[prefix + key] = value
        elif isinstance(value, dict) and not prefix:
            numbers |= flat_numbers(value, prefix=f"{key}.")
    return numbers


def main(names: list[str]) -> None:
    torch.set_num_threads(1)
    demos = load_demos()
    for name in names or sorted(demos):
        seconds, points, summary = default_run_seconds(demos[name])
        numbers = ", ".join(f"{k} {v:.3g}" for k, v in flat_numbers(summary).items())
        print(f"{name:19} {seconds:6.1f} s CPU, {points:5d} points | {numbers}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
