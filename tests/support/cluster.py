"""A real Redis and real `modelterms worker` / `modelterms serve` processes for the Redis backend's
tests (no mock stands in for Redis)."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from app.playground.core.scheduler import process_context
from app.playground.redis.schema import Keys
from app.playground.redis.worker import run_worker
from app.settings import ROOT, Settings

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
MISSING_REDIS = (
    "redis-server is not installed, so the Redis backend's tests cannot run: "
    "apt-get install -y redis-server (Debian/Ubuntu) or brew install redis (macOS)"
)
MODELTERMS = str(Path(sys.executable).parent / "modelterms")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout: float, what: str, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@contextmanager
def redis_server(folder: Path, port: int | None = None) -> Iterator[str]:
    """A throwaway redis-server (no persistence) on a free port; yields its URL."""
    port = port or free_port()
    folder.mkdir(parents=True, exist_ok=True)
    args = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with (folder / "redis.log").open("ab") as log:
        process = subprocess.Popen([*args, "--dir", str(folder)], stdout=log, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        wait_until(lambda: _pings(client), 10, "redis-server to answer")
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait(10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process's Settings() equal `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELTERMS_")}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, list):
            value = json.dumps([str(v) for v in value])
        env[f"MODELTERMS_{name.upper()}"] = str(value)
    env["PYTHONPATH"] = str(ROOT)  # the test-only demos
    return env


def start_worker(settings: Settings, name: str) -> subprocess.Popen:
    log = (settings.data_dir / f"{name}.log").open("ab")
    return subprocess.Popen(
        [MODELTERMS, "worker", "--id", name],
        env=settings_env(settings),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def live_workers(settings: Settings) -> set[str]:
    keys = Keys(settings.redis_prefix)
    with redis.Redis.from_url(settings.redis_url, decode_responses=True) as client:
        return {w for w in client.hkeys(keys.workers) if client.exists(keys.alive(w))}


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def stop_processes(processes: list[subprocess.Popen], timeout: float = 15) -> None:
    """`stop_process` on each, signalled all at once: they shut down side by side."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        stop_process(process, timeout)


@contextmanager
def workers(settings: Settings, count: int, prefix: str = "worker") -> Iterator[list[subprocess.Popen]]:
    """`count` worker processes, yielded once every one has registered."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    names = [f"{prefix}-{i}-{os.getpid()}" for i in range(count)]
    processes = [start_worker(settings, name) for name in names]
    try:
        wait_until(lambda: set(names) <= live_workers(settings), 120, f"{count} workers to register", every=0.2)
        yield processes
    finally:
        for process in processes:
            stop_process(process)


@contextmanager
def forked_workers(
    settings: Settings, count: int, prefix: str = "forked"
) -> Iterator[list[multiprocessing.process.BaseProcess]]:
    """`count` Redis workers forked from the forkserver that has torch loaded (as the embedded
    engine starts its own), yielded once every one has registered: a fraction of a second each,
    where a `modelterms worker` process imports torch for seconds. `workers` starts the real
    command, for the tests of its signals and exit codes."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    names = [f"{prefix}-{i}-{os.getpid()}-{uuid.uuid4().hex[:4]}" for i in range(count)]
    context = process_context()
    processes = [
        context.Process(target=_forked_worker, args=(settings, name, settings.data_dir / f"{name}.log"), name=name)
        for name in names
    ]
    for process in processes:
        process.start()
    try:
        wait_until(lambda: set(names) <= live_workers(settings), 120, f"{count} workers to register", every=0.05)
        yield processes
    finally:
        for process in processes:
            process.terminate()  # SIGTERM: the worker ends its runs, hands back and deregisters
        for process in processes:
            process.join(15)
            if process.is_alive():
                process.kill()
                process.join(5)


def _forked_worker(settings: Settings, name: str, log_path: Path) -> None:
    """In the forked process: its output to a log of its own, as `modelterms worker` would."""
    with log_path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sys.exit(run_worker(settings, name))


def start_server(settings: Settings, port: int) -> subprocess.Popen:
    log = (settings.data_dir / f"serve-{port}.log").open("ab")
    return subprocess.Popen(
        [MODELTERMS, "serve", "--port", str(port)],
        env=settings_env(settings),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
