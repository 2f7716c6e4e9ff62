"""Every prepared artifact, built twice in processes of their own with different thread counts,
is the same file byte for byte: the script that rebuilds it gets the server's very model."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from app.demos import load_demos

ARTIFACTS = {artifact.name: artifact for demo in load_demos().values() for artifact in demo.artifacts}

BUILD = """
import sys, torch
torch.set_num_threads(int(sys.argv[1]))
from pathlib import Path
from app.demos import load_demos
from app.demos.artifacts import ArtifactStore
artifact = next(a for d in load_demos().values() for a in d.artifacts if a.name == sys.argv[2])
print(ArtifactStore(Path(sys.argv[3])).build(artifact))
"""


def build_in_a_process(name: str, threads: int, folder) -> str:
    done = subprocess.run(
        [sys.executable, "-c", BUILD, str(threads), name, str(folder)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    path = done.stdout.strip().splitlines()[-1]
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.mark.parametrize("name", sorted(ARTIFACTS))
def test_two_builds_with_different_thread_counts_are_byte_identical(name: str, tmp_path) -> None:
    one = build_in_a_process(name, 1, tmp_path / "one")
    two = build_in_a_process(name, 2, tmp_path / "two")
    print(f"{name}: {one}")  # the hash the reports quote (pytest -s)
    assert one == two
