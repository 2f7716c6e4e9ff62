"""Builds that give the same bytes in any process: one thread, deterministic kernels, a fixed seed.

A prepared artifact (a base model, a teacher) is built by `modelterms prepare`, by the engine in
a process of its own, or by a downloaded script. Those processes differ in their thread count, and
a float32 sum split over two threads rounds differently from the same sum on one: a base model
built on 2 threads is not the base model built on 1, and every run that starts from it differs
from step 0. So every builder runs under `reproducible`, whatever the caller set.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

Progress = Callable[[int, int], None]
Builder = Callable[[Path, Mapping[str, Any], Progress], None]


@contextmanager
def one_thread_deterministic(seed: int) -> Iterator[None]:
    """Inside: one intra-op thread, deterministic algorithms only, the global RNG seeded; the
    caller's settings and RNG state come back after."""
    threads, strict = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.use_deterministic_algorithms(strict)
        torch.set_num_threads(threads)


def save(obj: Any, path: Path) -> None:
    """torch.save, the same bytes whatever the file is called: saved to a path, torch names the
    archive's folder after the file, and a builder writes to a random temporary name."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    path.write_bytes(buffer.getvalue())


def reproducible(builder: Builder) -> Builder:
    """An artifact builder that runs under `one_thread_deterministic`, seeded by its recipe."""

    @functools.wraps(builder)
    def build(path: Path, recipe: Mapping[str, Any], progress: Progress) -> None:
        with one_thread_deterministic(recipe["seed"]):
            builder(path, recipe, progress)

    return build
