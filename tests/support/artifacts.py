"""A test-only artifact builder: slow enough to watch, countable, and able to fail on request."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

FAIL_NEXT = "fail-next-build"  # a file of this name beside the artifact makes the next build fail
BUILDS_LOG = "builds.log"  # one line per build attempt


def build_slowly(path: Path, recipe: Mapping[str, Any], progress: Callable[[int, int], None]) -> None:
    with (path.parent / BUILDS_LOG).open("a") as log:
        log.write(f"{recipe['word']}\n")
    steps = recipe["steps"]
    for step in range(steps):
        time.sleep(recipe["seconds"] / steps)
        progress(step + 1, steps)
    marker = path.parent / FAIL_NEXT
    if marker.exists():
        marker.unlink()
        raise RuntimeError("asked to fail (test)")
    path.write_text(recipe["word"])
