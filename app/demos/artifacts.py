"""Prepared artifacts: what a demo needs that takes more than about a second to make.

A pretrained base model, a teacher network: each is declared by a demo as an `Artifact` (a
recipe whose hash names the file) and built once, by `modelterms prepare` during set-up or, when
missing at run time, by the engine in a process of its own, never inside a run's budget.

Files live in their own folder (`MODELTERMS_ARTIFACTS_DIR`), not in the data dir, so a fresh
data dir or volume keeps them. Each file has a `.sha256` beside it, written after the file is
renamed into place: a file without a matching checksum (half written, truncated, corrupted) is
never loaded; it is built again.

This module stays importable without torch: the web process checks readiness from here, and a
builder (which may import torch) is imported only in the process that builds.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

Progress = Callable[[int, int], None]
"""progress(done, total): called by a builder as it goes, e.g. once per training step."""

Builder = Callable[[Path, Mapping[str, Any], Progress], None]
"""builder(path, recipe, progress): makes the artifact the recipe describes and writes it to `path`
(a temporary name). Taking the recipe as input keeps it the one statement of what is built."""


@dataclass(frozen=True)
class Artifact:
    name: str
    """Stem of the file name, e.g. 'charlm-base'."""
    title: str
    """What it is, for people: 'the base model' -> 'Preparing the base model, one time: ...'."""
    builder: str
    """'module:function' of the `Builder`; imported only where the artifact is built."""
    recipe: Mapping[str, Any]
    """Everything that shapes the result (data hash, sizes, seed, a version number), as JSON."""

    @cached_property
    def version(self) -> str:
        blob = json.dumps({"builder": self.builder, "recipe": self.recipe}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.version}.pt"

    def resolve_builder(self) -> Builder:
        return resolve(self.builder)


def resolve(reference: str) -> Any:
    """The object a 'module:name' reference names, importing its module now: how the code that
    needs torch (a builder, a demo's training) is reached only in the processes that run it."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


class ArtifactDamaged(RuntimeError):
    """A prepared file no longer matches the checksum written beside it."""


class ArtifactStore:
    """The artifacts folder: where each artifact lives, whether it is whole, and how it is built."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._verified: dict[Path, tuple[int, int]] = {}  # path -> (size, mtime_ns) of a checked file

    def path(self, artifact: Artifact) -> Path:
        return self.root / artifact.filename

    def ready(self, artifact: Artifact) -> bool:
        """The file exists and matches the checksum written after it (cheap once checked)."""
        path = self.path(artifact)
        try:
            stat = path.stat()
            expected = path.with_suffix(".sha256").read_text().strip()
        except (FileNotFoundError, NotADirectoryError):
            return False
        key = (stat.st_size, stat.st_mtime_ns)
        if self._verified.get(path) == key:
            return True
        if file_sha256(path) != expected:
            return False
        self._verified[path] = key
        return True

    def checked(self, artifact: Artifact) -> Path:
        """The artifact's path for a run about to load it, its file hashed in full now: `ready`
        trusts a file whose size and time have not changed since it was checked, and a file can
        rot on disk, or be rewritten in place, and keep both. A damaged file is discarded, so the
        server prepares it again, and ArtifactDamaged says so; a missing one is built, as `ensure`."""
        path = self.path(artifact)
        if not path.exists():
            return self.ensure(artifact)
        self._verified.pop(path, None)
        if not self.ready(artifact):
            self.discard(artifact)
            raise ArtifactDamaged(
                f"{artifact.title} ({artifact.filename}) was damaged on disk, so it is being prepared again; "
                "start the run again in a moment."
            )
        return path

    def checksum(self, artifact: Artifact) -> str | None:
        """The SHA-256 of the artifact's file when it is whole, else None."""
        return self.path(artifact).with_suffix(".sha256").read_text().strip() if self.ready(artifact) else None

    def build(self, artifact: Artifact, progress: Progress = lambda done, total: None) -> Path:
        """Build the artifact (whatever is there now) and move it into place atomically."""
        path = self.path(artifact)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.discard(artifact)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            artifact.resolve_builder()(tmp, artifact.recipe, progress)
            digest = file_sha256(tmp)
            tmp.chmod(0o644)  # mkstemp makes it private; a server running as another user must read it
            os.replace(tmp, path)
            _write_atomically(path.with_suffix(".sha256"), digest + "\n")
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def ensure(self, artifact: Artifact, progress: Progress = lambda done, total: None) -> Path:
        """The artifact's path, building it first if it is missing or not whole."""
        if not self.ready(artifact):
            self.build(artifact, progress)
        return self.path(artifact)

    def discard(self, artifact: Artifact) -> None:
        """Remove a (corrupt or stale) artifact: the checksum first, so no reader trusts the file."""
        path = self.path(artifact)
        path.with_suffix(".sha256").unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        self._verified.pop(path, None)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as file:
        file.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
