"""Helpers shared by the benchmarks: start a server, wait for it, run wrk, free ports."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(base: str, timeout: float = 30, workers: bool = False, process=None) -> float:
    """Seconds until /healthz answers 200 (and, if asked, every worker has torch loaded)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            health = httpx.get(f"{base}/healthz", timeout=1).json()
            if not workers or health["workers_ready"] == health["workers"]:
                return time.perf_counter() - start
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.005)
    raise RuntimeError(f"{base} did not become healthy in {timeout} s")


@dataclass(frozen=True)
class Server:
    base: str
    started: float
    process: subprocess.Popen
    data_dir: Path


@contextmanager
def server(command: list[str], env: dict[str, str] | None = None):
    """Runs a server on a free port with a temporary data dir; yields a `Server`."""
    port = free_port()
    data = tempfile.mkdtemp(prefix="modelterms-bench-")
    environment = os.environ | {"MODELTERMS_DATA_DIR": data, "MODELTERMS_PORT": str(port)} | (env or {})
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield Server(f"http://127.0.0.1:{port}", started, process, Path(data))
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(data, ignore_errors=True)


def wrk(url: str, seconds: int = 5, connections: int = 20) -> dict[str, float]:
    """Requests per second and latency percentiles (ms) from wrk."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "90", "99"):
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        result[f"p{pct}_ms"] = float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
    return result


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and all its descendants (Linux /proc).
    On a machine shared with other work, CPU time measures the engine's cost where wall time
    measures the neighbours."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        process = todo.pop()
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime: fields 14 and 15
            for task in Path(f"/proc/{process}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:  # ended while we looked
            continue
    return total


def auth(run: dict) -> dict[str, str]:
    """The header PATCH and DELETE need: the control token from the run's POST answer."""
    return {"Authorization": f"Bearer {run['control_token']}"}
