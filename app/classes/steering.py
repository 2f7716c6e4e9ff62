"""The teacher steers the class from the board: an exercise pushed to every student's panel (its
answer hidden until revealed) and a reference run pinned in every panel. Students follow it on
their class page through one small stream, read from the class store, so any replica serves it."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError

from app.app_state import app_state
from app.classes.access import class_store, joined_student, teacher_class
from app.classes.models import NewPreset, PinnedReference, Preset, Steering
from app.classes.records import ClassRecord
from app.classes.routes import parse_body
from app.classes.tokens import normal_code
from app.glossary.routes import SiteDep
from app.playground.core.events import KEEPALIVE_SECONDS, encode_data
from app.playground.core.interface import demo_name
from app.playground.http.routes import EngineDep, read_json_object, unprocessable

router = APIRouter(tags=["classes"])
POLL_SECONDS = 1.0  # how soon a student's panel sees what the teacher set (read from the store)

TeacherClass = Annotated[ClassRecord, Depends(teacher_class)]


async def current(request: Request, code: str) -> Steering:
    found = await class_store(request).steering(code)
    return Steering.model_validate_json(found) if found else Steering()


async def change(request: Request, record: ClassRecord, **changes: Any) -> dict[str, Any]:
    if record.ended(time.time()):
        raise HTTPException(409, f"class: '{record.code}' has ended; its board is read-only.")
    steering = await current(request, record.code)
    steering = steering.model_copy(update=changes | {"version": steering.version + 1})
    await class_store(request).set_steering(record.code, steering.model_dump_json())
    return steering.model_dump()


@router.put("/api/classes/{code}/preset")
async def push_preset(record: TeacherClass, request: Request) -> dict:
    """Push an exercise to every student's panel: settings of the class's demo, a question, and an
    answer that stays hidden until POST .../preset/reveal."""
    body = parse_body(NewPreset, await read_json_object(request))
    demo = app_state(request.app).demos[record.demo]
    try:
        demo.parse(body.params)
    except ValidationError as error:
        raise unprocessable([e | {"loc": ("params", *e["loc"])} for e in error.errors()]) from None
    params = demo.link_params(body.params)
    return await change(request, record, preset=Preset(params=params, question=body.question, answer=body.answer))


@router.post("/api/classes/{code}/preset/reveal")
async def reveal_answer(record: TeacherClass, request: Request) -> dict:
    preset = (await current(request, record.code)).preset
    if preset is None:
        raise HTTPException(409, "preset: nothing was pushed yet, so there is no answer to reveal.")
    return await change(request, record, preset=preset.model_copy(update={"revealed": True}))


@router.delete("/api/classes/{code}/preset")
async def end_exercise(record: TeacherClass, request: Request) -> dict:
    """End the exercise: the students' panels drop it."""
    return await change(request, record, preset=None)


@router.put("/api/classes/{code}/reference")
async def pin_reference(record: TeacherClass, request: Request, engine: EngineDep) -> dict:
    """Pin a run of the class's demo as every student panel's dashed reference (null unpins)."""
    body = parse_body(PinnedReference, await read_json_object(request))
    if body.run_id is not None:
        run = await engine.get(body.run_id)
        demo = None if run is None else demo_name(run)
        if demo != record.demo:
            msg = f"no run '{body.run_id}' of the class's demo '{record.demo}'"
            raise unprocessable([{"loc": ("run_id",), "msg": msg, "type": "value_error"}])
    return await change(request, record, reference=body.run_id)


async def member_class(code: str, request: Request) -> ClassRecord:
    """The class of a student of it, or of its teacher."""
    joined = await joined_student(request)
    if joined is not None and joined.record.code == normal_code(code):
        return joined.record
    return await teacher_class(code, request)


@router.get("/api/classes/{code}/steering", response_class=StreamingResponse)
async def steering_events(record: Annotated[ClassRecord, Depends(member_class)], request: Request) -> Response:
    """`steer` events for a student's panel (student token or teacher token): the pushed preset
    (its answer once revealed) and the pinned reference, once now and again on every change."""

    async def stream():
        yield b"retry: 2000\n\n"
        sent, quiet = -1, 0.0
        while True:
            steering = await current(request, record.code)
            if steering.version != sent:
                sent, quiet = steering.version, 0.0
                yield f"event: steer\ndata: {encode_data(steering.for_students())[1]}\n\n".encode()
            elif quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield b": keep-alive\n\n"
            await asyncio.sleep(POLL_SECONDS)
            quiet += POLL_SECONDS

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


@router.get("/classes/{code}/play", response_class=HTMLResponse, include_in_schema=False)
async def student_page(code: str, request: Request, site: SiteDep) -> Response:
    """A student's page: the class's playground, with the teacher's exercise above it."""
    try:
        joined = await joined_student(request)
    except HTTPException as refused:  # the class has ended: a page that says so, not a JSON error
        page = site.render("class_locked.html", code=normal_code(code)[:12], ended=True)
        return HTMLResponse(page, refused.status_code, headers={"Cache-Control": "no-store"})
    if joined is None or joined.record.code != normal_code(code):
        return RedirectResponse(f"/join?class={normal_code(code)[:12]}", 303)
    record = joined.record
    demo = app_state(request.app).demos[record.demo]
    panel = app_state(request.app).panel(demo.name)
    page = site.render("class_student.html", record=record, demo=demo, student=joined.student, panel=panel)
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
