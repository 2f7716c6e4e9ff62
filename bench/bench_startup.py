"""From `make run` to the first point of a run posted the moment /healthz answers (issue 34).

Run: .venv/bin/python bench/bench_startup.py [repeats] [tree]
`tree`: another checkout of the project (an older commit, say, with this one's .venv, node_modules,
static/vendor and artifacts linked into it) to measure instead, with its code first on PYTHONPATH,
so that before and after can be measured in turns on a machine whose load changes.
Each repeat starts `make run` afresh (a new server, its workers not yet started; the disk cache
is whatever the machine has) on a free port with an empty data folder, and reports the seconds
from the start of `make run` until
  - /healthz first answers 200 (the process is alive),
  - /healthz says "ready": true (every training worker is up),
  - the first `metrics` event of a gradient-descent run POSTed as soon as /healthz answered.
Then it stops the server with Ctrl+C (SIGINT to the process group, as a terminal does) and reports
the server's exit status and whether make printed a failure (`make: ***`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from _harness import ROOT, free_port

FIRST_RUN = {"steps": 20, "pace": 0}


class HealthWatch(threading.Thread):
    """Polls /healthz every 10 ms and notes when it first answered and when it first said ready."""

    def __init__(self, base: str, started: float) -> None:
        super().__init__(daemon=True)
        self.base, self.started = base, started
        self.alive = threading.Event()
        self.alive_s: float | None = None
        self.ready_s: float | None = None
        self.stop = threading.Event()
        self.start()

    def run(self) -> None:
        while not self.stop.is_set() and self.ready_s is None:
            try:
                health = httpx.get(f"{self.base}/healthz", timeout=1).json()
                now = time.monotonic() - self.started
                if self.alive_s is None:
                    self.alive_s = now
                    self.alive.set()
                # Before issue 34, /healthz had no `ready`: every worker up meant the same.
                if health.get("ready", health["workers_ready"] == health["workers"]):
                    self.ready_s = now
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.01)


def first_point(base: str, run_id: str) -> None:
    with httpx.stream("GET", f"{base}/api/runs/{run_id}/events", timeout=60) as response:
        for line in response.iter_lines():
            if line == "event: metrics":
                return
    raise RuntimeError("the run ended without a point")


# Set-up counts as done: in another tree, a newer package.json or pyproject.toml must not make
# `make` reinstall into the environments linked from this one.
SET_UP = [".venv/.installed", "node_modules/.package-lock.json", "static/vendor/.copied"]


def one_start(tree: Path) -> dict[str, float | int | bool | None]:
    port = free_port()
    data = tempfile.mkdtemp(prefix="modelterms-startup-")
    env = os.environ | {"MODELTERMS_PORT": str(port), "MODELTERMS_DATA_DIR": data}
    if tree != ROOT:
        env["PYTHONPATH"] = str(tree)
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    make = subprocess.Popen(
        ["make", "--no-print-directory", *(f"--old-file={path}" for path in SET_UP), "run"],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    watch = HealthWatch(base, started)
    try:
        if not watch.alive.wait(120):
            raise RuntimeError("/healthz did not answer in 120 s")
        posted = httpx.post(f"{base}/api/demos/gradient-descent/runs", json=FIRST_RUN, timeout=10)
        if posted.status_code != 201:
            raise RuntimeError(f"the first run was refused: {posted.status_code} {posted.text}")
        first_point(base, posted.json()["id"])
        first = time.monotonic() - started
        watch.join(60)
        os.killpg(make.pid, signal.SIGINT)
        output = make.communicate(timeout=30)[0].decode(errors="replace")
        return {
            "alive_s": watch.alive_s,
            "ready_s": watch.ready_s,
            "first_point_s": first,
            "make_status": make.returncode,
            "make_failed": "make: ***" in output,
            "server_finished": "Finished server process" in output,
        }
    finally:
        watch.stop.set()
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait(10)
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    tree = Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else ROOT
    results = [one_start(tree) for _ in range(repeats)]
    for result in results:
        print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}))
    for key in ("alive_s", "ready_s", "first_point_s"):
        print(f"{key:>14}: median {statistics.median(r[key] for r in results):.2f} s over {repeats} starts")


if __name__ == "__main__":
    main()
