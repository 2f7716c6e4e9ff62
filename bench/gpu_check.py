"""Every playground on the CPU and on CUDA: do their first losses agree, and how fast do they step?

Usage: .venv/bin/python bench/gpu_check.py [steps]      (default 40 steps per run)

Each demo runs once per device through app.demos.base.run_inline, with its default params except
`steps` (small) and `pace=0`, on one CPU thread as a worker runs it. Base models that a demo
pretrains (LoRA, QLoRA) are cached in a temporary MODELTERMS_DATA_DIR, so the first CPU run
pays for pretraining once; that set-up, and the first step, are left out of the timings.

The check: the step-0 loss of every series must agree within REL_TOL (relative). At step 0 both
devices evaluate the same weights on the same data, so only floating-point differences remain:
CUDA kernels sum in another order (parallel reductions, cuBLAS tiling, atomics in embedding and
index backward passes), which moves float32 results by about 1e-7 to 1e-5 relative; that is why
the check looks at the first loss and not at later ones, where those differences compound step
after step (and GPU atomics make even two CUDA runs differ). Demos that draw their data with a
generator on the run's own device (torch.Generator(ctl.device)) see different random numbers on
CUDA (Philox) than on the CPU (Mersenne Twister), so their losses differ from the first step;
they are marked and reported, and not held to the tolerance.

Without CUDA it runs the CPU half, prints "CUDA not available: GPU half skipped" and exits 0.
Exits 1 when a run fails or a first loss differs beyond the tolerance.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from app.demos import load_demos
from app.demos.base import Demo, DemoParams, run_inline

REL_TOL = 1e-3  # relative difference allowed between the CPU's and CUDA's step-0 losses
DEFAULT_STEPS = 40


@dataclasses.dataclass
class Result:
    first_losses: dict[str, float]  # series ("" for a one-series demo) -> loss at its first step
    steps_per_second: float
    steps: int
    error: str | None = None


def small_params(demo: Demo, steps: int) -> DemoParams:
    """Default params, `steps` clipped into the field's bounds, pace 0 where the demo has one."""
    fields = demo.Params.model_fields
    overrides: dict[str, Any] = {}
    if "steps" in fields:
        low, high = 1, steps
        for rule in fields["steps"].metadata:
            low = max(low, getattr(rule, "ge", None) or getattr(rule, "gt", 0) + 1)
            high = min(high, getattr(rule, "le", None) or high)
        overrides["steps"] = max(low, min(steps, high))
    if "pace" in fields:
        overrides["pace"] = 0
    return demo.parse(overrides)


def uses_device_rng(demo: Demo) -> bool:
    source = inspect.getsource(importlib.import_module(demo.train.partition(":")[0]))  # its training module
    return "Generator(ctl.device)" in source


def timed(demo: Demo, device: str) -> tuple[Demo, list[float]]:
    """The demo with its training function wrapped: the time of each yield (one per step)."""
    stamps: list[float] = []

    def train(params, ctl):
        steps = demo.steps(params, ctl)
        while True:
            try:
                out = next(steps)
            except StopIteration as finished:
                return finished.value
            if device == "cuda":
                torch.cuda.synchronize()
            stamps.append(time.perf_counter())
            yield out

    return dataclasses.replace(demo, train=train), stamps


def run(demo: Demo, params: DemoParams, device: str) -> Result:
    wrapped, stamps = timed(demo, device)
    try:
        points, _summary, _control = run_inline(wrapped, params, device=device)
    except Exception as error:  # reported in the table; a bug in one demo must not hide the others
        return Result({}, 0.0, 0, f"{type(error).__name__}: {error}")
    first: dict[str, float] = {}
    for point in points:
        series = str(point.get("series", ""))
        if series not in first and point.get("loss") is not None:
            first[series] = float(point["loss"])
    # From the first step's end to the last one's: set-up and the first (warm-up) step left out.
    rate = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    return Result(first, rate, len(stamps))


def relative_difference(a: dict[str, float], b: dict[str, float]) -> float:
    if a.keys() != b.keys() or not a:
        return float("inf")
    return max(abs(a[k] - b[k]) / max(abs(a[k]), abs(b[k]), 1e-12) for k in a)


def main(steps: int) -> int:
    torch.set_num_threads(1)  # as each worker process does
    cuda = torch.cuda.is_available()
    print(f"torch {torch.__version__}, 1 CPU thread" + (f", {torch.cuda.get_device_name()}" if cuda else ""))
    if cuda:
        print(
            f"TF32 matmul {torch.backends.cuda.matmul.allow_tf32}, "
            f"cuDNN TF32 {torch.backends.cudnn.allow_tf32}, "
            f"float32 matmul precision {torch.get_float32_matmul_precision()}"
        )
    failed = False
    with tempfile.TemporaryDirectory(prefix="modelterms-gpu-check-") as data_dir:
        os.environ["MODELTERMS_DATA_DIR"] = data_dir  # base models pretrained here, then reused
        header = f"{'demo':<18}{'steps':>6}{'cpu steps/s':>13}{'cuda steps/s':>14}{'x cpu':>7}"
        header += f"{'first loss (cpu)':>18}{'rel diff':>10}  check"
        print(f"\n{header}\n{'-' * len(header)}")
        for name, demo in load_demos().items():
            params = small_params(demo, steps)
            cpu = run(demo, params, "cpu")
            gpu = run(demo, params, "cuda") if cuda else None
            line = f"{name:<18}{cpu.steps:>6}{cpu.steps_per_second:>13.1f}"
            first = next(iter(cpu.first_losses.values()), float("nan"))
            if cpu.error or (gpu and gpu.error):
                failed = True
                print(f"{line}  FAILED on {'cpu' if cpu.error else 'cuda'}: {cpu.error or gpu.error}")
                continue
            if gpu is None:
                print(f"{line}{'-':>14}{'-':>7}{first:>18.6g}{'-':>10}  cpu ok")
                continue
            diff = relative_difference(cpu.first_losses, gpu.first_losses)
            if diff <= REL_TOL:
                check = "ok"
            elif uses_device_rng(demo):
                check = "differs: draws its data on the device (CUDA RNG), expected"
            else:
                check, failed = f"DIFFERS beyond {REL_TOL:g}", True
            speedup = gpu.steps_per_second / cpu.steps_per_second if cpu.steps_per_second else 0
            print(f"{line}{gpu.steps_per_second:>14.1f}{speedup:>7.2f}{first:>18.6g}{diff:>10.1e}  {check}")
    print(f"\nfirst losses compared at step 0 of every series; tolerance {REL_TOL:g} relative")
    if not cuda:
        print("CUDA not available: GPU half skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_STEPS))
