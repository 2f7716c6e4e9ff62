"""GET /api/runs/{id}/script.py: "Reproduce locally" (see app.playground.script).

Written against the engine protocol only, so both backends serve it the same way."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from app.demos.base import Demo
from app.playground.interface import ActiveRun, RunEngine
from app.playground.routes import EngineDep, find_run
from app.playground.script import Conflict, build_script, record_from_frames
from app.playground.store import StoredRun

router = APIRouter()


async def frames_so_far(engine: RunEngine, run: ActiveRun | StoredRun) -> list[bytes]:
    """The run's SSE frames up to now: all of a stored run's, and as many of an active run's as it
    had when it was read (its live tail is not waited for)."""
    frames: list[bytes] = []
    wanted = run.event_count
    if wanted == 0 and not isinstance(run, StoredRun):
        return frames
    async for frame in engine.follow(run, 0):
        if frame is None:  # a keep-alive: nothing more is there yet
            break
        frames.append(frame)
        if not isinstance(run, StoredRun) and len(frames) >= wanted:
            break
    return frames


@router.get(
    "/api/runs/{run_id}/script.py",
    tags=["playground"],
    response_class=Response,
    responses={200: {"content": {"text/x-python": {}}, "description": "A standalone PyTorch script."}},
)
async def run_script(run_id: str, request: Request, engine: EngineDep) -> Response:
    """One Python file, needing only torch, that trains what the run trained and prints its points."""
    run = await find_run(engine, run_id)
    demo = run.demo if isinstance(run.demo, Demo) else request.app.state.demos.get(run.demo)
    if demo is None:
        raise HTTPException(404, f"Run '{run_id}' belongs to a demo this server no longer has.")
    frames = await frames_so_far(engine, run)
    # Only the shown params ever reach the script: an active run's params may still hold a
    # reader's withheld text (on the embedded backend) until its `start` event says otherwise.
    record = record_from_frames(run.id, demo.name, run.status, demo.shown(run.params), frames)
    try:
        script = build_script(demo, record)
    except Conflict as error:
        raise HTTPException(501, f"This demo cannot be turned into a script yet: {error}") from None
    headers = {"Content-Disposition": f'inline; filename="modelterms-{run.id}.py"'}
    return Response(script, media_type="text/x-python; charset=utf-8", headers=headers)
