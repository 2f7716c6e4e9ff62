"""LoRA and QLoRA against full fine-tuning of the same base, on one CPU thread.

Usage: .venv/bin/python bench/bench_lora.py [--fresh] [repeats]
  --fresh   pretrain the base into a temporary data directory, to time pretraining (otherwise
            the cache under $MODELTERMS_DATA_DIR/models, default ./data/models, is used, and
            filled if empty)

Prints the time per training step and the Adam state (measured after real steps) of LoRA and
QLoRA with the playgrounds' default params and of full fine-tuning, all on the same batches,
as ratios over full fine-tuning; then the wall time of the playgrounds' default runs (pace=0,
as a worker runs them; median of `repeats`).
"""

from __future__ import annotations

import copy
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from app.demos import load_demos
from app.demos.base import default_artifacts, run_inline
from app.demos.recipes import BASE_MODEL
from app.ml import charlm
from app.ml.charlm import CharLM, lm_loss
from app.ml.lora import count_trainable
from app.ml.nf4 import quantize_linears
from app.ml.optim import adam_step
from app.training._adapt import BATCH_SIZE, adam_state_bytes, with_lora
from app.training.qlora import QUANTIZED

WARMUP, STEPS, ROUNDS = 10, 40, 5
T = TypeVar("T")
RUNS = [("lora", {}), ("lora", {"compare_full": True}), ("qlora", {})]


def timed(fn: Callable[..., T], *args: object) -> tuple[tuple[float, float], T]:
    """((wall seconds, CPU seconds of this process), fn(*args))."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return (time.perf_counter() - wall, time.process_time() - cpu), out


def step_seconds(models: dict[str, CharLM], lr: float) -> tuple[dict[str, float], dict[str, int]]:
    """Median seconds per step of each model and its Adam state bytes. The models take turns in
    blocks of STEPS steps, so a slow patch of the machine hits all of them alike."""
    data = charlm.VOCAB.encode(charlm.TEXT_B)
    gen = torch.Generator().manual_seed(0)
    batches = [charlm.random_batch(data, BATCH_SIZE, charlm.CharLMConfig.block_size, gen) for _ in range(STEPS)]
    opts = {name: torch.optim.Adam([q for q in m.parameters() if q.requires_grad]) for name, m in models.items()}
    times: dict[str, list[float]] = {name: [] for name in models}
    for name, model in models.items():
        for x, y in batches[:WARMUP]:
            adam_step(opts[name], lm_loss(model.train(), x, y), lr)
    for _ in range(ROUNDS):
        for name, model in models.items():
            start = time.perf_counter()
            for x, y in batches:
                adam_step(opts[name], lm_loss(model, x, y), lr)
            times[name].append((time.perf_counter() - start) / STEPS)
    return {n: statistics.median(t) for n, t in times.items()}, {n: adam_state_bytes(o) for n, o in opts.items()}


def main(fresh: bool, repeats: int) -> None:
    torch.set_num_threads(1)
    if fresh:
        os.environ["MODELTERMS_ARTIFACTS_DIR"] = tempfile.mkdtemp(prefix="bench-lora-")
    store = default_artifacts()
    prepared = store.ready(BASE_MODEL)
    (wall, cpu), path = timed(store.ensure, BASE_MODEL)
    base = charlm.load_model(path)
    print(f"base: {'loaded' if prepared else 'pretrained'} in {wall:.2f} s wall, {cpu:.2f} s CPU (1 thread)")

    demos = load_demos()
    p = demos["lora"].Params()
    nf4_base = copy.deepcopy(base)
    quantize_linears(nf4_base, charlm.layer_names(base, QUANTIZED))
    models = {"full": copy.deepcopy(base).requires_grad_(True), "lora": with_lora(base, p)[0]}
    models["qlora"] = with_lora(nf4_base, p)[0]
    seconds, state = step_seconds(models, p.lr)

    print(f"\nper step, batch {BATCH_SIZE}x{charlm.CharLMConfig.block_size}, rank {p.rank}, targets {p.targets}")
    print(f"{'':<8}{'ms/step':>9}{'x full':>8}{'trainable':>11}{'Adam bytes':>12}{'x full':>9}")
    for name, model in models.items():
        print(
            f"{name:<8}{1000 * seconds[name]:>9.2f}{seconds[name] / seconds['full']:>8.2f}"
            f"{count_trainable(model):>11}{state[name]:>12}{state[name] / state['full']:>9.4f}"
        )

    # CPU time is what the wall time would be on an idle machine (one thread, no waiting).
    print(f"\ndefault runs, pace=0, 1 thread, median of {repeats}")
    for name, params in RUNS:
        demo = demos[name]
        runs = [timed(run_inline, demo, demo.Params(**params)) for _ in range(repeats)]
        wall, cpu = (statistics.median(t[i] for t, _ in runs) for i in (0, 1))
        label = name + "".join(f" {k}={v}" for k, v in params.items())
        print(f"{label:<26}{len(runs[0][1][0]):>6} points{wall:>8.2f} s wall{cpu:>8.2f} s CPU")


if __name__ == "__main__":
    args = sys.argv[1:]
    main("--fresh" in args, int(next((a for a in args if a != "--fresh"), 3)))
