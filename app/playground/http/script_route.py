"""GET /api/runs/{id}/script.py: "Reproduce locally" (see app.playground.reproduce).

Written against the engine protocol only, so both backends serve it the same way."""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response

from app.app_state import app_state
from app.demos.artifacts import ArtifactStore
from app.demos.base import Demo
from app.playground.core.interface import ActiveRun, RunEngine, StoredRun
from app.playground.http.routes import EngineDep, find_run
from app.playground.reproduce.bundle import Conflict, build_script, script_name
from app.playground.reproduce.record import record_from_frames

router = APIRouter()


def message(description: str) -> dict:
    """An error answer in the API docs: JSON with a `detail` sentence (the Message schema)."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}},
    }


@cache
def artifact_store(root: Path) -> ArtifactStore:
    """One store per folder for this process: it remembers which files it has hashed already."""
    return ArtifactStore(root)


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
    responses={
        200: {"content": {"text/x-python": {}}, "description": "A standalone PyTorch script."},
        404: message("No such run, or its demo is gone from this server."),
        501: message("The demo's code cannot travel in a script."),
    },
)
async def run_script(run_id: str, request: Request, engine: EngineDep) -> Response:
    """One Python file, needing only torch, that trains what the run trained and prints its points."""
    run = await find_run(engine, run_id)
    demo = run.demo if isinstance(run.demo, Demo) else app_state(request.app).demos.get(run.demo)
    if demo is None:
        raise HTTPException(404, f"Run '{run_id}' belongs to a demo this server no longer has.")
    frames = await frames_so_far(engine, run)
    # Only the shown params ever reach the script: an active run's params may still hold a
    # reader's withheld text (on the embedded backend) until its `start` event says otherwise.
    record = record_from_frames(run.id, demo.name, run.status, demo.shown(run.params), frames)
    store = artifact_store(engine.settings.artifacts_dir)

    def script_of_run() -> str:
        # Hashing files and reading the carried modules' sources is blocking work (a second for
        # a demo's first script): off the event loop. The store caches what it has checked.
        checksums = {a.filename: store.checksum(a) for a in demo.artifacts}
        return build_script(demo, record, checksums)

    try:
        script = await asyncio.to_thread(script_of_run)
    except Conflict as error:
        raise HTTPException(501, f"This demo cannot be turned into a script yet: {error}") from None
    headers = {"Content-Disposition": f'inline; filename="{script_name(run.id)}"'}
    return Response(script, media_type="text/x-python; charset=utf-8", headers=headers)


@router.get(
    "/api/artifacts/{filename}",
    tags=["playground"],
    response_class=FileResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "A prepared artifact's file."},
        404: message("No prepared artifact of that name on this server."),
    },
)
async def prepared_artifact(filename: str, request: Request, engine: EngineDep) -> FileResponse:
    """A prepared artifact (a base model, a teacher) by its file name, which holds its recipe's hash:
    a downloaded script fetches it with --server and checks its SHA-256."""
    declared = {a.filename: a for demo in app_state(request.app).demos.values() for a in demo.artifacts}
    artifact = declared.get(filename)
    store = artifact_store(engine.settings.artifacts_dir)
    if artifact is None or not await asyncio.to_thread(store.ready, artifact):
        raise HTTPException(404, f"No prepared artifact '{filename}' on this server.")
    return FileResponse(store.path(artifact), media_type="application/octet-stream", filename=filename)
