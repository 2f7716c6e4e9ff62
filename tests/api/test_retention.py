"""Retention is not one client's to spend (issue 30, D7): the store keeps `keep_runs` runs, and of
them at most `keep_runs_per_client` of one client, so a loop of runs from one address pushes out
its own oldest runs and never the links others shared."""

from __future__ import annotations

from contextlib import nullcontext

from fastapi.testclient import TestClient

from tests.conftest import make_app, make_settings, read_events
from tests.support import cluster

PROXY = "127.0.0.1"  # the test client stands for a trusted proxy, so X-Forwarded-For names the client


def finished_run(client: TestClient, address: str) -> str:
    response = client.post("/api/demos/counter/runs", json={"steps": 1}, headers={"X-Forwarded-For": address})
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    assert read_events(client, run_id)[-1]["event"] == "end"
    return run_id


def kept(client: TestClient, run_id: str) -> bool:
    """In the store: the embedded transport also answers from the runs it still holds in memory."""
    store = getattr(client.app.state.engine.transport, "store", None)
    if store is not None:
        return store.status(run_id) is not None
    return client.get(f"/api/runs/{run_id}").status_code == 200


def test_one_clients_loop_of_runs_pushes_out_only_its_own(tmp_path, backend) -> None:
    """Fails on code that kept the newest runs whoever started them (the teacher's link went)."""
    settings = make_settings(
        tmp_path, keep_runs=4, keep_runs_per_client=2, trusted_proxies=[PROXY], workers=1, **backend
    )
    training = cluster.forked_workers(settings, 1) if settings.redis_url else nullcontext()
    with training, TestClient(make_app(settings), client=(PROXY, 50000)) as client:
        teacher = finished_run(client, "10.0.0.1")
        flood = [finished_run(client, "10.0.0.66") for _ in range(6)]
        assert kept(client, teacher)
        assert [kept(client, run_id) for run_id in flood] == [False] * 4 + [True] * 2
