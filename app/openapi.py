"""The OpenAPI schema, made to say what the API does, for generated clients and fuzzers.

FastAPI derives it from the handlers' signatures, but the run handlers read their bodies
themselves (the body's shape depends on the demo, and the errors must name fields as this API
does), so their bodies, their error answers and the 422 shape are declared here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from copy import deepcopy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.demos.base import Demo

START_PATH = "/api/demos/{name}/runs"
RUN_PATH = "/api/runs/{run_id}"
EVENTS_PATH = "/api/runs/{run_id}/events"
SCRIPT_PATH = "/api/runs/{run_id}/script.py"

FIELD_ERROR = {
    "title": "ValidationError",
    "type": "object",
    "required": ["field", "message", "type"],
    "properties": {
        "field": {"type": "string", "description": "The field at fault, e.g. `lr`, or `body`."},
        "message": {"type": "string", "description": "A sentence naming the field and the rule."},
        "type": {"type": "string", "description": "A machine-readable kind, e.g. `less_than_equal`."},
    },
}
FIELD_ERRORS = {
    "title": "HTTPValidationError",
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}},
}
MESSAGE = {
    "title": "Message",
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string", "description": "What went wrong, in a sentence."}},
}

REFUSED = {
    "title": "Refused",
    "type": "object",
    "required": ["detail", "limit"],
    "properties": {
        "detail": {"type": "string", "description": "Which limit was hit and what to do, in a sentence."},
        "limit": {
            "enum": ["queue", "client", "student", "class"],
            "description": "The limit hit: `queue` (every slot busy and the queue full), `client` (this "
            "address's runs), `student` (a class's student's runs), `class` (the class's quota).",
        },
    },
}

ERRORS = {
    401: "No control token: send `Authorization: Bearer <control_token>` from the POST that started the run.",
    403: "This control token belongs to another run.",
    404: "No such demo or run.",
    408: "The body did not arrive in time.",
    409: "The run has finished, or cannot take this change in its state (a queued run cannot pause).",
    413: "The body is over 208,384 bytes (room for the longest text, every character escaped).",
    415: "The body is not declared `application/json` in UTF-8.",
    422: "A field is missing, unknown, out of bounds or of the wrong type; each error names it.",
    429: "Every training slot is busy and the queue is full, or a limit on this client's, student's or class's "
    "runs is reached (`limit` names which); see `Retry-After`.",
    503: "The server is shutting down or too busy to take this now; try again shortly.",
}
STATUS = {
    "type": "string",
    "enum": ["queued", "running", "paused", "done", "cancelled", "diverged", "timeout", "failed"],
}
ID = {"type": "string", "description": "The run's id (12 hex digits)."}
RUN_URLS = {
    "events_url": {"type": "string", "description": "Its event stream (text/event-stream)."},
    "url": {"type": "string", "description": "Its permalink page."},
}
QUEUE_POSITION = {"type": ["integer", "null"], "minimum": 1, "description": "Place in the queue; null once it trains."}
RUN_ANSWERS = {
    "RunStarted": {
        "type": "object",
        "required": ["id", "status", "control_token", "events_url", "queue_position", "url"],
        "properties": {
            "id": ID,
            "status": STATUS,
            "control_token": {"type": "string", "description": "PATCH and DELETE need it as a Bearer token."},
            "queue_position": QUEUE_POSITION,
        }
        | RUN_URLS,
    },
    "Run": {
        "type": "object",
        "required": ["id", "demo", "status", "params", "step", "summary", "events", "events_url", "url"],
        "properties": {
            "id": ID,
            "demo": {"type": "string"},
            "status": STATUS,
            "params": {"type": "object", "description": "As shown: a withheld text as its size and hash."},
            "step": {"type": ["integer", "null"], "description": "The last step it logged."},
            "queue_position": QUEUE_POSITION,
            "summary": {"type": "object"},
            "events": {"type": "integer", "minimum": 0, "description": "How many events it has had."},
        }
        | RUN_URLS,
    },
    "RunChanged": {
        "type": "object",
        "required": ["id", "status", "applies_from_step", "params"],
        "properties": {
            "id": ID,
            "status": STATUS,
            "applies_from_step": {"type": "integer", "minimum": 0},
            "params": {"type": "object"},
        },
    },
    "RunCancelled": {"type": "object", "required": ["id", "status"], "properties": {"id": ID, "status": STATUS}},
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}}


def schema_builder(app: FastAPI, demos: Mapping[str, Demo]) -> Callable[[], dict[str, Any]]:
    """A replacement for `app.openapi`: builds the schema once, then serves it from memory."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            app.openapi_schema = describe(schema, demos)
        return app.openapi_schema

    return openapi


def describe(schema: dict[str, Any], demos: Mapping[str, Demo]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components |= {"ValidationError": FIELD_ERROR, "HTTPValidationError": FIELD_ERRORS, "Message": MESSAGE}
    components |= {"Refused": REFUSED}
    components |= RUN_ANSWERS
    paths = schema["paths"]
    start = paths.pop(START_PATH)["post"]
    for demo in demos.values():
        paths[START_PATH.replace("{name}", demo.name)] = {"post": start_operation(start, demo, components)}
    links = run_links(paths)
    for demo in demos.values():
        paths[START_PATH.replace("{name}", demo.name)]["post"]["responses"]["201"]["links"] = links
    patch = paths[RUN_PATH]["patch"]
    patch["requestBody"] = json_body(live_changes(demos.values()), "Live changes; at least one field.")
    answers(patch, 401, 403, 404, 408, 409, 413, 415, 422, 503)
    answers(paths[RUN_PATH]["delete"], 401, 403, 404, 503)
    answers(paths[RUN_PATH]["get"], 404, 503)
    for method, answer in (("get", "Run"), ("patch", "RunChanged"), ("delete", "RunCancelled")):
        returns(paths[RUN_PATH][method], "200", answer)
    answers(paths[EVENTS_PATH]["get"], 404, 422)
    return schema


def start_operation(generic: dict[str, Any], demo: Demo, components: dict[str, Any]) -> dict[str, Any]:
    """POST /api/demos/<demo>/runs with that demo's params as its body (one path per demo, so a
    generated client gets one typed method per demo)."""
    params = demo.Params.model_json_schema(ref_template="#/components/schemas/{model}")
    components |= params.pop("$defs", {})
    name = "".join(word.capitalize() for word in demo.name.split("-")) + "Params"
    components[name] = params | {"title": name}
    operation = deepcopy(generic)
    operation["parameters"] = [p for p in operation.get("parameters", []) if p["name"] != "name"]
    operation["operationId"] = f"start_{demo.name.replace('-', '_')}_run"
    operation["summary"] = f"Start a {demo.title} run"
    body = json_body({"$ref": f"#/components/schemas/{name}"}, "The run's params; omitted fields take defaults.")
    # Required: a POST without a body is refused (415) like any body not declared JSON; `{}` is all defaults.
    operation["requestBody"] = body
    operation["responses"]["201"]["description"] = "Started (or queued): the run's id, stream and control token."
    returns(operation, "201", "RunStarted")
    answers(operation, 408, 413, 415, 422, 429, 503)
    return operation


def live_changes(demos: Any) -> dict[str, Any]:
    """The PATCH body: pause, one step, or any demo's live params (the run's demo decides which
    it takes and their bounds: GET /api/demos lists them as `live_params`)."""
    fields: dict[str, list[dict[str, Any]]] = {}
    for demo in demos:
        properties = demo.Params.model_json_schema()["properties"]
        for name in sorted(demo.live):
            if properties[name] not in fields.setdefault(name, []):
                fields[name].append(properties[name])
    properties = {name: kinds[0] if len(kinds) == 1 else {"anyOf": kinds} for name, kinds in fields.items()}
    return {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": properties
        | {
            "paused": {"type": "boolean", "description": "Pause (true) or resume (false) the run."},
            "step_once": {"enum": [True], "description": "While paused, take exactly one step."},
        },
    }


def run_links(paths: dict[str, Any]) -> dict[str, Any]:
    """What a started run's answer leads to (OpenAPI links: clients and stateful fuzzers follow
    them): its status, a live change, its cancel and its script, by the id in the answer. PATCH
    and DELETE also need the answer's control_token, as `Authorization: Bearer`."""
    by_id = {"run_id": "$response.body#/id"}
    targets = {
        "GetRun": paths[RUN_PATH]["get"],
        "ChangeRun": paths[RUN_PATH]["patch"],
        "CancelRun": paths[RUN_PATH]["delete"],
        "GetScript": paths[SCRIPT_PATH]["get"],
    }
    return {name: {"operationId": op["operationId"], "parameters": by_id} for name, op in targets.items()}


def returns(operation: dict[str, Any], status: str, component: str) -> None:
    """The answer's JSON schema, so a response check can fail (FastAPI says `{}` for a handler
    that builds its answer itself)."""
    answer = operation["responses"].setdefault(status, {"description": "OK"})
    answer["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}}


def json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"required": True, "description": description, "content": {"application/json": {"schema": schema}}}


def answers(operation: dict[str, Any], *statuses: int) -> None:
    responses = operation.setdefault("responses", {})
    for status in statuses:
        ref = {422: "HTTPValidationError", 429: "Refused"}.get(status, "Message")
        answer = {
            "description": ERRORS[status],
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
        }
        if status in (429, 503):
            answer["headers"] = RETRY_AFTER
        responses[str(status)] = answer
