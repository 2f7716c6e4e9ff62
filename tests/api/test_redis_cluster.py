"""The Redis backend as a cluster: two `modelterms serve` replicas and two `modelterms worker`
processes on one real redis-server. Any replica serves any run; a dead worker's run ends `failed`;
a stream cut by a replica that stops resumes on the other with Last-Event-ID."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest
import redis

from app.playground.redis.schema import Keys
from app.settings import Settings
from tests.conftest import auth, make_settings, parse_sse, points_of, read_events
from tests.support import cluster

SIZE = 2  # web replicas and workers alike


@dataclass
class Cluster:
    """Two replicas and two workers on one Redis, shared by the tests of this module: a test that
    stops or kills one of them gets a new one in its place before the next test (`heal`), where
    a cluster of its own cost each test ~19 s to start and as long to stop."""

    settings: Settings
    servers: list[subprocess.Popen] = field(default_factory=list)
    web: list[httpx.Client] = field(default_factory=list)
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)  # worker id -> its process
    started: int = 0  # workers started so far: each new one gets a name of its own

    def run_hash(self, run_id: str) -> dict[str, str]:
        with redis.Redis.from_url(self.settings.redis_url, decode_responses=True) as client:
            return client.hgetall(Keys(self.settings.redis_prefix).run(run_id))

    def heal(self) -> None:
        """Start a replica for each that exited and a worker for each that did, all at once; return
        once every replica counts two live workers and no run left over from the test before. A
        replica a test stopped may still be shutting down: it is replaced once it has exited."""
        for _ in range(3):
            self._replace_the_exited()
            cluster.wait_until(self._settled_or_one_exited, 120, "two replicas with two workers and no run")
            if self._all_running():
                return
        raise AssertionError(f"a replica or a worker keeps exiting: see the logs in {self.settings.data_dir}")

    def _all_running(self) -> bool:
        return all(process.poll() is None for process in [*self.servers, *self.workers.values()])

    def _replace_the_exited(self) -> None:
        for server, client in list(zip(self.servers, self.web, strict=True)):
            if server.poll() is not None:
                client.close()
                self.servers.remove(server)
                self.web.remove(client)
        for name, process in list(self.workers.items()):
            if process.poll() is not None:
                del self.workers[name]
        while len(self.servers) < SIZE:
            port = cluster.free_port()
            self.servers.append(cluster.start_server(self.settings, port))
            self.web.append(httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30))
        while len(self.workers) < SIZE:
            name = f"worker-{self.started}-{os.getpid()}"
            self.workers[name] = cluster.start_worker(self.settings, name)
            self.started += 1

    def _settled_or_one_exited(self) -> bool:
        return not self._all_running() or all(_settled(client) for client in self.web)

    def stop(self) -> None:
        for client in self.web:
            client.close()
        cluster.stop_processes([*self.servers, *self.workers.values()])


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory, redis_url) -> Iterator[Cluster]:
    settings = make_settings(
        tmp_path_factory.mktemp("cluster"),
        redis_url=redis_url,
        heartbeat_seconds=0.5,
        idle_cancel_seconds=60,
        runs_per_client=3,
    )
    shared = Cluster(settings)
    try:
        yield shared
    finally:
        shared.stop()


@pytest.fixture
def two_by_two(shared_cluster: Cluster) -> Cluster:
    shared_cluster.heal()
    return shared_cluster


def _settled(client: httpx.Client) -> bool:
    """The replica answers, sees Redis and two live workers, and no run is queued or running."""
    try:
        health = client.get("/healthz").json()
    except httpx.HTTPError:
        return False
    return health["redis"] == "ok" and health["workers"] == SIZE and health["running"] == health["queued"] == 0


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
