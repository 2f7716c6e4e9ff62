"""Faults injected into real processes, no mocks: a worker frozen between steps (SIGSTOP), Redis
gone for 5 s with runs in flight, a run store that cannot be written and then can again. Each
test runs real worker processes (and a real redis-server) and takes a few seconds."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Iterator

import httpx
import redis
from fastapi.testclient import TestClient

from app.playground.redis.schema import Keys
from app.playground.redis.transport import RedisTransport
from tests.api.test_selfhost import iter_events, serving, start_run
from tests.conftest import make_app, make_settings, points_of, read_events, running_app
from tests.support import cluster

HEARTBEAT = 0.5  # seconds: a worker silent for three of them is taken for dead


def start(client, **params) -> dict:
    response = client.post("/api/demos/counter/runs", json=params)
    assert response.status_code == 201, response.text
    return response.json()


def status(client, run: dict) -> str:
    return client.get(f"/api/runs/{run['id']}").json()["status"]


def test_a_worker_frozen_between_steps_is_replaced_and_its_runs_fail_saying_why(tmp_path) -> None:
    """Embedded: a paced run's worker sleeps between steps, so no step hangs; only its heartbeat
    says it is gone. Fails on code that watched steps alone (the run stayed `running` forever)."""
    with running_app(tmp_path, workers=1, heartbeat_seconds=HEARTBEAT) as client:
        run = start(client, steps=100_000, pace=5)
        read_events(client, run["id"], limit=2)
        frozen = client.app.state.engine.transport.workers[0].process.pid
        os.kill(frozen, signal.SIGSTOP)
        try:
            cluster.wait_until(lambda: status(client, run) != "running", 10, "the frozen worker's run to end")
            end = read_events(client, run["id"])[-1]["data"]
            assert end["status"] == "failed" and "did not answer for over 1.5 s" in end["message"], end
            assert end["message"].startswith("The worker training this run stopped")
        finally:
            with contextlib.suppress(ProcessLookupError):  # the engine killed it
                os.kill(frozen, signal.SIGCONT)
        assert [w.process.pid for w in client.app.state.engine.transport.workers] != [frozen]
        assert read_events(client, start(client, steps=5)["id"])[-1]["data"]["status"] == "done"
        assert client.get("/healthz").json()["status"] == "ok"


@contextlib.contextmanager
def redis_app(tmp_path, redis_url: str, workers: int, **overrides) -> Iterator[tuple[TestClient, list]]:
    """A web replica in this process and `workers` real worker processes on the Redis at `redis_url`."""
    settings = make_settings(
        tmp_path / "data", redis_url=redis_url, heartbeat_seconds=HEARTBEAT, workers=workers, **overrides
    )
    with cluster.forked_workers(settings, workers) as processes, TestClient(make_app(settings)) as client:
        yield client, processes


@contextlib.contextmanager
def stopped(pid: int) -> Iterator[None]:
    """The process frozen (SIGSTOP) for the block, and woken (SIGCONT) after it, whatever happens."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


def test_a_redis_worker_frozen_between_steps_fails_its_runs_and_rejoins_when_it_wakes(tmp_path, redis_url) -> None:
    """One slot: the next run trains only if the woken worker dropped the run that ended under it
    (it trained on, unseen, on the code before)."""
    with redis_app(tmp_path, redis_url, workers=1, runs_per_worker=1) as (client, (worker,)):
        run = start(client, steps=100_000, pace=5)
        read_events(client, run["id"], limit=2)
        with stopped(worker.pid):
            cluster.wait_until(lambda: status(client, run) != "running", 10, "the frozen worker's run to end")
        end = read_events(client, run["id"])[-1]["data"]
        assert end["status"] == "failed" and "went silent" in end["message"], end
        cluster.wait_until(lambda: client.get("/healthz").json()["workers"] == 1, 10, "the woken worker to rejoin")
        after = start(client, steps=5)
        cluster.wait_until(lambda: status(client, after) == "done", 10, "the next run to train")


@contextlib.contextmanager
def persistent_redis(folder) -> Iterator[tuple[str, Callable[[], None]]]:
    """A redis-server that writes every change to its append-only file, and a function that kills
    it (SIGKILL, as a crash) and starts it again on the same port and file 5 s later."""
    folder.mkdir(parents=True, exist_ok=True)
    port = cluster.free_port()
    args = [cluster.REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]
    args += ["--save", "", "--appendonly", "yes", "--appendfsync", "always"]
    url = f"redis://127.0.0.1:{port}/0"
    server = [subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)]

    def answers() -> bool:
        with contextlib.suppress(redis.ConnectionError), redis.Redis.from_url(url) as db:
            return bool(db.ping())
        return False

    def down_for_5_s() -> None:
        server[0].kill()
        server[0].wait(5)
        time.sleep(5)
        server[0] = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        cluster.wait_until(answers, 10, "redis-server to come back")

    try:
        cluster.wait_until(answers, 10, "redis-server to answer")
        yield url, down_for_5_s
    finally:
        server[0].kill()
        server[0].wait(5)


def test_redis_down_for_5_s_with_runs_in_flight_ends_none_of_them(tmp_path) -> None:
    """Redis killed and started again 5 s later (append-only file): every heartbeat expired
    meanwhile, though both workers trained on; the runs finish whole once Redis is back."""
    with persistent_redis(tmp_path / "redis") as (url, down_for_5_s), redis_app(tmp_path, url, 2) as (client, _):
        runs = [start(client, steps=40, pace=5) for _ in range(2)]  # 8 s each
        for run in runs:
            read_events(client, run["id"], limit=2)
        down_for_5_s()
        for run in runs:
            cluster.wait_until(lambda r=run: status(client, r) not in ("queued", "running"), 20, "the run to end")
            events = read_events(client, run["id"])
            assert events[-1]["data"]["status"] == "done", events[-1]["data"]
            assert [p["step"] for p in points_of(events)] == list(range(40))


def test_a_replica_back_in_touch_with_redis_gives_silent_workers_three_beats_to_beat(tmp_path, redis_url) -> None:
    """Whatever the outage (Redis down, frozen or cut off), every heartbeat may have expired in it
    while the workers lived: a replica reaps only after hearing Redis for three beats without a
    break. Fails on code that reaped at its first look (runs ended 'went silent' after an outage)."""
    settings = make_settings(tmp_path, redis_url=redis_url, heartbeat_seconds=0.2)
    keys = Keys(settings.redis_prefix)

    async def watch_until_reaped() -> tuple[bool, float]:
        replica = RedisTransport(settings)
        info = {"device": "cpu", "capacity": 1, "host": "elsewhere", "pid": 1}
        await replica.redis.hset(keys.workers, "silent", json.dumps(info))  # registered, no heartbeat
        try:
            await replica._keep_watch()  # the first answer after an outage (or at start)
            kept_at_first = await replica.redis.hexists(keys.workers, "silent")
            first = time.monotonic()
            while await replica.redis.hexists(keys.workers, "silent") and time.monotonic() - first < 5:
                await asyncio.sleep(0.05)
                await replica._keep_watch()
            return kept_at_first, time.monotonic() - first
        finally:
            await replica.stop()

    kept_at_first, reaped_after = asyncio.run(watch_until_reaped())
    assert kept_at_first and 3 * 0.2 <= reaped_after < 5


def test_a_store_that_cannot_grow_is_reported_and_health_recovers_when_it_can(tmp_path) -> None:
    """The real server with its file size limit (RLIMIT_FSIZE, set from outside) at one byte: no
    write to the run store can land, as on a full disk. Then the limit is lifted.

    The stores keep no shared-memory file (-shm) beside them: one cut short under the server (as a
    failing disk can) was a SIGBUS that killed it (tests/unit/test_store.py shows that death)."""
    with serving() as (server, data):
        pid, (_, hard) = server.process.pid, resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, hard))
        try:
            end = run_to_end(server)
            assert end["status"] == "done" and end["saved"] is False and "could not be saved" in end["message"]
            health = httpx.get(f"{server.base}/healthz", timeout=5).json()
            assert health["status"] == "degraded" and health["store"].startswith("cannot write runs"), health
        finally:
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))
        assert run_to_end(server).get("saved") is not False
        assert httpx.get(f"{server.base}/healthz", timeout=5).json()["status"] == "ok"
        files = sorted(path.name for path in data.iterdir())
        assert {"runs.sqlite3", "classes.sqlite3"} <= set(files), files
        assert not [name for name in files if name.endswith("-shm")], files


def run_to_end(server) -> dict:
    """A short run on the server, followed to its `end` event; that event's data."""
    run_id = start_run(server, "gradient-descent", steps=5, pace=0)
    with httpx.stream("GET", f"{server.base}/api/runs/{run_id}/events", timeout=30) as response:
        return next(e for e in iter_events(response, time.monotonic() + 30) if e["event"] == "end")["data"]


def test_a_worker_started_before_its_redis_waits_for_it_saying_so(tmp_path) -> None:
    """`modelterms worker` itself, its Redis not up yet: it says so and tries again (it exited with
    a traceback before), registers once Redis answers, and stops cleanly on SIGTERM. Starting the
    real command (torch, artifacts checked) is most of its ~10 s."""
    port = cluster.free_port()
    settings = make_settings(tmp_path / "data", redis_url=f"redis://127.0.0.1:{port}/0", heartbeat_seconds=HEARTBEAT)
    settings.data_dir.mkdir(parents=True)
    worker = cluster.start_worker(settings, "early")
    log = settings.data_dir / "early.log"
    try:
        cluster.wait_until(lambda: "trying again in" in log.read_text(), 60, "the worker to say it waits for Redis")
        assert worker.poll() is None and "Traceback" not in log.read_text()
        with cluster.redis_server(tmp_path / "redis", port):
            cluster.wait_until(lambda: "early" in cluster.live_workers(settings), 20, "the worker to register")
            cluster.stop_process(worker)
        assert worker.returncode == 0, log.read_text()[-2000:]
    finally:
        cluster.stop_process(worker)


def test_an_artifact_that_rots_after_it_was_checked_is_not_loaded_but_prepared_again(tmp_path) -> None:
    """The file changed in place with its size and time kept (a flipped byte on disk): the worker
    hashes it at every load, so the run fails saying so instead of training on it, and the next
    run gets a freshly prepared file. The old code loaded the damaged file silently."""
    artifacts = tmp_path / "artifacts"
    with running_app(tmp_path / "data", workers=1, artifacts_dir=artifacts) as client:
        first = client.post("/api/demos/prepared/runs", json={"steps": 2}).json()
        assert read_events(client, first["id"])[-1]["data"]["status"] == "done"
        (path,) = artifacts.glob("test-word-*.pt")
        stat = path.stat()
        path.write_text("prepaXed")  # as long as "prepared"
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        damaged = client.post("/api/demos/prepared/runs", json={"steps": 2}).json()
        end = read_events(client, damaged["id"])[-1]["data"]
        assert end["status"] == "failed" and "damaged on disk" in end["message"], end
        again = read_events(client, client.post("/api/demos/prepared/runs", json={"steps": 2}).json()["id"])
        start = next(e["data"] for e in again if e["event"] == "start")  # after the `prepare` events
        assert again[-1]["data"]["status"] == "done" and start["word"] == "prepared"
