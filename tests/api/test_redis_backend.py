"""The Redis backend on its own: choosing it, and a Redis that is down and then comes back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import redis
from fastapi.testclient import TestClient

from app.playground.core.interface import Budget
from app.playground.core.service import RunService
from app.playground.embedded.transport import EmbeddedTransport
from app.playground.redis.schema import GROUP, SCRIPTS, Keys
from app.playground.redis.transport import RedisTransport
from app.playground.redis.worker import HUNG_EXIT_CODE, RedisConn
from tests.conftest import make_app, make_settings, points_of, read_events
from tests.support import cluster


def test_the_redis_url_setting_chooses_the_backend(tmp_path) -> None:
    assert isinstance(make_app(make_settings(tmp_path)).state.engine.transport, EmbeddedTransport)
    redis_app = make_app(make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0"))
    assert isinstance(redis_app.state.engine.transport, RedisTransport)


def test_while_redis_is_down_requests_get_a_clear_503_and_it_recovers_when_back(tmp_path, redis_url) -> None:
    port = cluster.free_port()
    settings = make_settings(tmp_path, redis_url=f"redis://127.0.0.1:{port}/0", heartbeat_seconds=0.2)
    with TestClient(make_app(settings)) as client:
        health = client.get("/healthz").json()
        assert health["status"] == "degraded" and health["redis"].startswith("unreachable")
        down = client.post("/api/demos/counter/runs", json={"steps": 5})
        assert down.status_code == 503 and "cannot reach its Redis server" in down.json()["detail"]
        assert str(port) not in down.text + json.dumps(health)  # where Redis lives is the operator's to know
        assert down.headers["retry-after"] == "5"
        assert client.get("/api/runs/abcdef123456").status_code == 503
        with cluster.redis_server(tmp_path / "redis", port):
            cluster.wait_until(lambda: client.get("/healthz").json()["redis"] == "ok", 10, "the replica to see Redis")
            queued = client.post("/api/demos/counter/runs", json={"steps": 5})
            assert queued.status_code == 201 and queued.json()["queue_position"] == 1  # no worker yet: it waits
            assert client.get(f"/api/runs/{queued.json()['id']}").json()["status"] == "queued"


def test_a_run_is_claimed_once_and_a_dead_workers_unclaimed_runs_go_back_to_the_queue(tmp_path, redis_url) -> None:
    settings = make_settings(tmp_path, redis_url=redis_url, redis_prefix="reclaim-test", heartbeat_seconds=0.1)
    keys = Keys(settings.redis_prefix)
    sync = redis.Redis.from_url(redis_url, decode_responses=True)
    claim = sync.register_script(SCRIPTS["claim"])
    sync.hset(keys.capacity, "doomed", 2)
    sync.hset(keys.workers, "doomed", json.dumps({"device": "cpu", "capacity": 2}))
    sync.set(keys.alive("doomed"), 1, px=300)

    async def scenario() -> None:
        engine = RunService(settings, RedisTransport(settings))
        await engine.start()
        demo = engine.transport.demos["counter"]
        first = await engine.submit(demo, {"steps": 5}, "c")
        second = await engine.submit(demo, {"steps": 5}, "c")
        # The doomed worker reads both from the queue, claims the first, and dies before the second.
        read = sync.xreadgroup(GROUP, "doomed", {keys.dispatch: ">"}, count=2)
        assert [fields["run"] for _, fields in read[0][1]] == [first.id, second.id]
        # demo, params, what is withheld from the run's record (nothing here), the budget stamped at admission
        claimed = claim(keys=[], args=[keys.prefix, first.id, "doomed", 0])
        assert claimed[:3] == ["counter", '{"steps": 5}', None]
        assert Budget.from_json(claimed[3]) == Budget.of(settings)
        assert claim(keys=[], args=[keys.prefix, first.id, "other", 0]) is None  # never twice
        cluster.wait_until(lambda: not sync.exists(keys.alive("doomed")), 5, "the heartbeat to expire")
        for _ in range(100):  # a replica reaps once it has heard Redis for three beats without a break
            await engine.transport._keep_watch()
            if "doomed" not in sync.hkeys(keys.workers):
                break
            await asyncio.sleep(0.05)
        assert await engine.get(f"{first.id}:events") is None  # an id never names another key
        failed, requeued = await engine.get(first.id), await engine.get(second.id)
        assert failed.status == "failed" and requeued.status == "queued"
        again = sync.xreadgroup(GROUP, "other", {keys.dispatch: ">"}, count=5)
        assert [fields["run"] for _, fields in again[0][1]] == [second.id]
        assert sync.xpending(keys.dispatch, GROUP)["pending"] == 1  # only the entry `other` now holds
        assert "doomed" not in sync.hkeys(keys.workers)
        await engine.stop()

    asyncio.run(scenario())
    sync.close()


def test_a_leaving_worker_hands_back_the_runs_it_read_but_never_claimed(tmp_path, redis_url) -> None:
    settings = make_settings(tmp_path, redis_url=redis_url, redis_prefix="hand-back-test")
    keys = Keys(settings.redis_prefix)
    sync = redis.Redis.from_url(redis_url, decode_responses=True)

    async def scenario() -> None:
        engine = RunService(settings, RedisTransport(settings))
        await engine.start()
        leaving = RedisConn(sync, settings, "leaving", "cpu", engine.transport.demos)
        leaving.register()
        kept = await engine.submit(engine.transport.demos["counter"], {"steps": 5}, "c")
        cancelled = await engine.submit(engine.transport.demos["counter"], {"steps": 5}, "c")
        leaving.dispatched.extend(sync.xreadgroup(GROUP, "leaving", {keys.dispatch: ">"}, count=2)[0][1])
        await engine.cancel(cancelled.id)  # while it sat, read, in the leaving worker
        leaving.hand_back()
        again = sync.xreadgroup(GROUP, "other", {keys.dispatch: ">"}, count=5)
        assert [fields["run"] for _, fields in again[0][1]] == [kept.id]  # a cancelled run stays ended
        assert sync.xpending(keys.dispatch, GROUP)["pending"] == 1  # only the entry `other` now holds
        leaving.deregister()
        await engine.stop()

    asyncio.run(scenario())
    sync.close()


def test_a_replica_stops_even_when_a_cancel_is_lost_inside_a_redis_call(tmp_path, redis_url, monkeypatch) -> None:
    """`stop` cancels the replica's watch and its XREAD; a cancel that lands inside a Redis call
    can be lost there (a CI run's test app then waited for ever to shut down, its watch still
    running every second). Both loops also end on the flag `stop` sets, so stop returns."""
    settings = make_settings(tmp_path, redis_url=redis_url, heartbeat_seconds=0.05)

    async def losing_the_cancel(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)

    async def scenario() -> None:
        engine = RunService(settings, RedisTransport(settings))
        await engine.start()
        monkeypatch.setattr(RedisTransport, "_keep_watch", losing_the_cancel)
        await engine.submit(engine.transport.demos["counter"], {"steps": 5}, "c")
        await asyncio.sleep(0.2)  # the watch is inside the call that will lose the cancel
        await asyncio.wait_for(engine.stop(), timeout=5)

    # Not asyncio.run: on failure it would wait for ever for the watch that lost its cancel.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()


def test_a_worker_rides_out_a_redis_restart(tmp_path, redis_url) -> None:
    port = cluster.free_port()
    settings = make_settings(tmp_path, redis_url=f"redis://127.0.0.1:{port}/0")
    with contextlib.ExitStack() as training:
        with cluster.redis_server(tmp_path / "first", port):
            training.enter_context(cluster.forked_workers(settings, 1))
        # That Redis has stopped and, without persistence, forgotten everything; the worker waits.
        time.sleep(1.5)
        with cluster.redis_server(tmp_path / "second", port), TestClient(make_app(settings)) as client:
            cluster.wait_until(lambda: client.get("/healthz").json()["workers"] == 1, 20, "the worker to come back")
            run = client.post("/api/demos/counter/runs", json={"steps": 5}).json()
            assert read_events(client, run["id"])[-1]["data"]["status"] == "done"
            training.close()  # its SIGTERM while Redis is up, so it deregisters


def test_a_worker_applies_the_budget_the_admitting_replica_stamped_not_its_own(tmp_path, redis_url) -> None:
    """Budgets are stamped into the run when it is admitted: a worker whose own settings say 5
    steps and half an hour applies the admitting replica's 25 steps and 1 s of wall time."""
    replica = make_settings(tmp_path, redis_url=redis_url, max_steps=25, max_run_wall_seconds=1.0)
    worker = make_settings(tmp_path, redis_url=redis_url, max_steps=5)
    with cluster.forked_workers(worker, 1), TestClient(make_app(replica)) as client:
        capped = client.post("/api/demos/counter/runs", json={"steps": 1000}).json()
        events = read_events(client, capped["id"])
        assert len(points_of(events)) == 25 and "budget of 25 steps" in events[-1]["data"]["message"]
        slow = client.post("/api/demos/counter/runs", json={"steps": 20, "pace": 10}).json()  # 2 s at its pace
        end = read_events(client, slow["id"])[-1]["data"]
        assert end["status"] == "timeout" and "wall-time limit" in end["message"] and 5 <= end["step"] < 19


def test_a_hung_step_times_out_its_run_fails_its_neighbours_and_the_worker_exits(tmp_path, redis_url) -> None:
    """The hung-step limit is the run's own, stamped by the replica (1.5 s of compute), not the
    worker's (its default, 120 s)."""
    settings = make_settings(tmp_path, redis_url=redis_url, max_run_seconds=1.5)
    worker_settings = make_settings(tmp_path, redis_url=redis_url)
    with cluster.forked_workers(worker_settings, 1) as (worker,), TestClient(make_app(settings)) as client:
        neighbour = client.post("/api/demos/counter/runs", json={"steps": 100_000, "pace": 20}).json()
        read_events(client, neighbour["id"], limit=1)
        hung = client.post("/api/demos/counter/runs", json={"steps": 100, "block_at": 3}).json()
        end = read_events(client, hung["id"])[-1]["data"]
        assert end["status"] == "timeout" and "never gave control back" in end["message"]
        other = read_events(client, neighbour["id"])[-1]["data"]
        assert other["status"] == "failed" and other["message"].startswith("The worker training this run stopped")
        worker.join(10)
        assert worker.exitcode == HUNG_EXIT_CODE  # for its supervisor to start it again


def test_the_followers_of_one_replica_share_one_blocking_read(tmp_path, redis_url) -> None:
    """Thirteen clients following twelve runs hold one blocked XREAD between them, not thirteen,
    and each still gets every event it asked for, once and in order."""
    # Named, so that other apps on the same Redis server do not count.
    settings = make_settings(tmp_path, redis_url=f"{redis_url}?client_name=tail-test", workers=1)
    sync = redis.Redis.from_url(redis_url, decode_responses=True)

    def blocked_reads() -> int:
        return sum(1 for c in sync.client_list() if c["cmd"] == "xread" and c["name"] == "tail-test")

    async def follow_all(engine: RunService) -> tuple[list[list[bytes]], int]:
        demo = engine.transport.demos["counter"]
        runs = [await engine.submit(demo, {"steps": 30, "pace": 15}, f"c{i}") for i in range(12)]  # 2 s each
        peak = 0

        async def watch() -> None:
            nonlocal peak
            while True:
                peak = max(peak, await asyncio.to_thread(blocked_reads))
                await asyncio.sleep(0.1)

        async def frames(run, after: int = 0, wait: float = 0) -> list[bytes]:
            await asyncio.sleep(wait)
            return [f async for f in engine.follow(run, after) if f is not None]

        watcher = asyncio.create_task(watch())
        # The last one joins a stream others follow, mid-run, resuming after its event 2.
        streams = await asyncio.gather(*(frames(run) for run in runs), frames(runs[0], 2, 0.7))
        watcher.cancel()
        return streams, peak

    async def scenario() -> tuple[list[list[bytes]], int]:
        engine = RunService(settings, RedisTransport(settings))
        await engine.start()
        try:
            return await follow_all(engine)
        finally:
            await engine.stop()

    with cluster.forked_workers(settings, 1):
        streams, peak = asyncio.run(scenario())
    sync.close()
    assert peak == 1
    *whole, late = streams
    for frames in whole:
        ids = [int(f.split(b"\n", 1)[0].removeprefix(b"id: ")) for f in frames]
        assert ids == list(range(1, len(ids) + 1)) and b"event: end" in frames[-1]
        assert sum(b"event: metrics" in f for f in frames) >= 1
    assert late == whole[0][2:]


def test_finish_frees_the_seat_of_a_run_admitted_before_admit_recorded_what_it_counted(redis_url) -> None:
    """A run admitted by an older replica has no `counted` field (its hash names only its client and
    class): ending it still takes it off both counts, as a run admitted now is taken off its own."""
    keys = Keys("finish-fallback-test")
    sync = redis.Redis.from_url(redis_url, decode_responses=True)
    finish = sync.register_script(SCRIPTS["finish"])
    sync.hset(keys.run("old"), mapping={"status": "running", "client": "10.0.0.1", "group": "class:ab12"})
    sync.hset(keys.run("new"), mapping={"status": "running", "client": "10.0.0.2", "counted": '["10.0.0.2"]'})
    sync.sadd(keys.active, "old", "new")
    sync.hset(keys.clients, mapping={"10.0.0.1": 1, "class:ab12": 2, "10.0.0.2": 1})

    for run_id in ("old", "new"):
        assert finish(keys=[], args=[keys.prefix, run_id, "done", "{}", "{}", time.time(), 10, 10]) == 1

    assert sync.hgetall(keys.clients) == {"class:ab12": "1"}  # the class's other run is still counted
    assert sync.smembers(keys.active) == set()
