"""Building a missing artifact while the server runs: once, in a process of its own.

Runs that need it wait (status `queued`) and see `prepare` events with the build's progress; the
build never counts against any run's budget. When it fails, the runs that waited end `failed`
with the reason, and the next run that needs the artifact tries again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
import uuid
import warnings
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

from app.demos.artifacts import Artifact, ArtifactStore

if TYPE_CHECKING:
    from app.playground.core.scheduler import ProcessContext

PROGRESS_SECONDS = 0.25  # progress reaches the runs at most four times a second
BUILDER_NICENESS = 5

log = logging.getLogger("modelterms.prepare")


def builder_main(conn: Connection, artifacts_dir: Path, artifact: Artifact) -> None:
    """Process entry: build `artifact`, reporting ("progress", done, total), then ("done",) or
    ("failed", message)."""
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the engine ends us itself
    os.nice(BUILDER_NICENESS)
    import torch

    torch.set_num_threads(1)
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_SECONDS or done >= total:
            last = now
            conn.send(("progress", done, total))

    try:
        ArtifactStore(artifacts_dir).build(artifact, progress)
    except Exception as error:
        error_id = uuid.uuid4().hex[:8]
        log.error("building %s failed (error id %s)", artifact.filename, error_id, exc_info=error)
        conn.send(("failed", f"the build failed on the server (error id {error_id})"))
    else:
        conn.send(("done",))


class Preparation:
    """One artifact being built, and the runs waiting for it (engine side, on the event loop)."""

    def __init__(
        self,
        artifact: Artifact,
        artifacts_dir: Path,
        context: ProcessContext,
        on_progress: Callable[[Preparation, int, int], None],
        on_end: Callable[[Preparation, str | None], None],
    ) -> None:
        self.artifact = artifact
        self.waiting: list = []  # the engine's runs
        self._on_progress = on_progress
        self._on_end = on_end
        self._conn, child = context.Pipe(duplex=False)
        self.process = context.Process(
            target=builder_main, args=(child, artifacts_dir, artifact), daemon=True, name="modelterms-prepare"
        )
        self.process.start()
        child.close()
        asyncio.get_running_loop().add_reader(self._conn.fileno(), self._on_readable)

    def message(self, done: int, total: int) -> str:
        return f"Preparing {self.artifact.title}, one time: step {done} of {total}"

    def _on_readable(self) -> None:
        try:
            while self._conn.poll():
                message = self._conn.recv()
                if message[0] == "progress":
                    self._on_progress(self, message[1], message[2])
                else:
                    self._finish(None if message[0] == "done" else message[1])
                    return
        except (EOFError, OSError):
            self._finish("the build process ended without finishing")

    def _finish(self, error: str | None) -> None:
        self._stop_reading()
        # The builder exits right after its last message: reap it in a thread, never on the loop.
        asyncio.get_running_loop().run_in_executor(None, self.process.join, 5)
        self._on_end(self, error)

    def close(self) -> None:
        """End the build now (the engine is stopping)."""
        self._stop_reading()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(1)

    def _stop_reading(self) -> None:
        if not self._conn.closed:
            asyncio.get_running_loop().remove_reader(self._conn.fileno())
            self._conn.close()
