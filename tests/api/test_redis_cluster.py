"""The Redis backend as a cluster: two `modelterms serve` replicas and two `modelterms worker`
processes on one real redis-server. Any replica serves any run; a dead worker's run ends `failed`;
a stream cut by a replica that stops resumes on the other with Last-Event-ID."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
import redis

from app.playground.redis.schema import Keys
from app.settings import Settings
from tests.conftest import auth, make_settings, parse_sse, points_of, read_events
from tests.support import cluster


@dataclass
class Cluster:
    settings: Settings
    web: list[httpx.Client]
    servers: list
    workers: dict[str, object]  # worker id -> its process

    def run_hash(self, run_id: str) -> dict[str, str]:
        with redis.Redis.from_url(self.settings.redis_url, decode_responses=True) as client:
            return client.hgetall(Keys(self.settings.redis_prefix).run(run_id))


@pytest.fixture
def two_by_two(tmp_path, redis_url) -> Iterator[Cluster]:
    settings = make_settings(
        tmp_path, redis_url=redis_url, heartbeat_seconds=0.5, idle_cancel_seconds=60, runs_per_client=3
    )
    ports = [cluster.free_port(), cluster.free_port()]
    servers = [cluster.start_server(settings, port) for port in ports]
    web = [httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) for port in ports]
    try:
        with cluster.workers(settings, 2) as processes:
            for client in web:
                cluster.wait_until(lambda c=client: _healthy(c), 60, "a web replica to answer")
            names = sorted(cluster.live_workers(settings))
            yield Cluster(settings, web, servers, dict(zip(names, processes, strict=True)))
    finally:
        for client in web:
            client.close()
        for server in servers:
            cluster.stop_process(server)


def _healthy(client: httpx.Client) -> bool:
    try:
        health = client.get("/healthz").json()
    except httpx.HTTPError:
        return False
    return health["redis"] == "ok" and health["workers"] == 2


def start(client: httpx.Client, **params) -> dict:
    response = client.post("/api/demos/counter/runs", json=params)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_run_started_on_one_replica_is_streamed_and_changed_on_the_other(two_by_two: Cluster) -> None:
    a, b = two_by_two.web
    run = start(a, steps=100_000, pace=50, lr=0.1)
    head = read_events(b, run["id"], limit=3)
    assert head[0]["event"] == "start"
    changed = b.patch(f"/api/runs/{run['id']}", headers=auth(run), json={"lr": 0.5})
    assert changed.status_code == 200 and changed.json()["params"]["lr"] == 0.5
    applied = changed.json()["applies_from_step"]
    more = read_events(b, run["id"], after=head[-1]["id"], limit=8)
    assert a.delete(f"/api/runs/{run['id']}", headers=auth(run)).status_code == 200
    events = head + more + read_events(a, run["id"], after=more[-1]["id"])
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert {"step": applied, "changes": {"lr": 0.5}} in [e["data"] for e in events if e["event"] == "control"]
    assert all(p["lr"] == (0.1 if p["step"] < applied else 0.5) for p in points_of(events))
    assert events[-1]["data"]["status"] == "cancelled"
    assert b.get(f"/api/runs/{run['id']}").json()["status"] == "cancelled"  # the permalink, from either


def test_a_worker_killed_mid_run_fails_its_run_and_the_next_run_trains(two_by_two: Cluster) -> None:
    a, b = two_by_two.web
    run = start(a, steps=100_000, pace=50)
    read_events(a, run["id"], limit=2)
    victim = two_by_two.run_hash(run["id"])["worker"]
    os.kill(two_by_two.workers[victim].pid, signal.SIGKILL)
    killed_at = time.monotonic()
    end = read_events(b, run["id"])[-1]["data"]
    assert end["status"] == "failed" and "worker training this run stopped" in end["message"]
    assert time.monotonic() - killed_at < 8  # three missed heartbeats of 0.5 s, plus a watch period
    follow_up = start(b, steps=20)
    assert read_events(a, follow_up["id"])[-1]["data"]["status"] == "done"
    assert two_by_two.run_hash(follow_up["id"])["worker"] != victim


def test_a_stream_cut_by_a_stopping_replica_resumes_on_the_other(two_by_two: Cluster) -> None:
    a, b = two_by_two.web
    run = start(a, steps=150, pace=30)
    cut: list[dict] = []
    with a.stream("GET", f"/api/runs/{run['id']}/events") as response:
        for event in parse_sse(response.iter_lines()):
            cut.append(event)
            if len(cut) == 3:
                two_by_two.servers[0].send_signal(signal.SIGTERM)  # while this stream is open
    assert cut[-1]["event"] != "end"  # the replica closed the stream early, as it stopped
    last = cut[-1]["id"]
    with b.stream("GET", f"/api/runs/{run['id']}/events", headers={"Last-Event-ID": str(last)}) as response:
        first = next(line for line in response.iter_lines() if line.startswith("id: "))
    assert first == f"id: {last + 1}"
    events = cut + read_events(b, run["id"], after=last)
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert [p["step"] for p in points_of(events)] == list(range(150))
    assert events[-1]["data"]["status"] == "done"  # the run trained on while its first replica stopped


def test_admission_is_atomic_across_replicas(two_by_two: Cluster) -> None:
    """Ten POSTs at once, half to each replica, from one client allowed three runs: three get in."""
    replicas = two_by_two.web
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda i: replicas[i % 2].post("/api/demos/counter/runs", json={"pace": 5}), range(10)))
    admitted = [a.json() for a in answers if a.status_code == 201]
    assert len(admitted) == 3 and sorted(a.status_code for a in answers)[3:] == [429] * 7
    for run in admitted:
        assert replicas[0].delete(f"/api/runs/{run['id']}", headers=auth(run)).status_code == 200


def test_sigterm_stops_a_worker_gracefully(two_by_two: Cluster) -> None:
    a, _ = two_by_two.web
    run = start(a, steps=100_000, pace=50)
    read_events(a, run["id"], limit=2)
    name = two_by_two.run_hash(run["id"])["worker"]
    process = two_by_two.workers[name]
    process.send_signal(signal.SIGTERM)
    end = read_events(a, run["id"])[-1]["data"]
    assert end["status"] == "cancelled"
    assert process.wait(15) == 0
    assert name not in cluster.live_workers(two_by_two.settings)  # deregistered, not left to expire
