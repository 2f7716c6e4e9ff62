"""The run engine through its HTTP contract: streaming, resume, control, budgets, storage; each
behavioural test runs on both backends (embedded, Redis) through `engine_client` or `backend`."""

from __future__ import annotations

import math
import time

import pytest

from app.playground.core.interface import SERVER_STOPPED, SERVER_STOPPED_MESSAGE
from tests.conftest import auth, points_of, read_events, running_app


def start(client, demo: str = "counter", **params) -> dict:
    response = client.post(f"/api/demos/{demo}/runs", json=params)
    assert response.status_code == 201, response.text
    return response.json()


def wait_status(client, run_id: str, statuses: tuple[str, ...], timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{run_id}").json()
        if run["status"] in statuses:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached {statuses}: {run}")


def test_a_run_streams_start_metrics_and_end_with_consecutive_ids(engine_client) -> None:
    run = start(engine_client, steps=200)
    assert run["events_url"] == f"/api/runs/{run['id']}/events"
    events = read_events(engine_client, run["id"])
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["event"] == "start" and events[0]["data"]["device"] == "cpu"
    assert events[0]["data"]["kind"] == "counter"
    assert events[-1]["event"] == "end" and events[-1]["data"]["status"] == "done"
    assert events[-1]["data"]["summary"] == {"counted": 200}
    assert [p["step"] for p in points_of(events)] == list(range(200))


def test_gradient_descent_through_the_api(engine_client) -> None:
    run = start(engine_client, "gradient-descent", steps=50, pace=0, lr=0.02)
    points = points_of(read_events(engine_client, run["id"]))
    assert len(points) == 50
    assert points[10]["x"] == pytest.approx(-2.5 * (1 - 0.04) ** 10)
    assert set(points[0]) == {"step", "loss", "lr", "x", "y"}


def test_resume_after_a_disconnect_has_no_gap_and_no_duplicate(engine_client) -> None:
    run = start(engine_client, steps=300, pace=200)
    first = read_events(engine_client, run["id"], limit=3)
    rest = read_events(engine_client, run["id"], after=first[-1]["id"])
    ids = [e["id"] for e in first + rest]
    assert ids == list(range(1, len(ids) + 1))
    assert [p["step"] for p in points_of(first + rest)] == list(range(300))
    # Last-Event-ID works like ?after=
    with engine_client.stream("GET", f"/api/runs/{run['id']}/events", headers={"Last-Event-ID": "2"}) as response:
        first_line = next(line for line in response.iter_lines() if line.startswith("id: "))
    assert first_line == "id: 3"


def test_metric_events_are_batched(engine_client) -> None:
    run = start(engine_client, steps=20_000, pace=0)
    events = read_events(engine_client, run["id"])
    metrics = [e for e in events if e["event"] == "metrics"]
    assert len(points_of(events)) == 20_000
    assert len(metrics) < 2_000  # thousands of steps a second arrive in ~30 batches a second


def test_a_live_lr_change_applies_from_the_next_step_and_is_recorded(engine_client) -> None:
    run = start(engine_client, "gradient-descent", steps=120, pace=60, lr=0.01, x0=2.0, y0=1.0)
    head = read_events(engine_client, run["id"], limit=4)
    response = engine_client.patch(f"/api/runs/{run['id']}", headers=auth(run), json={"lr": 0.04})
    assert response.status_code == 200
    applied = response.json()["applies_from_step"]
    to_change = read_events(engine_client, run["id"], after=head[-1]["id"], until="control")  # the change applied
    # Then the rest at full speed: each step's lr and x are checked, not its pace (409: it ended).
    faster = engine_client.patch(f"/api/runs/{run['id']}", headers=auth(run), json={"pace": 0})
    assert faster.status_code in (200, 409), faster.text
    events = head + to_change + read_events(engine_client, run["id"], after=to_change[-1]["id"])
    control = [e for e in events if e["event"] == "control"]
    assert control[0]["data"] == {"step": applied, "changes": {"lr": 0.04}}
    points = points_of(events)
    seen_before_patch = max(p["step"] for p in points_of(head))
    assert applied <= seen_before_patch + 10  # at pace 60 it lands a step or two after the PATCH; slack for slow CI
    for point in points:
        t = point["step"]
        assert point["lr"] == (0.01 if t < applied else 0.04)
        expected = 2.0 * math.prod(1 - 2 * (0.01 if s < applied else 0.04) for s in range(t))
        assert point["x"] == pytest.approx(expected, rel=1e-12)


def test_pause_single_step_and_resume(engine_client) -> None:
    run = start(engine_client, steps=100_000, pace=100)
    run_id = run["id"]
    read_events(engine_client, run_id, limit=3)
    paused = engine_client.patch(f"/api/runs/{run_id}", headers=auth(run), json={"paused": True})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    before = engine_client.get(f"/api/runs/{run_id}").json()["step"]
    time.sleep(0.3)
    assert engine_client.get(f"/api/runs/{run_id}").json()["step"] == before  # nothing moves while paused
    stepped = engine_client.patch(f"/api/runs/{run_id}", headers=auth(run), json={"step_once": True})
    assert stepped.status_code == 200
    deadline = time.monotonic() + 5
    while engine_client.get(f"/api/runs/{run_id}").json()["step"] == before and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # and then it stays paused: exactly one step
    assert engine_client.get(f"/api/runs/{run_id}").json()["step"] == before + 1
    assert (
        engine_client.patch(f"/api/runs/{run_id}", headers=auth(run), json={"paused": False}).json()["status"]
        == "running"
    )
    engine_client.delete(f"/api/runs/{run_id}", headers=auth(run))
    events = read_events(engine_client, run_id)
    changes = [e["data"]["changes"] for e in events if e["event"] == "control"]
    assert changes == [{"paused": True}, {"step_once": True}, {"paused": False}]


def test_live_changes_sent_during_one_step_apply_as_one_batch(tmp_path, backend) -> None:
    """The same burst of PATCHes gives the same control events on both backends: sent while the
    worker is inside a long step, they wait together and apply after it as one batch, one event
    (the latest value of each field). A PATCH answers once its ack is overdue (here 0.05 s)."""
    with running_app(tmp_path, **backend, workers=1, control_ack_seconds=0.05) as client:
        run = start(client, steps=2, spin_ms=1000)  # each step burns a second of CPU
        head = read_events(client, run["id"], limit=2)  # start and step 0's point
        # The worker goes from step 0's point to step 1 in microseconds, unless the kernel hands
        # the core to the point's reader at that moment: then a PATCH sent at once could come
        # before step 1 and apply at it (4 runs in 5 at load 4). A step burns a second of CPU, so
        # after 0.3 s step 1 has begun unless the worker was kept off both cores for that long.
        time.sleep(0.3)
        for change in ({"lr": 0.2}, {"lr": 0.3, "pace": 100}, {"lr": 0.4}):
            assert client.patch(f"/api/runs/{run['id']}", headers=auth(run), json=change).status_code == 200
        events = head + read_events(client, run["id"], after=head[-1]["id"])
    assert [e["data"] for e in events if e["event"] == "control"] == [{"step": 2, "changes": {"lr": 0.4, "pace": 100}}]
    assert [p["lr"] for p in points_of(events)] == [0.1, 0.1] and events[-1]["data"]["status"] == "done"


def stepped_by_hand(client) -> list[tuple[int, str, dict]]:
    """A run at the slowest pace (a step every 2 s) paused after its first step, stepped twice
    by hand around a live change, then cancelled: its events, every one of them fixed by the
    requests, not by timing."""
    run = start(client, steps=10, pace=0.5, lr=0.1)
    url = f"/api/runs/{run['id']}"
    assert [e["event"] for e in read_events(client, run["id"], limit=2)] == ["start", "metrics"]
    for change, step in (({"paused": True}, 1), ({"step_once": True}, 2), ({"lr": 0.5}, 2), ({"step_once": True}, 3)):
        assert client.patch(url, headers=auth(run), json=change).status_code == 200
        wait_until_step(client, run["id"], step)
    assert client.delete(url, headers=auth(run)).status_code == 200
    return [(e["id"], e["event"], e["data"]) for e in read_events(client, run["id"])]


def wait_until_step(client, run_id: str, step: int, timeout: float = 20) -> None:
    """Until the run's status counts `step` steps done (its `step` is the last one's number)."""
    deadline = time.monotonic() + timeout
    while client.get(f"/api/runs/{run_id}").json()["step"] + 1 < step and time.monotonic() < deadline:
        time.sleep(0.02)


def test_both_backends_answer_the_same_event_stream_for_the_same_run(client, redis_client) -> None:
    embedded, on_redis = stepped_by_hand(client), stepped_by_hand(redis_client)
    assert [(n, kind) for n, kind, _ in embedded] == [(n, kind) for n, kind, _ in on_redis]
    assert embedded == on_redis
    kinds = ["start", "metrics", "control", "control", "metrics", "control", "control", "metrics", "end"]
    assert [kind for _, kind, _ in embedded] == kinds
    assert [p["lr"] for _, kind, data in embedded if kind == "metrics" for p in data["points"]] == [0.1, 0.1, 0.5]
    assert embedded[-1][2] == {"status": "cancelled", "message": "Cancelled.", "step": 2, "summary": {}}


def test_cancel_is_idempotent(engine_client) -> None:
    run = start(engine_client, steps=100_000, pace=50)
    assert engine_client.delete(f"/api/runs/{run['id']}", headers=auth(run)).status_code == 200
    end = read_events(engine_client, run["id"])[-1]
    assert end["data"]["status"] == "cancelled" and "reason" not in end["data"]
    again = engine_client.delete(f"/api/runs/{run['id']}", headers=auth(run))
    assert again.status_code == 200 and again.json()["status"] == "cancelled"


def test_a_too_large_learning_rate_diverges_with_a_lesson(engine_client) -> None:
    run = start(engine_client, "gradient-descent", lr=0.5, steps=500, pace=0)
    end = read_events(engine_client, run["id"])[-1]
    assert end["data"]["status"] == "diverged"
    assert "learning rate 0.5" in end["data"]["message"] and "smaller learning rate" in end["data"]["message"]
    assert end["data"]["step"] < 30


def test_patch_of_a_finished_run_is_409(engine_client) -> None:
    run = start(engine_client, steps=5)
    read_events(engine_client, run["id"])
    response = engine_client.patch(f"/api/runs/{run['id']}", headers=auth(run), json={"lr": 0.2})
    assert response.status_code == 409 and "finished" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"lr": 0}, "lr", "greater than 0"),
        ({"lr": -1}, "lr", "greater than 0"),
        ({"lr": "nan"}, "lr", "not a string"),
        ({"lr": "0.05"}, "lr", "not a string"),
        ({"lr": 11}, "lr", "less than or equal to 10"),
        ({"steps": 0}, "steps", "greater than or equal to 1"),
        ({"steps": 10**9}, "steps", "less than or equal to 5000"),
        ({"pace": -1}, "pace", "greater than or equal to 0"),
        ({"pace": 1000}, "pace", "less than or equal to 240"),
        ({"function": "banana"}, "function", "'quadratic', 'rosenbrock', 'saddle' or 'himmelblau'"),
        ({"optimizer": "lbfgs"}, "optimizer", "'sgd', 'momentum', 'nesterov' or 'adam'"),
        ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
    ],
)
def test_bad_params_get_422_naming_field_and_bound(client, body: dict, field: str, words: str) -> None:
    response = client.post("/api/demos/gradient-descent/runs", json=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == field and words in error["message"]


@pytest.mark.parametrize("raw", [b"NaN", b'{"lr": NaN}', b'{"lr": Infinity}', b'{"lr": -Infinity}'])
def test_non_finite_json_numbers_are_422(client, raw: bytes) -> None:
    response = client.post(
        "/api/demos/gradient-descent/runs", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_malformed_json_and_oversized_bodies(client) -> None:
    malformed = client.post(
        "/api/demos/gradient-descent/runs", content=b"{lr: ", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422 and "malformed JSON" in malformed.json()["detail"][0]["message"]
    big = client.post("/api/demos/gradient-descent/runs", content=b'{"x": "' + b"a" * 210_000 + b'"}')
    assert big.status_code == 413 and "208384" in big.json()["detail"]


def test_unknown_demo_and_unknown_run_are_404(client) -> None:
    assert client.post("/api/demos/nope/runs", json={}).status_code == 404
    for method in ("get", "delete"):
        assert getattr(client, method)("/api/runs/doesnotexist").status_code == 404
    assert client.patch("/api/runs/doesnotexist", json={"lr": 1}).status_code == 404
    assert client.get("/api/runs/doesnotexist/events").status_code == 404


def test_patch_of_unknown_or_non_live_fields_is_422(engine_client) -> None:
    run = start(engine_client, "gradient-descent", steps=5000, pace=10)
    for body, field, words in [
        ({"colour": 1}, "colour", "unknown field"),
        ({"function": "saddle"}, "function", "cannot change while running"),
        ({"lr": -1}, "lr", "greater than 0"),
        ({"paused": "yes"}, "paused", "true or false"),
        ({}, "body", "at least one"),
    ]:
        response = engine_client.patch(f"/api/runs/{run['id']}", headers=auth(run), json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["field"] == field and words in response.json()["detail"][0]["message"]
    bad_json = engine_client.patch(
        f"/api/runs/{run['id']}", content=b"[1,", headers={"content-type": "application/json", **auth(run)}
    )
    assert bad_json.status_code == 422
    engine_client.delete(f"/api/runs/{run['id']}", headers=auth(run))


def test_bad_resume_positions_are_422(engine_client) -> None:
    run = start(engine_client, steps=3)
    assert engine_client.get(f"/api/runs/{run['id']}/events", params={"after": -1}).status_code == 422
    assert engine_client.get(f"/api/runs/{run['id']}/events", headers={"Last-Event-ID": "x"}).status_code == 422


def test_demos_list_their_schema_and_live_params(client) -> None:
    demos = {d["name"]: d for d in client.get("/api/demos").json()}
    gd = demos["gradient-descent"]
    assert gd["live_params"] == ["lr", "momentum", "pace"]
    assert gd["params_schema"]["properties"]["lr"]["exclusiveMinimum"] == 0
    assert "learning-rate" in demos


def test_the_learning_rate_demo_runs_series_side_by_side(client) -> None:
    run = start(client, "learning-rate", steps=60, pace=0, series=3, lr_min=0.01, lr_max=10)
    events = read_events(client, run["id"])
    series = {p["series"] for p in points_of(events)}
    assert series == {"lr=0.01", "lr=0.316", "lr=10"}
    assert events[-1]["data"]["status"] == "done"
    assert events[-1]["data"]["summary"]["diverged"] == ["lr=10"]


def test_queue_full_is_429_with_retry_after(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend, workers=1, runs_per_worker=1, queue_size=1) as client:
        first = start(client, steps=100_000, pace=5)
        wait_status(client, first["id"], ("running",))
        second = start(client, steps=10, pace=0)
        assert second["queue_position"] == 1
        assert client.get(f"/api/runs/{second['id']}").json()["queue_position"] == 1
        third = client.post("/api/demos/counter/runs", json={})
        assert third.status_code == 429
        assert int(third.headers["retry-after"]) >= 1
        assert "try again" in third.json()["detail"]
        client.delete(f"/api/runs/{first['id']}", headers=auth(first))
        assert read_events(client, second["id"])[-1]["data"]["status"] == "done"


def test_a_step_that_never_returns_is_stopped_by_the_hung_step_watch_at_its_compute_budget(tmp_path) -> None:
    """The wall-time limit is the worker's Scheduler's, which a step that never returns holds up:
    the engine's hung-step watch ends it, at the sooner of the step limit (60 s here) and the
    run's compute budget, and replaces its worker."""
    with running_app(tmp_path, workers=1, max_run_seconds=1.5, max_run_wall_seconds=1.0) as client:
        run = start(client, steps=100, block_at=3)
        end = read_events(client, run["id"])[-1]["data"]
        assert end["status"] == "timeout" and "took longer than 1.5 s and never gave control back" in end["message"]
        # The worker was replaced: the next run completes.
        follow_up = start(client, steps=5)
        assert read_events(client, follow_up["id"])[-1]["data"]["status"] == "done"


def test_a_run_is_charged_for_its_own_compute_not_for_waiting(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend, workers=1, max_run_seconds=0.5) as client:
        busy = start(client, steps=100_000, spin_ms=5)  # 5 ms of CPU a step: out of budget in ~100 steps
        idle = start(client, steps=40, pace=40)  # 1 s of waiting between cheap steps: well past 0.5 s
        end = read_events(client, busy["id"])[-1]["data"]
        assert end["status"] == "timeout" and "budget of 0.5 s of compute" in end["message"]
        assert 50 <= end["step"] <= 150
        assert read_events(client, idle["id"])[-1]["data"]["status"] == "done"


def test_a_run_ends_at_its_wall_time_limit(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend, workers=1, max_run_wall_seconds=1.0) as client:
        run = start(client, steps=100_000, pace=20)
        end = read_events(client, run["id"])[-1]
        assert end["data"]["status"] == "timeout" and "wall-time limit" in end["data"]["message"]


def test_a_run_nobody_watches_is_cancelled(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend, workers=1, idle_cancel_seconds=0.5) as client:
        run = start(client, steps=100_000, pace=50)
        final = wait_status(client, run["id"], ("cancelled",), timeout=10)
        assert final["status"] == "cancelled"


def test_the_server_step_budget_caps_a_run(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend, workers=1, max_steps=25) as client:
        run = start(client, steps=1000)
        events = read_events(client, run["id"])
        assert len(points_of(events)) == 25 and "budget of 25 steps" in events[-1]["data"]["message"]


def test_finished_runs_survive_a_restart(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend) as client:
        run = start(client, "gradient-descent", steps=30, pace=0)
        original = read_events(client, run["id"])
    with running_app(tmp_path, **backend) as client:
        stored = client.get(f"/api/runs/{run['id']}").json()
        assert stored["status"] == "done" and stored["params"]["steps"] == 30
        assert read_events(client, run["id"]) == original
        assert read_events(client, run["id"], after=2) == original[2:]
        page = client.get(f"/runs/{run['id']}")
        assert page.status_code == 200 and run["id"] in page.text


def test_a_run_the_server_stopped_is_not_told_as_a_cancel(tmp_path, backend) -> None:
    """Shutting down ends a training run as 'cancelled' (it did not fail) with a reason of its own,
    live and on its permalink after the restart, so the panel can say the server restarted."""
    with running_app(tmp_path, **backend, workers=1) as client:
        run = start(client, steps=100_000, pace=50)
        read_events(client, run["id"], limit=3)  # it trains
    with running_app(tmp_path, **backend, workers=1) as client:
        end = read_events(client, run["id"])[-1]["data"]
        assert client.get(f"/api/runs/{run['id']}").json()["status"] == "cancelled"
    assert end["status"] == "cancelled" and end["reason"] == SERVER_STOPPED
    assert end["message"] == SERVER_STOPPED_MESSAGE and end["step"] >= 0


def test_the_run_page_leaves_status_to_the_panel_and_offers_to_run_again(engine_client) -> None:
    run = start(engine_client, "gradient-descent", steps=5, pace=0, lr=0.05)
    read_events(engine_client, run["id"])
    page = engine_client.get(f"/runs/{run['id']}").text
    assert "Status:" not in page, "a status fixed when the page was served goes stale while the run trains"
    again = page.split('<p class="rerun"><a class="button" href="')[1].split('"')[0]
    assert again.startswith("/terms/gradient-descent?demo=gradient-descent&amp;")
    assert "lr=0.05" in again and "steps=5" in again and again.endswith("#playground-gradient-descent")


def test_store_retention_keeps_the_newest_runs(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend, keep_runs=2) as client:
        ids = []
        for _ in range(3):
            run = start(client, steps=2)
            read_events(client, run["id"])
            ids.append(run["id"])
    with running_app(tmp_path, **backend, keep_runs=2) as client:
        assert client.get(f"/api/runs/{ids[0]}").status_code == 404
        assert all(client.get(f"/api/runs/{i}").status_code == 200 for i in ids[1:])


def test_the_lr_range_test_suggests_a_rate_and_says_how(client) -> None:
    run = start(client, "learning-rate", mode="range_test", steps=300, pace=0, lr_min=0.001, lr_max=10)
    events = read_events(client, run["id"])
    end = events[-1]["data"]
    assert end["status"] == "done"  # the blow-up at the top of the sweep is the test's normal end
    points = points_of(events)
    lrs = [p["lr"] for p in points]
    assert lrs == sorted(lrs) and lrs[0] == pytest.approx(0.001)
    assert 0.001 < end["summary"]["suggested_lr"] < 10
    assert "steepest" in end["summary"]["suggestion_method"]
    assert "diverged" not in end["summary"]  # the sweep's end is no failure
    assert end["summary"]["sweep_ended"] == "lr_max was reached" and end["summary"]["sweep_ended_at_lr"] == 10


def test_a_run_whose_last_watcher_leaves_is_cancelled(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend, workers=1, idle_cancel_seconds=0.5) as client:
        run = start(client, steps=100_000, pace=50)
        read_events(client, run["id"], limit=3)  # watch for a moment, then close the stream
        assert client.get(f"/api/runs/{run['id']}").json()["status"] == "running"
        final = wait_status(client, run["id"], ("cancelled",), timeout=10)
        assert final["status"] == "cancelled"


def test_more_bad_live_changes_are_4xx(engine_client) -> None:
    run = start(engine_client, "gradient-descent", steps=5000, pace=10)
    wait_status(engine_client, run["id"], ("running",))
    for body, field in [({"step_once": False}, "step_once"), ({"lr": True}, "lr"), ({"paused": 1}, "paused")]:
        response = engine_client.patch(f"/api/runs/{run['id']}", headers=auth(run), json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["field"] == field
    too_long = "9" * 5000  # would overflow int parsing; must be a clear 422, not a crash
    assert engine_client.get(f"/api/runs/{run['id']}/events", headers={"Last-Event-ID": too_long}).status_code == 422
    assert engine_client.get(f"/api/runs/{run['id']}/events", params={"after": 10**30}).status_code == 422
    engine_client.delete(f"/api/runs/{run['id']}", headers=auth(run))


def test_booleans_are_not_numbers(client) -> None:
    response = client.post("/api/demos/gradient-descent/runs", json={"lr": True})
    assert response.status_code == 422
    assert response.json()["detail"][0] == {
        "field": "lr",
        "message": "lr: Value error, must be a number, not true or false",
        "type": "value_error",
    }


def test_a_queued_run_cannot_be_paused_or_stepped_yet(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend, workers=1, runs_per_worker=1) as client:
        first = start(client, steps=100_000, pace=5)
        wait_status(client, first["id"], ("running",))
        queued = start(client, steps=10)
        for body in ({"paused": True}, {"step_once": True}):
            response = client.patch(f"/api/runs/{queued['id']}", headers=auth(queued), json=body)
            assert response.status_code == 409 and "queued" in response.json()["detail"]
        changed = client.patch(f"/api/runs/{queued['id']}", headers=auth(queued), json={"lr": 0.5})
        assert changed.status_code == 200 and changed.json()["params"]["lr"] == 0.5
        client.delete(f"/api/runs/{first['id']}", headers=auth(first))


def test_only_the_runs_creator_may_change_or_cancel_it(engine_client) -> None:
    run = start(engine_client, steps=100_000, pace=50)
    url = f"/api/runs/{run['id']}"
    for headers, status in (({}, 401), ({"Authorization": "Bearer not-the-token"}, 403)):
        assert engine_client.patch(url, json={"lr": 0.2}, headers=headers).status_code == status
        refused = engine_client.delete(url, headers=headers)
        assert refused.status_code == status and "control token" in refused.json()["detail"].lower()
    assert engine_client.get(url).json()["status"] in ("queued", "running")  # a stranger changed nothing
    assert "control_token" not in engine_client.get(url).json()  # the permalink never hands it out
    assert engine_client.delete(url, headers=auth(run)).status_code == 200


def test_cancelling_a_queued_run_is_stored_as_cancelled(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend, workers=1, runs_per_worker=1) as client:
        first = start(client, steps=100_000, pace=5)
        wait_status(client, first["id"], ("running",))
        queued = start(client, steps=10)
        response = client.delete(f"/api/runs/{queued['id']}", headers=auth(queued))
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        client.delete(f"/api/runs/{first['id']}", headers=auth(first))
    with running_app(tmp_path, **backend, workers=1) as client:  # after a restart: from the store
        assert client.get(f"/api/runs/{queued['id']}").json()["status"] == "cancelled"


def test_a_stored_runs_status_and_page_never_read_its_events(tmp_path) -> None:
    with running_app(tmp_path) as client:
        run = start(client, steps=20)
        events = read_events(client, run["id"])
    with running_app(tmp_path) as client:

        def no_replay(_run_id: str) -> list[bytes]:
            raise AssertionError("a status answer decoded the run's events")

        client.app.state.engine.transport.store.replay = no_replay
        stored = client.get(f"/api/runs/{run['id']}").json()
        assert stored["status"] == "done" and stored["step"] == 19 and stored["events"] == len(events)
        assert client.get(f"/runs/{run['id']}").status_code == 200


def test_a_finished_run_answers_delete_and_patch_alike_in_memory_or_stored(engine_client) -> None:
    """Without a token, a run that has ended answers DELETE with its status (idempotent) and PATCH
    with 409, on both backends and whether or not it is still held in memory (it was 401 there)."""
    run = engine_client.post("/api/demos/gradient-descent/runs", json={"steps": 3, "pace": 0}).json()
    assert read_events(engine_client, run["id"])[-1]["data"]["status"] == "done"
    deleted = engine_client.delete(f"/api/runs/{run['id']}")
    assert deleted.status_code == 200 and deleted.json()["status"] == "done", deleted.text
    patched = engine_client.patch(f"/api/runs/{run['id']}", json={"lr": 0.1})
    assert patched.status_code == 409, patched.text
