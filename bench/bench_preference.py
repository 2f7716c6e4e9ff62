"""Wall time of a default run of each preference playground, on one CPU thread, as a worker runs it.

Usage: .venv/bin/python bench/bench_preference.py [repeats]
Exits non-zero when a default run needs more than BUDGET_SECONDS (pace=0: the engine's pacing is
time spent waiting for a reader, not training).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from app.demos import load_demos
from app.demos.base import run_inline

BUDGET_SECONDS = 10.0
RUNS = [
    ("preference-data", {}),
    ("reward-model", {}),
    ("rlhf", {}),
    ("dpo", {}),
    ("dpo", {"compare_rlhf": True}),
]


def seconds(name: str, params: dict) -> tuple[float, int]:
    demo = load_demos()[name]
    start = time.perf_counter()
    points, _, _ = run_inline(demo, demo.Params(pace=0, **params))
    return time.perf_counter() - start, len(points)


def main(repeats: int = 3) -> int:
    torch.set_num_threads(1)
    cold, _ = seconds("rlhf", {"steps": 1})  # the first run in a process pays torch's one-off set-up
    print(f"first run in a fresh process (torch warm-up, rlhf steps=1): {cold:.2f} s")
    print(f"{'demo':<32}{'points':>8}{'median s':>10}{'max s':>8}  (of {repeats}, pace=0, 1 thread)")
    over = []
    for name, params in RUNS:
        times, n_points = zip(*(seconds(name, params) for _ in range(repeats)), strict=True)
        label = name + "".join(f" {k}={v}" for k, v in params.items())
        print(f"{label:<32}{n_points[0]:>8}{statistics.median(times):>10.2f}{max(times):>8.2f}")
        if max(times) > BUDGET_SECONDS:
            over.append(label)
    if over:
        print(f"over the {BUDGET_SECONDS:g} s budget: {', '.join(over)}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:])))
