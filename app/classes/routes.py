"""The class API and pages: create a class, join it, the teacher's board and its stream."""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError

from app.app_state import app_state
from app.classes.access import (
    STUDENT_COOKIE,
    bearer_token,
    board_class,
    class_store,
    teacher_cookie,
    viewer_cookie,
)
from app.classes.models import ClassCreated, NewClass, NewStudent, StudentJoined
from app.classes.records import ClassRecord, Student
from app.classes.store import KEEP_ENDED_SECONDS
from app.classes.tokens import (
    CODE,
    friendly_name,
    new_code,
    new_token,
    normal_code,
    student_token,
    token_hash,
    token_matches,
)
from app.glossary.routes import SiteDep
from app.playground.http.routes import EngineDep, client_address, read_json_object, unprocessable

router = APIRouter(tags=["classes"])
M = TypeVar("M", bound=BaseModel)
DEFAULT_DEMO = "learning-rate"  # a class's first experiment: final loss against the learning rate
CODE_TRIES = 10  # codes drawn before giving up; with 148 million codes the first almost always is free


def parse_body(model: type[M], raw: dict) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise unprocessable(error.errors()) from None


def require_creator(request: Request) -> None:
    """MODELTERMS_CLASSES=token: only who holds MODELTERMS_ADMIN_TOKEN creates classes."""
    settings = app_state(request.app).settings
    if settings.classes == "open":
        return
    token = bearer_token(request)
    if not token:
        raise HTTPException(
            401,
            "Authorization: this site creates classes for its operators: send 'Bearer <MODELTERMS_ADMIN_TOKEN>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    # The settings refuse MODELTERMS_CLASSES=token without an admin token; "" never matches a sent one.
    if not hmac.compare_digest(token.encode(), (settings.admin_token or "").encode()):
        raise HTTPException(403, "Authorization: this is not the site's admin token.")


def site_url(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


@router.post("/api/classes", status_code=201, response_model=ClassCreated)
async def create_class(request: Request, creator: Annotated[None, Depends(require_creator)]) -> JSONResponse:
    body = parse_body(NewClass, await read_json_object(request))
    demos = app_state(request.app).demos
    demo = body.demo or (DEFAULT_DEMO if DEFAULT_DEMO in demos else next(iter(demos)))
    if demo not in demos:
        msg = f"no demo named '{demo}'; GET /api/demos lists them"
        raise unprocessable([{"loc": ("demo",), "msg": msg, "type": "value_error"}])
    settings = app_state(request.app).settings
    teacher, viewer, now = new_token(), new_token(), time.time()
    expires = now + settings.class_hours * 3600
    hashes = token_hash(teacher), token_hash(viewer)
    for _ in range(CODE_TRIES):
        record = ClassRecord(new_code(), body.title.strip(), demo, *hashes, now, expires)
        if await class_store(request).create(record):
            break
    else:
        raise HTTPException(503, "No free class code was found; try again.", headers={"Retry-After": "1"})
    created = ClassCreated(
        code=record.code,
        teacher_token=teacher,
        join_url=site_url(request, f"/join?class={record.code}"),
        board_url=site_url(request, f"/classes/{record.code}/board?teacher={teacher}"),
        projector_url=site_url(request, f"/classes/{record.code}/board?projector={viewer}"),
        title=record.title,
        demo=demo,
        expires=record.expires,
    )
    return JSONResponse(created.model_dump(), 201, headers={"Cache-Control": "no-store"})


@router.post("/api/classes/{code}/students", status_code=201, response_model=StudentJoined)
async def join_class(code: str, request: Request) -> JSONResponse:
    wrong_codes = class_store(request).wrong_codes
    address = client_address(request)
    wait = await wrong_codes.retry_after(address)
    if wait:
        message = f"class: too many wrong class codes from your address; try again in {wait} s."
        raise HTTPException(429, message, {"Retry-After": str(wait)})
    code = normal_code(code)
    record = await class_store(request).get(code) if CODE.fullmatch(code) else None
    if record is None:
        await wrong_codes.wrong(address)
        raise HTTPException(404, f"class: no class has the code '{code[:12]}'; check it on the teacher's screen.")
    now = time.time()
    if record.ended(now):
        raise HTTPException(410, f"class: '{code}' has ended and takes no new students.")
    body = parse_body(NewStudent, await read_json_object(request))
    name = " ".join(body.name.split()) or friendly_name()  # one line: no newline or tab lands on the board
    secret = new_token()
    await class_store(request).add_student(code, Student(secrets.token_hex(6), name, token_hash(secret), now))
    token = student_token(code, secret)
    joined = StudentJoined(
        student_token=token, name=name, code=code, demo=record.demo, playground_url=f"/classes/{code}/play"
    )
    answer = JSONResponse(joined.model_dump(), 201, headers={"Cache-Control": "no-store"})
    answer.set_cookie(STUDENT_COOKIE, token, max_age=int(record.expires - now), httponly=True, samesite="lax")
    return answer


@router.get("/join", response_class=HTMLResponse, include_in_schema=False)
def join_page(site: SiteDep, code: Annotated[str, Query(alias="class", max_length=12)] = "") -> HTMLResponse:
    return HTMLResponse(site.render("join.html", code=normal_code(code)), headers={"Cache-Control": "no-store"})


@router.get("/classes/{code}/board", response_class=HTMLResponse, include_in_schema=False)
async def board_page(
    code: str,
    request: Request,
    site: SiteDep,
    teacher: Annotated[str, Query(max_length=64)] = "",
    projector: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The teacher's and the projector's links carry their token once: it is checked, kept in a
    cookie for this class's board and stream, and dropped from the address bar (a projected screen
    shows no secret)."""
    code = normal_code(code)
    if teacher or projector:
        return await remember_link(code, request, teacher, projector)
    try:
        record, as_teacher = await board_class(code, request)
    except HTTPException as refused:  # a person at a browser gets a page that says what to do
        page = site.render("class_locked.html", code=code[:12])
        return HTMLResponse(page, refused.status_code, headers={"Cache-Control": "no-store"})
    demo = app_state(request.app).demos[record.demo]
    ended = record.ended(time.time())
    page = site.render("class_board.html", record=record, demo=demo, ended=ended, teacher=as_teacher)
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


async def remember_link(code: str, request: Request, teacher: str, projector: str) -> Response:
    record = await class_store(request).get(code) if CODE.fullmatch(code) else None
    link, token, cookie = ("teacher", teacher, teacher_cookie) if teacher else ("projector", projector, viewer_cookie)
    stored = "" if record is None else record.teacher_hash if teacher else record.viewer_hash
    if record is None or not token_matches(token, stored):
        raise HTTPException(403, f"{link}: this is not the {link} token of a class '{code}'.")
    moved = RedirectResponse(f"/classes/{code}/board", 303, headers={"Cache-Control": "no-store"})
    expires = int(record.expires - time.time()) + KEEP_ENDED_SECONDS  # the board stays readable after the class
    moved.set_cookie(cookie(code), token, max_age=expires, httponly=True, samesite="strict")
    return moved


@router.get("/api/classes/{code}/events", response_class=StreamingResponse)
async def board_events(
    code: str,
    request: Request,
    engine: EngineDep,
    names: Annotated[bool, Query(description="false: students appear as 'Student 1', 'Student 2', ...")] = True,
) -> StreamingResponse:
    """The class board's stream (teacher token, or the projector link's, which hides names): the
    class, each run of its demo that a student starts, their thinned points, and their ends."""
    record, as_teacher = await board_class(code, request)
    hide = not (names and as_teacher)
    state = app_state(request.app)
    frames = state.class_feeds.frames(record, state.demos[record.demo], class_store(request), engine, hide)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(frames, media_type="text/event-stream", headers=headers)
