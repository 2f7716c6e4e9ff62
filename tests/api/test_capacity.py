"""Runs share workers; fair admission per client; artifacts prepared once, outside any budget."""

from __future__ import annotations

import concurrent.futures
import time
from functools import partial

import pytest
from fastapi.testclient import TestClient

from app.playground.core.interface import ClientLimit, Seat
from app.playground.http.routes import forwarded_client
from app.settings import Settings
from tests.conftest import auth, make_app, make_settings, read_events, running_app
from tests.support.artifacts import BUILDS_LOG, FAIL_NEXT
from tests.support.prepared import WORD


def start(client, demo: str = "counter", headers: dict | None = None, **params):
    return client.post(f"/api/demos/{demo}/runs", json=params, headers=headers or {})


def wait_ready(client) -> None:
    deadline = time.monotonic() + 30
    while client.get("/healthz").json()["workers_ready"] < 1:
        assert time.monotonic() < deadline, "the worker never became ready"
        time.sleep(0.05)


def test_one_worker_trains_many_runs_at_once(tmp_path) -> None:
    with running_app(tmp_path, workers=1) as client:
        wait_ready(client)
        runs = [start(client, steps=30, pace=30).json() for _ in range(12)]
        assert all(r["status"] == "running" and r["queue_position"] is None for r in runs)
        for run in runs:
            end = read_events(client, run["id"])[-1]["data"]
            assert end["status"] == "done" and end["step"] == 29


def test_a_client_over_its_limit_gets_a_429_that_says_why(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend, workers=1, runs_per_client=2) as client:
        first, second = (start(client, steps=100_000, pace=10).json() for _ in range(2))
        over = start(client, steps=10)
        assert over.status_code == 429
        assert over.json()["detail"] == "You already have 2 runs training; stop one or wait for one to finish."
        assert int(over.headers["retry-after"]) >= 1
        client.delete(f"/api/runs/{first['id']}", headers=auth(first))
        read_events(client, first["id"])
        assert start(client, steps=10).status_code == 201  # a slot of its own is free again
        client.delete(f"/api/runs/{second['id']}", headers=auth(second))


def test_a_seat_with_an_empty_address_is_freed_when_its_run_ends(engine_client) -> None:
    """A peer with no address (a server on a Unix socket) holds its seat under ''. The Redis
    backend counted such a run in at admission and never out at its end (its `finish` skipped an
    empty name), so once a client's limit of them had run, every later run was refused."""
    state = engine_client.app.state
    engine, counter, seat = state.engine, state.demos["counter"], Seat("", 1)
    submit = partial(engine_client.portal.call, engine.submit, counter, {"steps": 100_000, "pace": 5}, "", seat)
    first = submit()
    with pytest.raises(ClientLimit):
        submit()
    engine_client.portal.call(engine.cancel, first.id)
    assert read_events(engine_client, first.id)[-1]["data"]["status"] == "cancelled"
    again = submit()  # the old Redis code refused it: its seat was still counted as taken
    engine_client.portal.call(engine.cancel, again.id)
    read_events(engine_client, again.id)


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(tmp_path) -> None:
    settings = make_settings(tmp_path, runs_per_client=1, trusted_proxies=["10.0.0.0/8"])
    with TestClient(make_app(settings), client=("10.0.0.2", 5000)) as proxy:
        alice = start(proxy, headers={"X-Forwarded-For": "198.51.100.1"}, steps=100_000, pace=10)
        bob = start(proxy, headers={"X-Forwarded-For": "198.51.100.2, 10.0.0.9"}, steps=100_000, pace=10)
        assert alice.status_code == bob.status_code == 201
        again = start(proxy, headers={"X-Forwarded-For": "198.51.100.1"}, steps=10)
        assert again.status_code == 429
        # Alice cannot pass for somebody else by writing the header herself: nginx appends her address.
        spoofed = start(proxy, headers={"X-Forwarded-For": "203.0.113.50, 198.51.100.1"}, steps=10)
        assert spoofed.status_code == 429


def test_a_spoofed_forwarded_header_from_an_untrusted_peer_is_ignored(tmp_path) -> None:
    settings = make_settings(tmp_path, runs_per_client=1, trusted_proxies=["10.0.0.0/8"])
    with TestClient(make_app(settings), client=("192.0.2.7", 5000)) as stranger:
        assert start(stranger, headers={"X-Forwarded-For": "203.0.113.1"}, steps=100_000, pace=10).status_code == 201
        spoofed = start(stranger, headers={"X-Forwarded-For": "203.0.113.2"}, steps=10)
        assert spoofed.status_code == 429


def test_client_address_rules() -> None:
    def address(peer: str, forwarded: str | None, trusted: list[str]) -> str:
        return forwarded_client(peer, forwarded, Settings(trusted_proxies=trusted))

    assert address("127.0.0.1", "1.2.3.4", []) == "127.0.0.1"
    assert address("127.0.0.1", "1.2.3.4, 127.0.0.1", ["127.0.0.1"]) == "1.2.3.4"
    assert address("10.1.2.3", " 5.6.7.8 ", ["10.0.0.0/8"]) == "5.6.7.8"
    assert address("11.0.0.1", "5.6.7.8", ["10.0.0.0/8"]) == "11.0.0.1"
    assert address("::1", "5.6.7.8", ["::1"]) == "5.6.7.8"
    # A client behind the proxy writes its own header; the proxy appends the address it saw.
    assert address("10.0.0.2", "6.6.6.6, 198.51.100.1", ["10.0.0.0/8"]) == "198.51.100.1"
    assert address("10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.7", ["10.0.0.0/8"]) == "198.51.100.1"
    assert address("10.0.0.2", "10.0.0.8, 10.0.0.7", ["10.0.0.0/8"]) == "10.0.0.8"  # all proxies: the first


def test_a_missing_artifact_is_built_once_for_concurrent_runs_with_progress(tmp_path) -> None:
    artifacts = tmp_path / "artifacts"
    # The build takes 1.5 s; the runs' wall-time limit is 1 s: preparing must not count against it.
    with running_app(tmp_path, artifacts_dir=artifacts, max_run_wall_seconds=1.0) as client:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            runs = [r.json() for r in pool.map(lambda _: start(client, "prepared", steps=5), range(4))]
        assert all(r["status"] == "queued" for r in runs)
        for run in runs:
            events = read_events(client, run["id"])
            prepare = [e["data"] for e in events if e["event"] == "prepare"]
            assert prepare and prepare[-1]["message"] == "Preparing the test word, one time: step 6 of 6"
            kinds = [e["event"] for e in events]
            assert kinds.index("start") > max(i for i, k in enumerate(kinds) if k == "prepare")
            start_event = next(e["data"] for e in events if e["event"] == "start")
            assert start_event["word"] == "prepared"
            assert events[-1]["data"]["status"] == "done"
        assert (artifacts / BUILDS_LOG).read_text() == "prepared\n"  # one build for all four
        wait_ready(client)
        later = start(client, "prepared", steps=2).json()
        assert later["status"] == "running"  # ready now: no waiting
        assert (artifacts / BUILDS_LOG).read_text() == "prepared\n"


def test_a_failed_build_fails_its_runs_and_the_next_attempt_retries(tmp_path) -> None:
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    (artifacts / FAIL_NEXT).touch()
    with running_app(tmp_path, artifacts_dir=artifacts) as client:
        failed = start(client, "prepared").json()
        end = read_events(client, failed["id"])[-1]["data"]
        assert end["status"] == "failed" and end["message"].startswith("Could not prepare the test word")
        assert "error id" in end["message"] and "RuntimeError" not in end["message"]
        retried = start(client, "prepared").json()
        assert read_events(client, retried["id"])[-1]["data"]["status"] == "done"
    assert (artifacts / BUILDS_LOG).read_text() == "prepared\nprepared\n"


def test_a_corrupt_artifact_is_rebuilt_not_loaded(tmp_path) -> None:
    artifacts = tmp_path / "artifacts"
    with running_app(tmp_path, artifacts_dir=artifacts) as client:
        read_events(client, start(client, "prepared").json()["id"])
        (artifacts / WORD.filename).write_text("garbage")  # same name, wrong bytes
        run = start(client, "prepared").json()
        assert run["status"] == "queued"  # the checksum caught it: built again
        start_event = next(e["data"] for e in read_events(client, run["id"]) if e["event"] == "start")
        assert start_event["word"] == "prepared"
