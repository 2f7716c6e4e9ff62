"""A reader's own text through the HTTP API, on both backends: what the server keeps of it, and
every bad text answered with a 422 that names `text` and the problem."""

from __future__ import annotations

import json
import secrets

import pytest
import redis

from tests.api.test_reproduce import assert_same, run_script
from tests.conftest import auth, points_of, read_events

POEM = "Slow rain on the harbour wall, and the boats asleep in rows;\na gull complains of the weather.\n" * 8


def unique_text() -> str:
    """A text no other run has, so finding it anywhere means this run's text was kept."""
    return f"{secrets.token_hex(8)} {POEM}"


def run_on(client, demo: str, text: str, **params) -> tuple[dict, list[dict]]:
    body = {"text": text, "steps": 4, "pace": 0, **params}
    started = client.post(f"/api/demos/{demo}/runs", json=body)
    assert started.status_code == 201, started.text
    events = read_events(client, started.json()["id"])
    assert events[-1]["data"]["status"] == "done", events[-1]["data"]
    return client.get(f"/api/runs/{started.json()['id']}").json(), events


def redis_values(url: str) -> str:
    """Every value of every key in the Redis database, as one string to search."""
    db = redis.Redis.from_url(url, decode_responses=True)
    read = {
        "hash": lambda k: db.hgetall(k).values(),
        "stream": lambda k: [v for _, fields in db.xrange(k) for v in fields.values()],
        "string": lambda k: [db.get(k)],
        "list": lambda k: db.lrange(k, 0, -1),
        "set": db.smembers,
        "zset": lambda k: db.zrange(k, 0, -1),
    }
    return "\n".join(str(v) for key in db.scan_iter() for v in read.get(db.type(key), lambda k: [])(key))


@pytest.mark.parametrize("demo", ["pretraining", "fine-tuning"])
def test_a_run_on_a_readers_text_keeps_only_its_size_and_hash(engine_client, demo: str, request) -> None:
    text = unique_text()
    status, events = run_on(engine_client, demo, text, **({"d_model": 32} if demo == "pretraining" else {}))
    assert status["params"]["text"] is None
    assert status["params"]["text_withheld"]["chars"] == len(text)
    assert "yours" in json.dumps(events[0]["data"])
    assert text[:16] not in json.dumps(status) + json.dumps(events)  # nor in any event
    if "redis" in request.node.callspec.id:
        assert text[:16] not in redis_values(request.getfixturevalue("redis_url"))


def test_a_reader_may_keep_the_text_with_the_runs_permalink(engine_client) -> None:
    text = unique_text()
    status, events = run_on(engine_client, "pretraining", text, keep_text=True, d_model=32)
    assert status["params"]["text"] == text and "text_withheld" not in status["params"]
    assert events[0]["data"]["params"]["text"] == text


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("", "is empty"),
        ("short", "has 5 characters; at least 500"),
        ("a" * 16_001, "at most 16,000"),
        ("a" * 600 + "\x00", "control character U+0000"),
        ("a" * 600 + "\x0c", "control character U+000C"),
        (["a list"], "must be text"),
    ],
)
def test_a_bad_text_is_a_422_naming_the_text_and_the_problem(client, text: object, phrase: str) -> None:
    for demo in ("pretraining", "fine-tuning"):
        response = client.post(f"/api/demos/{demo}/runs", json={"text": text})
        assert response.status_code == 422, response.text
        issue = response.json()["detail"][0]
        assert issue["field"] == "text" and phrase in issue["message"], issue


def test_a_text_sent_in_another_encoding_than_utf8_is_a_422(client) -> None:
    body = json.dumps({"text": "Café " * 120}, ensure_ascii=False).encode("latin-1")
    response = client.post("/api/demos/pretraining/runs", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and "UTF-8" in response.text


def test_the_longest_text_fits_the_body_limit_even_in_four_byte_characters(client) -> None:
    text = "".join(chr(0x1F600 + i % 80) for i in range(16_000))  # 64,000 bytes of emoji in UTF-8
    body = json.dumps({"text": text, "steps": 1, "d_model": 16, "pace": 0}, ensure_ascii=False).encode()
    response = client.post("/api/demos/pretraining/runs", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert read_events(client, response.json()["id"])[-1]["data"]["status"] == "done"


def test_the_script_of_a_run_on_a_withheld_text_says_it_is_not_included(client) -> None:
    text = unique_text()
    status, _ = run_on(client, "pretraining", text, d_model=32)
    script = client.get(f"/api/runs/{status['id']}/script.py").text
    assert f"own text ({len(text):,} characters" in script and "not included" in script
    assert status["params"]["text_withheld"]["sha256"] in script
    assert text[:16] not in script and "'text': None" in script and "'text_withheld'" not in script


def test_the_script_of_a_run_on_a_kept_text_reproduces_it(client, tmp_path) -> None:
    status, events = run_on(client, "pretraining", unique_text(), keep_text=True, d_model=32)
    assert_same("pretraining", points_of(events), run_script(client, status["id"], tmp_path))


def test_the_page_of_a_running_run_does_not_show_a_withheld_text(engine_client) -> None:
    text = unique_text()
    started = engine_client.post("/api/demos/pretraining/runs", json={"text": text, "steps": 3000, "pace": 1}).json()
    try:
        assert text[:16] not in engine_client.get(f"/runs/{started['id']}").text
    finally:
        engine_client.delete(f"/api/runs/{started['id']}", headers=auth(started))


def test_a_live_change_to_a_run_on_a_withheld_text_applies_on_both_backends(engine_client) -> None:
    """The server holds only the shown params of such a run (the text as its size and hash): a
    PATCH is checked against those, and its answer and events never carry the text."""
    text = unique_text()
    body = {"text": text, "steps": 3000, "pace": 5, "d_model": 32}
    started = engine_client.post("/api/demos/pretraining/runs", json=body).json()
    url = f"/api/runs/{started['id']}"
    try:
        changed = engine_client.patch(url, headers=auth(started), json={"lr": 0.002, "temperature": 0.5})
        assert changed.status_code == 200, changed.text
        assert changed.json()["params"]["lr"] == 0.002 and changed.json()["params"]["text"] is None
        assert changed.json()["params"]["text_withheld"]["chars"] == len(text)
        too_fast = engine_client.patch(url, headers=auth(started), json={"lr": 5.0})
        assert too_fast.status_code == 422 and too_fast.json()["detail"][0]["field"] == "lr", too_fast.text
    finally:
        engine_client.delete(url, headers=auth(started))
    events = read_events(engine_client, started["id"])
    controls = [e["data"]["changes"] for e in events if e["event"] == "control"]
    assert {"lr": 0.002, "temperature": 0.5} in controls
    assert text[:16] not in json.dumps(events) + engine_client.get(url).text


@pytest.mark.parametrize("char", ["ж", "\U0001f600"])
def test_the_longest_text_fits_the_body_limit_as_a_client_that_escapes_it_sends_it(client, char: str) -> None:
    """Python's json (ensure_ascii, its default) sends ж as \\u0436 and an emoji as two escapes: 6
    and 12 bytes a character. Such bodies got 413 when the limit counted UTF-8 bytes only."""
    body = json.dumps({"text": char * 16_000, "steps": 1, "d_model": 16, "pace": 0}).encode()
    assert len(body) > 16_000 * len(char.encode())
    response = client.post("/api/demos/pretraining/runs", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert read_events(client, response.json()["id"])[-1]["data"]["status"] == "done"
