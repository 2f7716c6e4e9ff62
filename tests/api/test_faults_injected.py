"""Faults injected into real processes, no mocks: a worker frozen between steps (SIGSTOP), Redis
gone for 5 s with runs in flight, a run store that cannot be written and then can again. Each
test runs real worker processes (and a real redis-server) and takes a few seconds."""

from __future__ import annotations

import contextlib
import os
import signal

from tests.conftest import read_events, running_app
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
        frozen = client.app.state.engine.workers[0].process.pid
        os.kill(frozen, signal.SIGSTOP)
        try:
            cluster.wait_until(lambda: status(client, run) != "running", 10, "the frozen worker's run to end")
            end = read_events(client, run["id"])[-1]["data"]
            assert end["status"] == "failed" and "did not answer for over 1.5 s" in end["message"], end
            assert end["message"].startswith("The worker training this run stopped")
        finally:
            with contextlib.suppress(ProcessLookupError):  # the engine killed it
                os.kill(frozen, signal.SIGCONT)
        assert [w.process.pid for w in client.app.state.engine.workers] != [frozen]
        assert read_events(client, start(client, steps=5)["id"])[-1]["data"]["status"] == "done"
        assert client.get("/healthz").json()["status"] == "ok"
