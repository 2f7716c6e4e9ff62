"""The privacy promise of a reader's own text (README, "What the server keeps of your text"): a
text the reader did not ask to keep cannot be recovered from anything another person can read:
the event stream, the stored run, its permalink, its embed, its status and its script. Its samples,
its opening (the samples' prompt) and its characters go to the run's creator alone, live."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Event

from app.playground.http.routes import CREATOR_COOKIE
from tests.api.test_own_text import POEM, redis_values
from tests.conftest import auth, parse_sse, read_events

HIDDEN = ("prompt", "vocabulary", "not_in_vocabulary", "sample")
RUN = {"steps": 10, "pace": 5}  # two samples (steps 0-3 and 6-9), and 2 s to watch them come


def private_text() -> tuple[str, str]:
    """(text, its first word): a word no other run has, so finding it anywhere is a leak."""
    word = f"Zq{secrets.token_hex(3)}"
    return f"{word} My PIN is 4711. {POEM}", word


def events_as(
    client,
    run_id: str,
    headers: dict[str, str],
    limit: int | None = None,
    arrived: Event | None = None,
    sign: Callable[[dict], bool] = lambda event: True,
) -> list[dict]:
    """The run's events as a reader with these headers gets them, until the end (or `limit`
    events); `arrived` is set at the first event that `sign` accepts."""
    with client.stream("GET", f"/api/runs/{run_id}/events", headers=headers) as response:
        assert response.status_code == 200
        events = []
        for event in parse_sse(response.iter_lines()):
            events.append(event)
            if arrived is not None and sign(event):
                arrived.set()
            if event["event"] == "end" or len(events) == limit:
                return events
    raise AssertionError("the stream ended without an end event")


def has_sample(event: dict) -> bool:
    return any("sample" in point for point in event["data"].get("points", []))


def hidden_keys(events: list[dict]) -> set[str]:
    facts = {k for e in events if e["event"] == "start" for k in e["data"]}
    return (facts | {k for e in events if e["event"] == "metrics" for p in e["data"]["points"] for k in p}) & set(
        HIDDEN
    )


def test_a_withheld_text_reaches_its_creator_live_and_nobody_else(engine_client, request) -> None:
    """Both backends; fails on code that put the prompt, the vocabulary and the samples in the one
    public stream."""
    client = engine_client
    for demo, extra in (("pretraining", {"d_model": 32}), ("fine-tuning", {})):
        text, word = private_text()
        started = client.post(f"/api/demos/{demo}/runs", json={"text": text, **RUN, **extra})
        assert started.status_code == 201, started.text
        run = started.json()
        client.cookies.delete(CREATOR_COOKIE)  # this client reads as anyone else (the cookie has its own test)
        with ThreadPoolExecutor(2) as pool:  # both follow the run live, from its start
            sampled, connected = Event(), Event()
            creator = pool.submit(events_as, client, run["id"], auth(run), arrived=sampled, sign=has_sample)
            public = pool.submit(events_as, client, run["id"], {}, arrived=connected)
            # The creator has its first sample, live: the rest at full speed (409: it ended already).
            assert sampled.wait(30) and connected.wait(30), "no sample reached the creator live"
            faster = client.patch(f"/api/runs/{run['id']}", headers=auth(run), json={"pace": 0})
            assert faster.status_code in (200, 409), faster.text
            creator, public = creator.result(timeout=120), public.result(timeout=120)
        assert creator[-1]["data"]["status"] == "done", creator[-1]
        start = creator[0]["data"]
        assert start["prompt"] == f"{word} " and any(has_sample(e) for e in creator[1:-1])
        assert hidden_keys(public) == set() and word not in json.dumps(public)
        assert [e["id"] for e in public] == [e["id"] for e in creator]  # the same events, numbered alike
        stored = read_events(client, run["id"])
        assert hidden_keys(stored) == set() and word not in json.dumps(stored)
        creator_after_end = events_as(client, run["id"], auth(run))
        assert hidden_keys(creator_after_end) == set(), "the creator's frames outlived the run"
        readable = [
            client.get(f"/api/runs/{run['id']}").text,
            client.get(f"/runs/{run['id']}").text,
            client.get(f"/embed/runs/{run['id']}").text,
            client.get(f"/api/runs/{run['id']}/script.py").text,
        ]
        for body in readable:
            assert word not in body and "PIN is 4711" not in body  # bare digits may sit inside a loss
        if "redis" in request.node.callspec.id:
            assert word not in redis_values(request.getfixturevalue("redis_url"))


def test_a_browser_gets_the_creators_frames_through_a_cookie_on_that_runs_stream_only(engine_client) -> None:
    text, word = private_text()
    started = engine_client.post("/api/demos/pretraining/runs", json={"text": text, "d_model": 32, **RUN})
    run = started.json()
    cookie = started.headers["set-cookie"]
    assert cookie.startswith(f"{CREATOR_COOKIE}={run['control_token']};")
    assert f"Path=/api/runs/{run['id']}/events" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    engine_client.cookies.delete(CREATOR_COOKIE)
    try:
        creator = {"Cookie": f"{CREATOR_COOKIE}={run['control_token']}"}
        as_creator = events_as(engine_client, run["id"], creator, limit=1)  # the start, with the prompt
        assert as_creator[0]["data"]["prompt"] == f"{word} "
    finally:
        engine_client.delete(f"/api/runs/{run['id']}", headers=auth(run))
    wrong = events_as(engine_client, run["id"], {"Authorization": f"Bearer {secrets.token_urlsafe(18)}"})
    assert hidden_keys(wrong) == set()


def test_runs_that_withhold_nothing_share_everything_and_set_no_cookie(engine_client) -> None:
    kept = engine_client.post(
        "/api/demos/pretraining/runs",
        json={"text": private_text()[0], "keep_text": True, "d_model": 32, "steps": 10, "pace": 0},
    )
    ours = engine_client.post("/api/demos/pretraining/runs", json={"d_model": 32, "steps": 10, "pace": 0})
    for started in (kept, ours):
        assert started.status_code == 201 and "set-cookie" not in started.headers
        assert hidden_keys(read_events(engine_client, started.json()["id"])) == {"prompt", "vocabulary", "sample"}
