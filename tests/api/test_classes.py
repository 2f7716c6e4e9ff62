"""Classes without accounts: create, join, limits per student and per class, the board's stream,
the end of a class; on both backends where the state lives in the backend."""

from __future__ import annotations

import time
from itertools import pairwise

import pytest
from fastapi.testclient import TestClient

from app.classes.tokens import CODE
from tests.api.test_runs import wait_status
from tests.conftest import auth, make_app, make_settings, parse_sse, read_events, running_app

STUDENT = "X-ModelTerms-Student"


def new_class(client, **body) -> dict:
    answer = client.post("/api/classes", json={"demo": "counter"} | body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def join(client, code: str, name: str = "") -> dict:
    answer = client.post(f"/api/classes/{code}/students", json={"name": name})
    assert answer.status_code == 201, answer.text
    client.cookies.clear()  # API clients send the header; the cookie would make every later request a student's
    return answer.json()


def start(client, student: dict | None = None, **params):
    headers = {STUDENT: student["student_token"]} if student else {}
    return client.post("/api/demos/counter/runs", json={"steps": 100_000, "pace": 5} | params, headers=headers)


def teacher(made: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {made['teacher_token']}"}


def board_events(client, made: dict, until, **params) -> list[dict]:
    """The board stream's events until `until(events)` holds (or 20 s pass)."""
    events: list[dict] = []
    deadline = time.monotonic() + 20
    with client.stream("GET", f"/api/classes/{made['code']}/events", headers=teacher(made), params=params) as answer:
        assert answer.status_code == 200
        for event in parse_sse(answer.iter_lines()):
            events.append(event)
            if until(events) or time.monotonic() > deadline:
                break
    return events


def test_a_class_and_its_students_outlive_a_restart(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend) as client:
        made = new_class(client, title="Optimisation, period 3")
        assert CODE.fullmatch(made["code"]) and made["demo"] == "counter"
        assert made["join_url"].endswith(f"/join?class={made['code']}")
        assert made["board_url"].endswith(f"/classes/{made['code']}/board?teacher={made['teacher_token']}")
        student = join(client, made["code"].lower(), "Ada")  # codes are typed: case does not matter
        assert student["name"] == "Ada" and made["teacher_token"] not in str(student)
    with running_app(tmp_path, **backend) as client:
        run = start(client, student, steps=3, pace=0)
        assert run.status_code == 201  # admitted as the student (it need not train: a cancel ends it)
        client.delete(f"/api/runs/{run.json()['id']}", headers=auth(run.json()))
        events = board_events(client, made, lambda seen: any(e["event"] == "end" for e in seen))
        kinds = [e["event"] for e in events]
        assert kinds[0] == "class" and events[0]["data"]["title"] == "Optimisation, period 3"
        assert {"run", "end"} <= set(kinds)
        ran = next(e["data"] for e in events if e["event"] == "run")
        assert ran["id"] == run.json()["id"] and ran["name"] == "Ada"


def test_thirty_students_behind_one_address_each_start_a_run(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend, workers=1, runs_per_client=4) as client:
        made = new_class(client)
        students = [join(client, made["code"]) for _ in range(30)]
        assert len({s["name"] for s in students}) > 1  # random friendly names
        runs = [start(client, s) for s in students]
        assert [r.status_code for r in runs] == [201] * 30
        # A reader outside the class, from the same address, keeps the per-address limit of 4:
        # the students' runs are not counted against it.
        outside = [start(client) for _ in range(4)]
        assert [r.status_code for r in outside] == [201] * 4
        over = start(client)
        assert over.status_code == 429 and over.json()["detail"].startswith("You already have 4 runs")
        assert over.json()["limit"] == "client"
        for run in [r.json() for r in runs + outside]:
            client.delete(f"/api/runs/{run['id']}", headers=auth(run))


def test_a_students_third_run_is_refused_by_the_student_limit_then_the_class_quota(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend, workers=1, runs_per_class=3) as client:
        made = new_class(client)
        ada, bob = join(client, made["code"]), join(client, made["code"])
        first, second = start(client, ada), start(client, ada)
        assert first.status_code == second.status_code == 201
        third = start(client, ada)
        assert third.status_code == 429 and int(third.headers["retry-after"]) >= 1
        assert third.json()["detail"].startswith("Student limit: you already have 2 runs training")
        assert third.json()["limit"] == "student"
        assert start(client, bob).status_code == 201
        quota = start(client, bob)
        assert quota.status_code == 429
        assert quota.json()["detail"].startswith("Class quota: your class already has 3 runs training")
        assert quota.json()["limit"] == "class"
        client.delete(f"/api/runs/{first.json()['id']}", headers=auth(first.json()))
        read_events(client, first.json()["id"])
        assert start(client, bob).status_code == 201  # the class's slot is free again


def curves_and_ends(events: list[dict]) -> tuple[dict, dict, list]:
    """A board's view of its stream: each run's announcement, its points, its end."""
    runs = {e["data"]["id"]: e["data"] for e in events if e["event"] == "run"}
    ends = [e["data"] for e in events if e["event"] == "end"]
    points: dict[str, list] = {}
    for event in (e for e in events if e["event"] == "points"):
        for run_id, kept in event["data"]["runs"].items():
            points.setdefault(run_id, []).extend(kept)
    return runs, points, ends


def test_two_boards_of_a_class_read_one_aggregation(tmp_path, backend) -> None:
    """The teacher's board and one opened mid-run (the projector's, a reload) get the same runs,
    points and ends, from one following of each run: the engine is asked for a run's stream once."""
    with running_app(tmp_path, **backend) as client:
        engine = client.app.state.engine
        follows: list[str] = []
        engine_follow = engine.follow

        def counted(run, after):
            follows.append(run.id)
            return engine_follow(run, after)

        engine.follow = counted
        made = new_class(client)
        run = start(client, join(client, made["code"]), steps=40, pace=40).json()
        path, seen = f"/api/classes/{made['code']}/events", ([], [])
        with client.stream("GET", path, headers=teacher(made)) as first:
            first_events = parse_sse(first.iter_lines())
            while not any(e["event"] == "points" for e in seen[0]):
                seen[0].append(next(first_events))
            with client.stream("GET", path, headers=teacher(made)) as second:
                for event in parse_sse(second.iter_lines()):
                    seen[1].append(event)
                    if event["event"] == "end":
                        break
            while not any(e["event"] == "end" for e in seen[0]):
                seen[0].append(next(first_events))
        assert follows == [run["id"]]
        deadline = time.monotonic() + 5  # the last board closed: the aggregation stops, soon after
        while client.app.state.class_feeds.open and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.app.state.class_feeds.open == {}
        teachers, latecomers = curves_and_ends(seen[0]), curves_and_ends(seen[1])
        assert teachers == latecomers and len(teachers[1][run["id"]]) == 40
        assert seen[1][0]["event"] == "class"


def test_a_full_queue_is_named_in_the_429_and_the_openapi_schema_says_so(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend, workers=1, runs_per_worker=1, queue_size=0) as client:
        student = join(client, new_class(client)["code"])
        first = start(client, student)
        assert first.status_code == 201
        wait_status(client, first.json()["id"], ("running",))
        full = start(client)  # a reader outside the class: within the address's limit, but no slot
        assert full.status_code == 429 and full.json()["limit"] == "queue"
        answer = client.get("/openapi.json").json()
        refused = answer["components"]["schemas"]["Refused"]
        assert set(refused["required"]) == set(full.json()) == {"detail", "limit"}
        assert set(refused["properties"]["limit"]["enum"]) == {"queue", "client", "student", "class"}
        start_run = answer["paths"]["/api/demos/counter/runs"]["post"]["responses"]["429"]
        assert start_run["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Refused"}
        client.delete(f"/api/runs/{first.json()['id']}", headers=auth(first.json()))


def test_the_board_stream_is_the_teachers_alone(client) -> None:
    made = new_class(client)
    code = made["code"]
    assert client.get(f"/api/classes/{code}/events").status_code == 401
    wrong = client.get(f"/api/classes/{code}/events", headers={"Authorization": "Bearer not-it"})
    unknown = client.get("/api/classes/ABCDEF/events", headers=teacher(made))
    assert wrong.status_code == unknown.status_code == 403  # an unknown code answers as a wrong token does
    locked = client.get(f"/classes/{code}/board")
    assert locked.status_code == 401 and "teacher's link" in locked.text and made["teacher_token"] not in locked.text
    student = join(client, code)
    assert client.get(f"/api/classes/{code}/events", headers={STUDENT: student["student_token"]}).status_code == 401


def test_the_teachers_link_sets_a_cookie_and_leaves_the_address_bar(client) -> None:
    made = new_class(client)
    moved = client.get(made["board_url"], follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"/classes/{made['code']}/board"
    assert "HttpOnly" in moved.headers["set-cookie"] and "SameSite=strict" in moved.headers["set-cookie"]
    board = client.get(moved.headers["location"])
    assert board.status_code == 200 and made["code"] in board.text and made["teacher_token"] not in board.text
    client.cookies.clear()


def test_the_board_thins_a_long_runs_points(client) -> None:
    made = new_class(client)
    student = join(client, made["code"])
    run = start(client, student, steps=2000, pace=0).json()
    events = board_events(client, made, lambda seen: any(e["event"] == "end" for e in seen))
    points = [p for e in events if e["event"] == "points" for p in e["data"]["runs"][run["id"]]]
    steps = [p[0] for p in points]
    assert steps[0] == 0 and steps[-1] == 1999  # first and last kept
    assert 150 <= len(points) <= 201 and all(b - a >= 10 for a, b in pairwise(steps[:-1]))
    end = next(e["data"] for e in events if e["event"] == "end")
    assert end == {"id": run["id"], "status": "done", "step": 1999, "loss": pytest.approx(1 / 2000)}


def test_an_ended_class_refuses_runs_and_joins_and_keeps_its_board(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend, class_hours=1.5 / 3600) as client:
        made = new_class(client)
        student = join(client, made["code"])
        time.sleep(1.6)
        refused = start(client, student)
        assert refused.status_code == 403 and "has ended" in refused.json()["detail"]
        page = client.get(f"/classes/{made['code']}/play", headers={STUDENT: student["student_token"]})
        assert page.status_code == 403 and "This class has ended" in page.text
        late = client.post(f"/api/classes/{made['code']}/students", json={})
        assert late.status_code == 410
        page = client.get(f"/classes/{made['code']}/board", headers=teacher(made))
        assert page.status_code == 200 and "read-only" in page.text
        events = board_events(client, made, lambda seen: True)
        assert events[0]["data"]["ended"] is True


def test_bad_class_input_names_the_field_and_the_bound(client) -> None:
    long_title = client.post("/api/classes", json={"title": "x" * 121})
    assert long_title.status_code == 422 and "title" in str(long_title.json()) and "120" in str(long_title.json())
    no_demo = client.post("/api/classes", json={"demo": "no-such-demo"})
    assert no_demo.status_code == 422 and "demo" in str(no_demo.json())
    made = new_class(client)
    long_name = client.post(f"/api/classes/{made['code']}/students", json={"name": "n" * 41})
    assert long_name.status_code == 422 and "name" in str(long_name.json()) and "40" in str(long_name.json())
    forged = start(client, {"student_token": f"{made['code']}.forged"})
    assert forged.status_code == 401 and STUDENT in forged.json()["detail"]


def test_wrong_codes_are_rate_limited_per_address_and_right_ones_are_not(tmp_path) -> None:
    with running_app(tmp_path) as client:
        made = new_class(client)
        for _ in range(40):
            join(client, made["code"])  # a whole class from one address
        for _ in range(20):
            assert client.post("/api/classes/ZZZZZZ/students", json={}).status_code == 404
        blocked = client.post(f"/api/classes/{made['code']}/students", json={})
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def test_on_redis_wrong_codes_are_counted_once_across_replicas(tmp_path, redis_url) -> None:
    """Two web replicas on one Redis: a guesser who spreads tries over both meets one count."""
    settings = make_settings(tmp_path, redis_url=redis_url)
    with TestClient(make_app(settings)) as one, TestClient(make_app(settings)) as two:
        made = new_class(one)
        for _ in range(10):
            join(two, made["code"])  # right codes are never counted
        for number in range(20):
            guess = (one, two)[number % 2].post("/api/classes/ZZZZZZ/students", json={})
            assert guess.status_code == 404, number
        for replica in (one, two):
            blocked = replica.post(f"/api/classes/{made['code']}/students", json={})
            assert blocked.status_code == 429 and 0 < int(blocked.headers["retry-after"]) <= 301


def test_token_mode_needs_the_admin_token(tmp_path) -> None:
    admin = "a" * 32
    with running_app(tmp_path, classes="token", admin_token=admin) as client:
        assert client.post("/api/classes", json={}).status_code == 401
        assert client.post("/api/classes", json={}, headers={"Authorization": "Bearer " + "b" * 32}).status_code == 403
        assert client.post("/api/classes", json={}, headers={"Authorization": "Bearer " + admin}).status_code == 201


def test_the_projector_link_shows_the_board_without_names_and_steers_nothing(client) -> None:
    made = new_class(client)
    code = made["code"]
    join(client, code, "Bea")
    start(client, join(client, code, "Ada"), steps=3, pace=0)
    moved = client.get(made["projector_url"], follow_redirects=False)
    assert moved.status_code == 303 and made["teacher_token"] not in made["projector_url"]
    page = client.get(moved.headers["location"])
    assert page.status_code == 200 and "class-steer" not in page.text and "hide-names" not in page.text
    with client.stream("GET", f"/api/classes/{code}/events", params={"names": "true"}) as answer:
        ran = next(e for e in parse_sse(answer.iter_lines()) if e["event"] == "run")
    client.cookies.clear()
    assert ran["data"]["name"] == "Student 2"  # the projector never gets a name, whatever it asks
    viewer = {"Authorization": "Bearer " + made["projector_url"].rsplit("=", 1)[1]}
    pushed = client.put(f"/api/classes/{code}/preset", json={"params": {}, "question": "?"}, headers=viewer)
    assert pushed.status_code == 403 and "teacher token" in pushed.json()["detail"]


def test_a_lost_redis_is_a_503_for_classes_too(tmp_path) -> None:
    settings = make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    with TestClient(make_app(settings)) as client:
        lost = client.post("/api/classes", json={})
        assert lost.status_code == 503 and "Redis" in lost.json()["detail"]
        assert ":1" not in lost.text  # where Redis lives is the operator's to know
