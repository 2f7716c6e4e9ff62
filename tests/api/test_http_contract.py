"""The HTTP contract around the routes: a true OpenAPI schema, HEAD and OPTIONS, plain 500s."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_app, make_settings


@pytest.fixture(scope="module")
def schema(client) -> dict:
    return client.get("/openapi.json").json()


def test_each_demo_has_a_start_operation_with_its_params_as_the_body(client, schema) -> None:
    demos = client.get("/api/demos").json()
    components = schema["components"]["schemas"]
    for demo in demos:
        operation = schema["paths"][f"/api/demos/{demo['name']}/runs"]["post"]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        declared = components[ref.rsplit("/", 1)[1]]
        assert declared["properties"] == demo["params_schema"]["properties"]
        assert declared["additionalProperties"] is False
        assert {"201", "413", "415", "422", "429"} <= set(operation["responses"])
        assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert "/api/demos/{name}/runs" not in schema["paths"]


def test_patch_declares_the_live_changes_and_the_control_token_answers(schema) -> None:
    patch = schema["paths"]["/api/runs/{run_id}"]["patch"]
    body = patch["requestBody"]["content"]["application/json"]["schema"]
    assert {"paused", "step_once", "lr", "pace"} <= set(body["properties"])
    assert body["properties"]["paused"]["type"] == "boolean" and body["minProperties"] == 1
    assert {"401", "403", "404", "409", "415", "422"} <= set(patch["responses"])
    assert {"401", "403", "404"} <= set(schema["paths"]["/api/runs/{run_id}"]["delete"]["responses"])


def test_the_422_shape_and_the_resume_position_are_as_the_api_answers(client, schema) -> None:
    error = schema["components"]["schemas"]["ValidationError"]
    assert set(error["properties"]) == set(error["required"]) == {"field", "message", "type"}
    answer = client.post("/api/demos/counter/runs", json={"steps": 0}).json()
    assert set(answer["detail"][0]) == {"field", "message", "type"}
    events = schema["paths"]["/api/runs/{run_id}/events"]["get"]
    [after] = [p for p in events["parameters"] if p["name"] == "after"]
    assert after["schema"]["anyOf"][0]["minimum"] == 0


@pytest.mark.parametrize("path", ["/healthz", "/api/terms", "/api/demos", "/api/terms/gradient-descent", "/"])
def test_head_answers_like_get_without_a_body(client, path: str) -> None:
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]


def test_head_on_an_event_stream_ends(client) -> None:
    run = client.post("/api/demos/counter/runs", json={"steps": 100_000, "pace": 5}).json()
    head = client.head(f"/api/runs/{run['id']}/events")
    assert head.status_code == 200 and head.headers["content-type"].startswith("text/event-stream")
    client.delete(f"/api/runs/{run['id']}", headers={"Authorization": f"Bearer {run['control_token']}"})


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/healthz", "GET, HEAD, OPTIONS"),
        ("/api/runs/abc", "DELETE, GET, HEAD, OPTIONS, PATCH"),
        ("/api/demos/counter/runs", "OPTIONS, POST"),
    ],
)
def test_options_answers_the_allowed_methods(client, path: str, allowed: str) -> None:
    response = client.options(path)
    assert response.status_code == 204 and response.headers["allow"] == allowed
    assert "access-control-allow-origin" not in response.headers


def test_options_on_an_unknown_path_is_404(client) -> None:
    assert client.options("/api/nothing-here").status_code == 404


def test_an_unexpected_error_answers_a_plain_500_with_an_id_that_the_log_has(tmp_path, caplog) -> None:
    app = make_app(make_settings(tmp_path))

    @app.get("/api/explode")
    def explode() -> None:
        raise PermissionError(13, "Permission denied", "/srv/secret/data/runs.sqlite3")

    with caplog.at_level(logging.ERROR, logger="modelterms"):
        response = TestClient(app).get("/api/explode")
    assert response.status_code == 500
    answer = response.json()
    assert "/srv/secret" not in response.text and "Permission" not in response.text
    assert answer["error_id"] in answer["detail"]
    [record] = [r for r in caplog.records if answer["error_id"] in r.getMessage()]
    assert record.exc_info and "/srv/secret" in str(record.exc_info[1])
    assert response.headers["x-content-type-options"] == "nosniff"
