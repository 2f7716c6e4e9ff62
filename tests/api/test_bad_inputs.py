"""Bad input, row by row: each request gets a clear 4xx naming what to fix, never a 500.

One table: method, path, headers, body -> status and a phrase of the answer. `{run}` in a path
is a live run of the test-only counter demo; `{token}` in a header is its control token."""

from __future__ import annotations

import json
from typing import NamedTuple

import pytest

from tests.conftest import auth

JSON = {"Content-Type": "application/json"}
TOKEN = {"Authorization": "Bearer {token}"}
START = "/api/demos/counter/runs"


class Case(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    status: int
    phrase: str


def body(value: object) -> bytes:
    return json.dumps(value).encode()


CASES = {
    # --- the body's media type and encoding (cross-site run starts) ---
    "post text/plain": Case("POST", START, {"Content-Type": "text/plain"}, b"{}", 415, "application/json"),
    "post form": Case(
        "POST", START, {"Content-Type": "application/x-www-form-urlencoded"}, b"steps=5", 415, "application/json"
    ),
    "post no content type": Case("POST", START, {}, b"{}", 415, "Content-Type"),
    "post empty, no content type": Case("POST", START, {}, None, 415, "Content-Type"),
    "post json utf-16 charset": Case(
        "POST", START, {"Content-Type": "application/json; charset=utf-16"}, "{}".encode("utf-16"), 415, "UTF-8"
    ),
    "post utf-16 bytes": Case("POST", START, JSON, '{"steps": 5}'.encode("utf-16"), 422, "UTF-8"),
    "post latin-1 bytes": Case("POST", START, JSON, b'{"x": "\xe9"}', 422, "UTF-8"),
    "patch text/plain": Case(
        "PATCH", "/api/runs/{run}", {"Content-Type": "text/plain", **TOKEN}, b'{"lr": 0.2}', 415, "application/json"
    ),
    # --- JSON's own types only ---
    "number as string": Case("POST", START, JSON, body({"lr": "0.05"}), 422, "lr: Value error, must be a number"),
    "integer as string": Case("POST", START, JSON, body({"steps": "5"}), 422, "steps: Value error, must be a number"),
    "number as boolean": Case("POST", START, JSON, body({"steps": True}), 422, "not true or false"),
    "boolean as string": Case(
        "POST", "/api/demos/dpo/runs", JSON, body({"compare_rlhf": "yes"}), 422, "must be true or false"
    ),
    "boolean as number": Case(
        "POST", "/api/demos/dpo/runs", JSON, body({"compare_rlhf": 1}), 422, "must be true or false"
    ),
    "block size as string": Case(
        "POST", "/api/demos/qlora/runs", JSON, body({"blocksize": "64"}), 422, "must be a number"
    ),
    "patch number as string": Case(
        "PATCH", "/api/runs/{run}", {**JSON, **TOKEN}, body({"lr": "0.05"}), 422, "must be a number"
    ),
    "patch paused as string": Case(
        "PATCH", "/api/runs/{run}", {**JSON, **TOKEN}, body({"paused": "true"}), 422, "true or false"
    ),
    # --- the body's shape and size ---
    "json array": Case("POST", START, JSON, b"[1, 2]", 422, "must be a JSON object"),
    "json string": Case("POST", START, JSON, b'"steps"', 422, "must be a JSON object"),
    "malformed json": Case("POST", START, JSON, b'{"steps": ', 422, "malformed JSON"),
    "deeply nested json": Case("POST", START, JSON, b"[" * 110_000 + b"]" * 110_000, 413, "208384 bytes"),
    "nested json under the limit": Case("POST", START, JSON, b'{"a":' * 6000 + b"1" + b"}" * 6000, 422, "body"),
    "pace too slow to sleep on": Case(
        "POST", START, JSON, b'{"pace": 5e-324}', 422, "pace: Value error, must be 0 (as fast as possible) or at least"
    ),
    "patch pace too slow": Case("PATCH", "/api/runs/{run}", {**JSON, **TOKEN}, body({"pace": 1e-9}), 422, "pace"),
    "NaN": Case("POST", START, JSON, b'{"lr": NaN}', 422, "finite number"),
    "unknown field": Case("POST", START, JSON, body({"colour": "red"}), 422, "Extra inputs are not permitted"),
    "null field": Case("POST", START, JSON, body({"steps": None}), 422, "steps"),
    "huge integer": Case("POST", START, JSON, b'{"steps": ' + b"9" * 4000 + b"}", 422, "steps"),
    "body too large": Case("POST", START, JSON, b'{"x": "' + b"a" * 210_000 + b'"}', 413, "208384 bytes"),
    # --- who may control a run ---
    "patch without token": Case("PATCH", "/api/runs/{run}", JSON, body({"lr": 0.2}), 401, "control token"),
    "patch wrong scheme": Case(
        "PATCH", "/api/runs/{run}", {**JSON, "Authorization": "Basic {token}"}, body({"lr": 0.2}), 401, "Bearer"
    ),
    "patch wrong token": Case(
        "PATCH", "/api/runs/{run}", {**JSON, "Authorization": "Bearer nope"}, body({"lr": 0.2}), 403, "control token"
    ),
    "delete without token": Case("DELETE", "/api/runs/{run}", {}, None, 401, "control token"),
    "delete wrong token": Case("DELETE", "/api/runs/{run}", {"Authorization": "Bearer x"}, None, 403, "control token"),
    # --- live changes ---
    "patch empty object": Case("PATCH", "/api/runs/{run}", {**JSON, **TOKEN}, b"{}", 422, "at least one"),
    "patch non-live field": Case(
        "PATCH", "/api/runs/{run}", {**JSON, **TOKEN}, body({"steps": 5}), 422, "cannot change while running"
    ),
    "patch unknown field": Case(
        "PATCH", "/api/runs/{run}", {**JSON, **TOKEN}, body({"colour": 1}), 422, "unknown field"
    ),
    "patch out of bounds": Case("PATCH", "/api/runs/{run}", {**JSON, **TOKEN}, body({"lr": 5}), 422, "lr"),
    "patch step_once false": Case(
        "PATCH", "/api/runs/{run}", {**JSON, **TOKEN}, body({"step_once": False}), 422, "must be true"
    ),
    # --- unknown things and bad positions ---
    "unknown demo": Case("POST", "/api/demos/nope/runs", JSON, b"{}", 404, "No demo named"),
    "unknown run": Case("GET", "/api/runs/nope", {}, None, 404, "No run"),
    "very long run id": Case("GET", "/api/runs/" + "a" * 5000, {}, None, 404, "No run"),
    "patch unknown run": Case("PATCH", "/api/runs/nope", {**JSON, **TOKEN}, body({"lr": 0.2}), 404, "No run"),
    "negative after": Case("GET", "/api/runs/{run}/events?after=-1", {}, None, 422, "after"),
    "after not a number": Case("GET", "/api/runs/{run}/events?after=x", {}, None, 422, "after"),
    "after far too large": Case("GET", "/api/runs/{run}/events?after=" + "9" * 40, {}, None, 422, "after"),
    "bad Last-Event-ID": Case("GET", "/api/runs/{run}/events", {"Last-Event-ID": "-3"}, None, 422, "Last-Event-ID"),
    "unknown term": Case("GET", "/api/terms/no-such-term", {}, None, 404, ""),
    # --- methods ---
    "put on a run": Case("PUT", "/api/runs/{run}", JSON, b"{}", 405, "Method Not Allowed"),
    "post on the terms": Case("POST", "/api/terms", JSON, b"{}", 405, "Method Not Allowed"),
}


@pytest.fixture(scope="module")
def run(client) -> dict:
    response = client.post(START, json={"steps": 100_000, "pace": 5})
    assert response.status_code == 201, response.text
    yield response.json()
    client.delete(f"/api/runs/{response.json()['id']}", headers=auth(response.json()))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_gets_a_clear_4xx(client, run, case: Case) -> None:
    path = case.path.replace("{run}", run["id"])
    headers = {k: v.replace("{token}", run["control_token"]) for k, v in case.headers.items()}
    response = client.request(case.method, path, headers=headers, content=case.body)
    assert response.status_code == case.status, response.text
    assert case.phrase in response.text, response.text
    if case.status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    if case.status == 405:
        assert "GET" in response.headers["allow"]
