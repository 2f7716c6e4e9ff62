"""The playground's HTTP surface: demos, runs, live control, event streams, permalinks."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import ValidationError

from app.app_state import app_state
from app.classes.access import joined_student
from app.demos._own_text import MAX_CHARS
from app.demos.base import Demo
from app.glossary.routes import SiteDep
from app.playground.core.interface import (
    CONTROL_FIELDS,
    ActiveRun,
    Refused,
    RunEngine,
    RunFinished,
    ShuttingDown,
    StoredRun,
    demo_name,
)
from app.playground.http.panel import demo_json
from app.playground.http.rerun import rerun_url
from app.settings import Settings
from app.web import describe_errors

router = APIRouter()

ESCAPED_CHAR_BYTES = len(json.dumps("\U0001f600")) - 2  # 12: a character beyond the BMP as two \uXXXX escapes
MAX_BODY_BYTES = MAX_CHARS * ESCAPED_CHAR_BYTES + 16 * 1024
"""The longest valid body as a client that escapes non-ASCII sends it (Python's json does by
default): the longest own text in its longest escaped form (192,000 bytes), and room for the
other params. 208,384 bytes."""
MAX_EVENT_ID_DIGITS = 18  # far past any run's length, and short enough to parse safely
CREATOR_COOKIE = "modelterms_run"
"""The control token, for a browser's EventSource (which sends no Authorization header): set by
the POST of a run that withheld a text, on the path of that run's event stream alone."""


def get_engine(request: Request) -> RunEngine:
    return app_state(request.app).engine


EngineDep = Annotated[RunEngine, Depends(get_engine)]


def get_demo(name: str, request: Request) -> Demo:
    demo = app_state(request.app).demos.get(name)
    if demo is None:
        raise HTTPException(404, f"No demo named '{name}'. GET /api/demos lists them.")
    return demo


DemoDep = Annotated[Demo, Depends(get_demo)]


def unprocessable(errors: Sequence[Mapping[str, Any]]) -> HTTPException:
    return HTTPException(422, describe_errors(errors))


def require_json(request: Request) -> None:
    """A body must be declared JSON in UTF-8. A browser sends a cross-site form or a `text/plain`
    fetch without asking first; a JSON content type makes it ask (CORS), and this server says no."""
    media_type, *options = request.headers.get("content-type", "").lower().split(";")
    charset = dict(o.strip().partition("=")[::2] for o in options).get("charset", "utf-8").strip('"')
    if media_type.strip() != "application/json" or charset != "utf-8":
        raise HTTPException(415, "Content-Type: send the body as 'application/json' (UTF-8).")


async def read_json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object: 413 past MAX_BODY_BYTES, 415 unless it is declared JSON, 408 when
    it does not arrive in time, 422 when it is not UTF-8 or not a JSON object."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, f"body: at most {MAX_BODY_BYTES} bytes are accepted")
    require_json(request)
    body = b""
    try:
        async with asyncio.timeout(app_state(request.app).settings.client_timeout_seconds):
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise HTTPException(413, f"body: at most {MAX_BODY_BYTES} bytes are accepted")
    except TimeoutError:
        raise HTTPException(408, "body: it did not arrive in time", headers={"Connection": "close"}) from None
    if not body.strip():
        return {}
    try:
        # Decoded here: json.loads would guess UTF-16 or UTF-32 from bytes, which JSON over HTTP is not.
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise unprocessable([{"loc": ("body",), "msg": "must be UTF-8 text", "type": "unicode_error"}]) from None
    except (ValueError, RecursionError) as error:
        raise unprocessable([{"loc": ("body",), "msg": f"malformed JSON ({error})", "type": "json_invalid"}]) from None
    if not isinstance(data, dict):
        raise unprocessable([{"loc": ("body",), "msg": "must be a JSON object", "type": "object_type"}])
    return data


def run_json(engine: RunEngine, run: ActiveRun | StoredRun) -> dict[str, Any]:
    if isinstance(run, StoredRun):
        return {
            "id": run.id,
            "demo": run.demo,
            "status": run.status,
            "params": run.params,
            "step": run.step,
            "summary": run.summary,
            "events": run.event_count,
            "events_url": f"/api/runs/{run.id}/events",
            "url": f"/runs/{run.id}",
        }
    return {
        "id": run.id,
        "demo": run.demo.name,
        "status": run.status,
        "params": run.params,
        "step": run.step,
        "queue_position": engine.position(run),
        "summary": run.summary,
        "events": run.event_count,
        "events_url": f"/api/runs/{run.id}/events",
        "url": f"/runs/{run.id}",
    }


def client_address(request: Request) -> str:
    """Who a run belongs to for the per-client limit (see forwarded_client)."""
    peer = request.client.host if request.client else ""
    return forwarded_client(peer, request.headers.get("x-forwarded-for"), app_state(request.app).settings)


def forwarded_client(peer: str, forwarded: str | None, settings: Settings) -> str:
    """The peer's address or, when the peer is a trusted reverse proxy, the right-most address in
    its X-Forwarded-For that is not a trusted proxy. Each proxy appends the address it saw, so
    everything left of that one was written by the client itself and proves nothing."""
    address = peer
    if not forwarded or not settings.is_trusted_proxy(address):
        return address
    for hop in reversed([hop.strip() for hop in forwarded.split(",") if hop.strip()]):
        address = hop
        if not settings.is_trusted_proxy(hop):
            break
    return address


def is_creator(run: ActiveRun | StoredRun, request: Request) -> bool:
    """Whether the request shows the run's control token: as `Authorization: Bearer` (API clients)
    or in the cookie its POST set (browsers)."""
    if isinstance(run, StoredRun):
        return False  # nothing of a finished run is for its creator alone
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        token = request.cookies.get(CREATOR_COOKIE, "")
    return bool(token) and secrets.compare_digest(token.encode(), run.control_token.encode())


def require_control(run: ActiveRun | StoredRun, request: Request) -> None:
    """PATCH and DELETE belong to whoever started the run: they must show its control token."""
    if isinstance(run, StoredRun) or run.finished:
        # Finished runs take no control, and the handler answers for them alike, whether the run
        # is still in memory or only stored (a 401 for one and a 200 for the other told them apart).
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            401,
            "Authorization: send 'Bearer <token>' with the control token that the POST starting this run returned.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not secrets.compare_digest(token.encode(), run.control_token.encode()):
        raise HTTPException(403, "Authorization: this control token does not belong to this run.")


async def find_run(engine: RunEngine, run_id: str) -> ActiveRun | StoredRun:
    run = await engine.get(run_id) if len(run_id) <= 64 else None
    if run is None:
        raise HTTPException(404, f"No run '{run_id}'.")
    return run


async def find_run_and_demo(engine: RunEngine, run_id: str, request: Request) -> tuple[ActiveRun | StoredRun, Demo]:
    """A run for its page (or embed), with its demo; 404 for an unknown run or a demo gone."""
    run = await find_run(engine, run_id)
    demo = app_state(request.app).demos.get(demo_name(run))
    if demo is None:
        raise HTTPException(404, f"Run '{run_id}' belongs to a demo this server no longer has.")
    return run, demo


@router.get("/api/demos", tags=["playground"])
def list_demos(request: Request) -> list[dict]:
    return [demo_json(d) for d in app_state(request.app).demos.values()]


@router.get("/api/demos/{name}", tags=["playground"])
def get_demo_details(demo: DemoDep) -> dict:
    return demo_json(demo, with_extras=True)


@router.post("/api/demos/{name}/runs", status_code=201, tags=["playground"])
async def start_run(demo: DemoDep, request: Request, engine: EngineDep) -> JSONResponse:
    settings = app_state(request.app).settings
    raw = await read_json_object(request)
    try:
        params = demo.parse(raw)
    except ValidationError as error:
        raise unprocessable(error.errors()) from None
    parsed = params.model_dump(mode="json")
    joined = await joined_student(request)
    seat = joined.seat(settings.runs_per_student, settings.runs_per_class) if joined else None
    try:
        run = await engine.submit(demo, parsed, client_address(request), seat)
    except ShuttingDown:
        raise HTTPException(503, "The server is shutting down; try again in a moment.", {"Retry-After": "5"}) from None
    except Refused as refused:  # the limit by name too, so a client need not parse the sentence
        refusal = {"detail": refused.message, "limit": refused.limit}
        return JSONResponse(refusal, 429, headers={"Retry-After": str(refused.retry_after)})
    if joined:
        await joined.tag(run.id, demo.name)
    events_url = f"/api/runs/{run.id}/events"
    body: dict[str, object] = {
        "id": run.id,
        "status": run.status,
        "control_token": run.control_token,
        "events_url": events_url,
        "queue_position": engine.position(run),
        "url": f"/runs/{run.id}",
    }
    answer = JSONResponse(body, 201, headers={"Location": f"/api/runs/{run.id}"})
    if demo.hidden_outputs(demo.private_split(parsed)[1]):
        answer.set_cookie(CREATOR_COOKIE, run.control_token, path=events_url, httponly=True, samesite="strict")
    return answer


@router.get("/api/runs/{run_id}", tags=["playground"])
async def get_run(run_id: str, engine: EngineDep) -> dict:
    return run_json(engine, await find_run(engine, run_id))


def _validate_changes(run: ActiveRun, changes: dict[str, Any]) -> dict[str, Any]:
    if not changes:
        raise unprocessable([{"loc": ("body",), "msg": "name at least one live field", "type": "missing"}])
    live = sorted(run.demo.live)
    errors: list[dict] = []
    for name, value in changes.items():
        if name == "paused":
            if not isinstance(value, bool):
                errors.append({"loc": (name,), "msg": "must be true or false", "type": "bool_type"})
        elif name == "step_once":
            if value is not True:
                errors.append({"loc": (name,), "msg": "must be true (it asks for one step)", "type": "literal_error"})
        elif name not in run.demo.Params.model_fields:
            errors.append({"loc": (name,), "msg": f"unknown field; live fields are {live}", "type": "extra"})
        elif name not in run.demo.live:
            errors.append(
                {
                    "loc": (name,),
                    "msg": f"cannot change while running; live fields are {live}",
                    "type": "not_live",
                }
            )
    if errors:
        raise unprocessable(errors)
    params = {k: v for k, v in changes.items() if k not in CONTROL_FIELDS}
    # Checked against what a share link of the run holds: its shown params less any private field
    # (a reader's text, here only as its size and hash), which takes its default; no change touches it.
    try:
        checked = run.demo.parse(run.demo.link_params(run.params) | params).model_dump(mode="json")
    except ValidationError as error:
        raise unprocessable([e for e in error.errors() if e["loc"] and e["loc"][0] in params]) from None
    return {k: checked[k] for k in params} | {k: v for k, v in changes.items() if k in CONTROL_FIELDS}


@router.patch("/api/runs/{run_id}", tags=["playground"])
async def change_run(run_id: str, request: Request, engine: EngineDep) -> dict:
    run = await find_run(engine, run_id)
    require_control(run, request)
    changes = await read_json_object(request)
    if isinstance(run, StoredRun) or run.finished:
        raise HTTPException(409, f"Run '{run_id}' has finished ({run.status}); start a new run to change it.")
    changes = _validate_changes(run, changes)
    try:
        step = await engine.change(run, changes)
    except RunFinished:
        raise HTTPException(409, f"Run '{run_id}' is {run.status}; it cannot take this change now.") from None
    return {"id": run.id, "status": run.status, "applies_from_step": step, "params": run.params}


@router.delete("/api/runs/{run_id}", tags=["playground"])
async def cancel_run(run_id: str, request: Request, engine: EngineDep) -> dict:
    # async: the engine's state changes only on the event loop (a sync handler runs in a thread).
    run = await find_run(engine, run_id)
    require_control(run, request)
    if not isinstance(run, StoredRun):
        await engine.cancel(run.id)
        run = await engine.get(run.id) or run  # a queued run has ended at once
    return {"id": run.id, "status": run.status}


@router.get("/api/runs/{run_id}/events", tags=["playground"], response_class=StreamingResponse)
async def run_events(
    run_id: str,
    request: Request,
    engine: EngineDep,
    after: Annotated[
        int | None, Query(ge=0, lt=10**MAX_EVENT_ID_DIGITS, description="Resume after this event id.")
    ] = None,
) -> Response:
    run = await find_run(engine, run_id)
    last_id = request.headers.get("last-event-id")
    if last_id is not None:
        if not (last_id.isascii() and last_id.isdigit() and len(last_id) <= MAX_EVENT_ID_DIGITS):
            raise unprocessable(
                [{"loc": ("Last-Event-ID",), "msg": "must be a non-negative integer", "type": "int_parsing"}]
            )
        after = int(last_id)

    creator = is_creator(run, request)

    async def stream():
        yield b"retry: 1000\n\n"
        async for frame in engine.follow(run, after or 0, creator):
            yield frame if frame is not None else b": keep-alive\n\n"

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


@router.get("/playground", response_class=HTMLResponse, include_in_schema=False)
def playground_page(request: Request, site: SiteDep) -> Response:
    return site.pages["/playground"].respond(request)


@router.get("/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
async def run_page(run_id: str, site: SiteDep, engine: EngineDep, request: Request) -> HTMLResponse:
    run, demo = await find_run_and_demo(engine, run_id, request)
    panel = app_state(request.app).panel(demo.name, run_id=run_id)
    again = rerun_url(demo, run.params, site.glossary.terms)
    return HTMLResponse(site.render("run.html", run=run_json(engine, run), demo=demo, panel=panel, rerun_url=again))
