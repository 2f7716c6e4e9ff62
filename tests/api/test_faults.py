"""Faults: a killed worker, a hung step, a killed server, a full pipe at SIGTERM, a store that fails."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import httpx

from app.playground.embedded.transport import EmbeddedTransport
from app.settings import ROOT
from tests.api.test_selfhost import (
    BIN,
    Server,
    free_port,
    iter_events,
    scratch_dir,
    serving,
    sigterm_and_time_exit,
    start_run,
)
from tests.conftest import auth, make_settings, read_events, running_app
from tests.support import cluster

ENV_BASE = {"PATH": f"{BIN}:{os.environ.get('PATH', '')}", "PYTHONPATH": str(ROOT)}


def start(client, **params) -> dict:
    response = client.post("/api/demos/counter/runs", json=params)
    assert response.status_code == 201, response.text
    return response.json()


def worker_pids(client) -> list[int]:
    return [w.process.pid for w in client.app.state.engine.transport.workers]


def test_a_killed_worker_fails_its_runs_saying_so_and_is_replaced(tmp_path) -> None:
    with running_app(tmp_path, workers=1) as client:
        runs = [start(client, steps=100_000, pace=20) for _ in range(3)]
        read_events(client, runs[0]["id"], limit=3)
        os.kill(worker_pids(client)[0], signal.SIGKILL)
        for run in runs:
            end = read_events(client, run["id"])[-1]["data"]
            assert end["status"] == "failed" and "worker training this run stopped" in end["message"], end
        assert read_events(client, start(client, steps=5)["id"])[-1]["data"]["status"] == "done"


def test_a_hung_step_times_out_its_run_and_the_others_on_its_worker_fail_saying_why(tmp_path) -> None:
    with running_app(tmp_path, workers=1, max_step_seconds=1.0) as client:
        bystander = start(client, steps=100_000, pace=20)
        read_events(client, bystander["id"], limit=3)
        hung = start(client, steps=100, block_at=3)
        end = read_events(client, hung["id"])[-1]["data"]
        assert end["status"] == "timeout" and "longer than 1 s" in end["message"]
        other = read_events(client, bystander["id"])[-1]["data"]
        assert other["status"] == "failed" and "longer than 1 s" in other["message"]
        assert other["message"].startswith("The worker training this run stopped")
        assert read_events(client, start(client, steps=5)["id"])[-1]["data"]["status"] == "done"


def test_a_store_that_cannot_be_written_is_reported_to_watchers_and_health(tmp_path) -> None:
    with running_app(tmp_path, workers=1) as client:
        store = client.app.state.engine.transport.store

        def disk_full(*_args) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        store.finish = disk_full
        end = read_events(client, start(client, steps=5)["id"])[-1]["data"]
        assert end["status"] == "done" and end["saved"] is False
        assert "could not be saved" in end["message"]
        health = client.get("/healthz").json()
        assert health["status"] == "degraded" and "cannot write runs" in health["store"]

        del store.finish  # the disk has room again: the next run is saved, and health says so
        run = start(client, steps=5)
        assert read_events(client, run["id"])[-1]["data"].get("saved") is not False
        health = client.get("/healthz").json()
        assert health["status"] == "ok" and health["store"] == "ok"


def test_a_run_whose_summary_holds_nan_is_stored_and_served(tmp_path, backend) -> None:
    """The mean squared error series overflows to NaN at this learning rate (the demo stops that
    series); the other two train on. JSON has no NaN: the summary carries null, and is kept."""
    params = {"mode": "regression", "lr": 4.33, "steps": 246, "pace": 0, "outlier_fraction": 0.39, "delta": 2.00001}
    with running_app(tmp_path, **backend) as client:
        run = client.post("/api/demos/loss-function/runs", json=params).json()
        end = read_events(client, run["id"])[-1]["data"]
        assert end["status"] == "done" and end.get("saved") is not False, end
        assert end["summary"]["final"]["mse"] == {"slope": None, "intercept": None}
        assert client.get("/healthz").json()["status"] == "ok"
    with running_app(tmp_path, **backend) as client:  # after a restart, from the store
        stored = client.get(f"/api/runs/{run['id']}").json()
        assert stored["status"] == "done"
        assert stored["summary"]["final"]["mse"] == {"slope": None, "intercept": None}


def test_a_data_dir_that_cannot_be_written_is_a_one_line_refusal(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = os.environ | ENV_BASE | {"MODELTERMS_DATA_DIR": str(blocker / "data")}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    refusal, *fix = result.stderr.strip().splitlines()
    assert refusal.startswith("modelterms: refusing to start: cannot open the run store")
    assert len(fix) == 1 and "MODELTERMS_DATA_DIR" in fix[0]  # and what to do about it, no traceback


def test_a_damaged_run_store_is_a_one_line_refusal_that_says_what_to_do(tmp_path) -> None:
    data = tmp_path / "data"
    with running_app(data, workers=1) as client:  # a real store with runs in it
        for _ in range(20):
            read_events(client, start(client, steps=30, pad=500)["id"])
    store = data / "runs.sqlite3"
    with closing(sqlite3.connect(store)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every run into the main file
    raw = bytearray(store.read_bytes())
    assert raw.startswith(b"SQLite format 3\x00") and len(raw) >= 4 * 4096
    raw[4096:] = b"\xa5" * (len(raw) - 4096)  # every page after the first is noise; the header is whole
    store.write_bytes(bytes(raw))
    env = os.environ | ENV_BASE | {"MODELTERMS_DATA_DIR": str(data)}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("modelterms: refusing to start: the run store"), lines
    assert "damaged" in lines[0] and "move it aside" in lines[0]


def wait_for_run(server: Server, run_id: str, condition, what: str, seconds: float = 20) -> dict:
    """The run's status, once `condition` holds for it."""

    def status() -> dict | None:
        run = httpx.get(f"{server.base}/api/runs/{run_id}", timeout=5).json()
        return run if condition(run) else None

    return cluster.wait_until(status, seconds, f"run {run_id} {what}")


def test_a_run_in_flight_when_the_server_is_killed_keeps_its_saved_curve_and_ends_failed() -> None:
    """kill -9 of the server mid-run: at the next start the run's link replays its points up to the
    last save (every 0.2 s here), in order with none missing, then an end that says what happened."""
    with scratch_dir() as scratch:
        env = os.environ | ENV_BASE | {"MODELTERMS_DATA_DIR": str(scratch / "data"), "MODELTERMS_WORKERS": "1"}
        env |= {"MODELTERMS_SAVE_PROGRESS_SECONDS": "0.2"}
        command = [str(BIN / "modelterms"), "serve", "--port", str(port := free_port())]
        server = Server(command, env, port, scratch / "first.log")
        try:
            server.wait_ready()
            run_id = start_run(server, "gradient-descent", steps=5000, pace=20)
            live = wait_for_run(server, run_id, lambda status: (status["step"] or 0) >= 5, "to reach step 5")
            assert live["status"] == "running", live
            time.sleep(0.5)  # two saves or more since that step
        finally:
            server.stop()  # SIGKILL to the server and its workers: nothing could end the run
        again = Server(command, env, port, scratch / "second.log")
        try:
            again.wait_ready()
            run = httpx.get(f"{again.base}/api/runs/{run_id}", timeout=5).json()
            assert run["status"] == "failed"
            with httpx.stream("GET", f"{again.base}/api/runs/{run_id}/events", timeout=10) as response:
                events = list(iter_events(response, time.monotonic() + 10))
        finally:
            again.stop()
    assert [int(e["id"]) for e in events] == list(range(1, len(events) + 1))
    steps = [p["step"] for e in events if e["event"] == "metrics" for p in e["data"]["points"]]
    assert steps == list(range(len(steps))) and steps[-1] >= live["step"], steps
    end = events[-1]
    assert end["event"] == "end" and end["data"]["status"] == "failed", end
    assert end["data"]["step"] == steps[-1] and "The server stopped during this run" in end["data"]["message"]
    assert run["events"] == len(events) and run["step"] == steps[-1], run


def test_sigterm_ends_everything_even_with_a_flood_of_changes_to_a_busy_worker() -> None:
    # Each change to the stuck worker waits control_ack_seconds for a confirmation that never comes.
    settings = {"extra_demo_modules": '["tests.support.demos"]', "max_step_seconds": "60", "control_ack_seconds": "0.1"}
    with serving(**settings) as (server, _data):
        response = httpx.post(f"{server.base}/api/demos/counter/runs", json={"steps": 100, "block_at": 3}, timeout=10)
        run = response.json()
        # Its start event comes from the worker, which three steps later (microseconds) is inside its
        # hour-long step and reads nothing (those steps' points never come: it sends them between steps).
        with httpx.stream("GET", f"{server.base}/api/runs/{run['id']}/events", timeout=20) as events:
            assert next(iter_events(events, time.monotonic() + 20))["event"] == "start"

        def change(i: int) -> int:
            body = {"lr": 0.01 * (1 + i % 50)}
            return http.patch(f"/api/runs/{run['id']}", json=body, headers=auth(run)).status_code

        # One client for all: a new httpx client sets up TLS certificates (a quarter second each here).
        limits = httpx.Limits(max_connections=16)
        http = httpx.Client(base_url=server.base, timeout=10, limits=limits)
        with http, concurrent.futures.ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(change, range(400)))
        assert set(statuses) == {200}, sorted(set(statuses))
        assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200
        seconds = sigterm_and_time_exit(server)
        print(f"\nexited {seconds:.1f} s after SIGTERM with 400 changes queued for a stuck worker")
        assert "Traceback" not in server.tail(200)


def test_a_demo_error_reaches_clients_as_a_plain_message_with_an_id(engine_client) -> None:
    end = read_events(engine_client, start(engine_client, steps=10, fail_at=2)["id"])[-1]["data"]
    assert end["status"] == "failed"
    assert re.fullmatch(
        r"The demo failed at step 2 because of an error on the server \(error id [0-9a-f]{8}\)\.", end["message"]
    )
    assert "secret" not in end["message"] and "Permission" not in end["message"]


def test_a_run_started_during_shutdown_is_told_so(engine_client) -> None:
    transport = engine_client.app.state.engine.transport
    transport.accepting = False  # what stop() does first
    try:
        refused = engine_client.post("/api/demos/counter/runs", json={})
    finally:
        transport.accepting = True
    assert refused.status_code == 503 and "shutting down" in refused.json()["detail"]


def test_retry_after_comes_from_when_running_runs_are_expected_to_end(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend, workers=1, runs_per_worker=1, queue_size=0) as client:
        first = start(client, steps=60, pace=20)  # ends about 3 s after it starts
        read_events(client, first["id"], limit=12)  # some steps in: its step rate is measured
        refused = client.post("/api/demos/counter/runs", json={})
        assert refused.status_code == 429 and "busy" in refused.json()["detail"]
        assert 1 <= int(refused.headers["retry-after"]) <= 6  # slack for a loaded machine's slower steps


def test_retry_after_never_promises_past_the_wall_time_limit_a_run_was_admitted_with(tmp_path, backend) -> None:
    """A run at 2 steps/s for 1,000 steps would take 500 s, but its budget (stamped when it was
    admitted) stops it 4 s after its start: a refused reader is told to come back within that."""
    with running_app(tmp_path, **backend, workers=1, runs_per_worker=1, queue_size=0, max_run_wall_seconds=4) as client:
        slow = start(client, steps=1000, pace=2)
        read_events(client, slow["id"], limit=2)  # started
        refused = client.post("/api/demos/counter/runs", json={})
        assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 4


def test_a_background_job_survives_its_own_errors(tmp_path) -> None:
    calls = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first call fails")

    async def run_briefly() -> None:
        transport = EmbeddedTransport(make_settings(tmp_path))
        task = asyncio.create_task(transport._every(0.01, flaky))
        await asyncio.sleep(0.2)
        task.cancel()

    asyncio.run(run_briefly())
    assert len(calls) > 3


def test_batches_bigger_than_the_pipe_buffer_reach_the_client_under_the_real_server() -> None:
    # uvloop (what `modelterms serve` runs) made a watched pipe non-blocking: a batch of points
    # bigger than the pipe's buffer then failed its run at step 0.
    with serving(extra_demo_modules='["tests.support.demos"]') as (server, _data):
        run_id = start_run(server, "counter", steps=300, pace=0, pad=2000)
        with httpx.stream("GET", f"{server.base}/api/runs/{run_id}/events", timeout=60) as response:
            body = response.read().decode()
        assert '"status":"done"' in body, body[-500:]
        assert body.count('"pad":"x') == 300  # every point, in batches far over the pipe's 64 KiB
