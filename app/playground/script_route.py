"""GET /api/runs/{id}/script.py: "Reproduce locally" (see app.playground.script)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from app.playground.engine import Run
from app.playground.routes import EngineDep, find_run
from app.playground.script import Conflict, build_script, record_from_frames

router = APIRouter()


@router.get(
    "/api/runs/{run_id}/script.py",
    tags=["playground"],
    response_class=Response,
    responses={200: {"content": {"text/x-python": {}}, "description": "A standalone PyTorch script."}},
)
async def run_script(run_id: str, request: Request, engine: EngineDep) -> Response:
    """One Python file, needing only torch, that trains what the run trained and prints its points."""
    run = await find_run(engine, run_id)
    if isinstance(run, Run):
        demo, frames = run.demo, [event.sse for event in run.log.events]
    else:
        demo = request.app.state.demos.get(run.demo)
        if demo is None or engine.store is None:
            raise HTTPException(404, f"Run '{run_id}' belongs to a demo this server no longer has.")
        # The store reads SQLite: off the event loop.
        frames = await asyncio.get_running_loop().run_in_executor(None, engine.store.replay, run.id)
    record = record_from_frames(run.id, demo.name, run.status, run.params, frames)
    try:
        script = build_script(demo, record)
    except Conflict as error:
        raise HTTPException(501, f"This demo cannot be turned into a script yet: {error}") from None
    headers = {"Content-Disposition": f'inline; filename="modelterms-{run.id}.py"'}
    return Response(script, media_type="text/x-python; charset=utf-8", headers=headers)
