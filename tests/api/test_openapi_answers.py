"""The run answers have real schemas in /openapi.json (issue 30, D13), so a response check can
fail: each answer of a run's life, on both backends, checked by schemathesis against them."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import schemathesis
from schemathesis.openapi.checks import JsonSchemaError

from tests.conftest import auth, read_events

RUN = "/api/runs/{run_id}"


def test_every_answer_of_a_runs_life_fits_its_schema(engine_client) -> None:
    schema = schemathesis.openapi.from_dict(engine_client.get("/openapi.json").json())
    started = engine_client.post("/api/demos/gradient-descent/runs", json={"steps": 2000, "pace": 2})
    run = started.json()
    url = f"/api/runs/{run['id']}"
    try:
        schema["/api/demos/gradient-descent/runs"]["POST"].validate_response(started)
        read_events(engine_client, run["id"], limit=2)
        schema[RUN]["GET"].validate_response(engine_client.get(url))
        schema[RUN]["PATCH"].validate_response(engine_client.patch(url, json={"lr": 0.02}, headers=auth(run)))
    finally:
        cancelled = engine_client.delete(url, headers=auth(run))
    schema[RUN]["DELETE"].validate_response(cancelled)
    read_events(engine_client, run["id"])
    schema[RUN]["GET"].validate_response(engine_client.get(url))  # finished (stored, on Redis)


def test_the_run_schemas_can_fail(client) -> None:
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    fits = {"id": "abc", "demo": "counter", "status": "done", "params": {}, "step": 3, "summary": {}, "events": 5}
    fits |= {"events_url": "/api/runs/abc/events", "url": "/runs/abc"}
    schema[RUN]["GET"].validate_response(answer(fits))
    for wrong in ({}, fits | {"status": "finished"}, fits | {"events": -1}):
        with pytest.raises(JsonSchemaError):
            schema[RUN]["GET"].validate_response(answer(wrong))


def answer(data: dict) -> httpx.Response:
    """A 200 answer to GET /api/runs/abc holding `data`."""
    response = httpx.Response(200, json=data, request=httpx.Request("GET", "http://testserver/api/runs/abc"))
    response.elapsed = timedelta(0)  # set by a transport; this answer had none
    return response


def test_a_started_runs_answer_links_to_what_can_be_done_with_it(client) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    operations = {op["operationId"]: (path, method) for path, ops in paths.items() for method, op in ops.items()}
    links = spec["paths"]["/api/demos/gradient-descent/runs"]["post"]["responses"]["201"]["links"]
    assert {operations[link["operationId"]] for link in links.values()} == {
        (RUN, "get"),
        (RUN, "patch"),
        (RUN, "delete"),
        ("/api/runs/{run_id}/script.py", "get"),
    }
    assert all(link["parameters"] == {"run_id": "$response.body#/id"} for link in links.values())
