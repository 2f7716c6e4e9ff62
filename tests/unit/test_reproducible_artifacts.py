"""Every prepared artifact, built again in a process of its own on a thread count no other build of
it used, is the prepared file byte for byte: the script that rebuilds it gets the server's very
model, whatever its machine's thread count."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.demos import load_demos
from app.demos.artifacts import ArtifactStore, file_sha256
from app.settings import Settings

ARTIFACTS = {artifact.name: artifact for demo in load_demos().values() for artifact in demo.artifacts}

# torch's default thread count in a fresh process (N) is what `modelterms prepare` builds with; the
# engine's builder process and a downloaded script build on 1. This process builds on N + 1.
BUILD = """
import sys, torch
threads = torch.get_num_threads() + 1
torch.set_num_threads(threads)
from pathlib import Path
from app.demos import load_demos
from app.demos.artifacts import ArtifactStore, file_sha256
artifact = next(a for d in load_demos().values() for a in d.artifacts if a.name == sys.argv[1])
print(threads)
print(ArtifactStore(Path(sys.argv[2])).build(artifact))
"""


@pytest.mark.parametrize("name", sorted(ARTIFACTS))
def test_a_build_on_another_thread_count_is_the_prepared_file_byte_for_byte(name: str, tmp_path) -> None:
    """One build (10-25 s each): the prepared file of set-up is the other side of the comparison.
    Where it is missing, `ensure` builds it here, on this process's thread count (N, or 1)."""
    prepared = ArtifactStore(Settings().artifacts_dir)
    prepared.ensure(ARTIFACTS[name])
    done = subprocess.run(
        [sys.executable, "-c", BUILD, name, str(tmp_path)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    threads, path = done.stdout.split()[-2:]
    assert int(threads) >= 2  # neither the builder's nor the script's single thread
    fresh = file_sha256(Path(path))
    print(f"{name}: {fresh} (built on {threads} threads)")  # the hash the reports quote (pytest -s)
    assert fresh == prepared.checksum(ARTIFACTS[name])
