"""The class board's one stream: every run the class's students start on the class's demo,
followed through the run engine (either backend) and merged into a few events, with each run's
loss curve thinned on the server to what a chart needs. A class's runs are followed once per
process however many boards of it are open (the teacher's, the projector's, a reloaded tab): one
ClassFeed aggregates and every open board reads its events.

Events (each a JSON object; a board that opens or reconnects gets the whole state so far, from
`class` on, then the events as they come):
  class     the class (code, title, demo, expires, ended) and the params a scatter may use
  run       a run joined the board: id, student, name, params
  points    {"runs": {id: [[step, loss], ...]}}: the thinned points since the last `points`
  end       a run ended: id, status, step, final loss (null if it never logged one)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from app.classes.records import ClassRecord, ClassRun
from app.classes.store import ClassStore
from app.demos.base import Demo
from app.playground.core.events import KEEPALIVE_SECONDS, encode_data
from app.playground.core.interface import RunEngine

POINTS_PER_RUN = 200
"""About as many points as a board's chart shows a run with: a 10,000-step run sends every 50th."""
FLUSH_SECONDS = 0.25
ROSTER_SECONDS = 0.5  # how often the store is read for runs started since


def scatter_params(demo: Demo) -> list[str]:
    """The demo's numeric params: what the scatter of final loss may be drawn against."""
    fields = demo.Params.model_json_schema().get("properties", {})
    return [name for name, schema in fields.items() if schema.get("type") in ("number", "integer")]


@dataclass
class Thinned:
    """A run's points as the board gets them: one every `stride` steps, plus the last on its end."""

    stride: int
    kept_step: int | None = None
    last: tuple[int, float] | None = None  # the latest point, kept or not

    def take(self, point: dict[str, Any]) -> list[float] | None:
        loss, step = point.get("loss"), point.get("step")
        if not isinstance(loss, int | float) or not isinstance(step, int):
            return None
        self.last = (step, loss)
        if self.kept_step is not None and step - self.kept_step < self.stride:
            return None
        self.kept_step = step
        return [step, loss]

    def closing(self) -> list[float] | None:
        """The last point, if thinning dropped it: a curve ends where its run ended."""
        if self.last is None or self.last[0] == self.kept_step:
            return None
        self.kept_step = self.last[0]
        return list(self.last)


def stride_for(params: dict[str, Any]) -> int:
    steps = params.get("steps")
    return max(1, int(steps) // POINTS_PER_RUN) if isinstance(steps, int) else 1


def sse_events(frame: bytes) -> tuple[str, dict[str, Any]] | None:
    """(type, data) of one of the engine's SSE frames."""
    kind, data = "", None
    for line in frame.decode().split("\n"):
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
    return (kind, data) if kind and isinstance(data, dict) else None


@dataclass
class FollowedRun:
    """What a board opened now needs to catch up on a run: its `run` event, its points sent so
    far, and its `end` event once it ended."""

    announced: dict[str, Any]
    number: int  # the student's place in the roster: 'Student 3' where names are hidden
    points: list[list[float]] = field(default_factory=list)
    ended: dict[str, Any] | None = None


@dataclass(eq=False)
class OpenBoard:
    hide_names: bool
    out: asyncio.Queue = field(default_factory=asyncio.Queue)


@dataclass
class ClassFeed:
    """One class's aggregation in this process: follows each of its runs once and sends every
    event to every open board of the class."""

    record: ClassRecord
    demo: Demo
    store: ClassStore
    engine: RunEngine
    boards: set[OpenBoard] = field(default_factory=set)
    runs: dict[str, FollowedRun] = field(default_factory=dict)
    pending: dict[str, list] = field(default_factory=dict)
    followed: set[str] = field(default_factory=set)
    tasks: list[asyncio.Task] = field(default_factory=list)

    def open_board(self, hide_names: bool) -> OpenBoard:
        """A board that gets the class, the state so far, then every event; the first board
        starts the aggregation. Nothing here awaits, so no event falls between the state so far
        and the live ones."""
        board = OpenBoard(hide_names)
        record = self.record
        facts: dict[str, Any] = {"code": record.code, "title": record.title, "demo": self.demo.name}
        facts |= {"demo_title": self.demo.title}
        facts |= {"expires": record.expires, "ended": record.ended(time.time()), "params": scatter_params(self.demo)}
        board.out.put_nowait(("class", facts))
        for run in self.runs.values():
            self._deliver(board, "run", run.announced)
            if run.points:
                self._deliver(board, "points", {"runs": {run.announced["id"]: list(run.points)}})
            if run.ended:
                self._deliver(board, "end", run.ended)
        self.boards.add(board)
        if not self.tasks:
            self.tasks += [asyncio.create_task(self.watch_roster()), asyncio.create_task(self.flush_points())]
        return board

    async def close_board(self, board: OpenBoard) -> None:
        self.boards.discard(board)
        if self.boards:
            return
        tasks, self.tasks = self.tasks, []
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)

    def _deliver(self, board: OpenBoard, kind: str, data: dict[str, Any]) -> None:
        if kind == "run" and board.hide_names:
            data = data | {"name": f"Student {self.runs[data['id']].number}"}
        board.out.put_nowait((kind, data))

    def send(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "points":
            for run_id, points in data["runs"].items():
                self.runs[run_id].points.extend(points)
        elif kind == "end":
            self.runs[data["id"]].ended = data
        for board in self.boards:
            self._deliver(board, kind, data)

    async def watch_roster(self) -> None:
        roster: dict[str, tuple[int, str]] = {}
        while True:
            runs = [r for r in await self.store.runs(self.record.code) if r.demo == self.demo.name]
            if any(r.student_id not in roster for r in runs):
                for number, student in enumerate(await self.store.students(self.record.code), 1):
                    roster[student.id] = (number, student.name)
            for tagged in runs:
                if tagged.run_id not in self.followed:
                    self.followed.add(tagged.run_id)
                    number, name = roster.get(tagged.student_id, (0, "?"))
                    self.tasks.append(asyncio.create_task(self.follow(tagged, number, name)))
            await asyncio.sleep(ROSTER_SECONDS)

    async def follow(self, tagged: ClassRun, number: int, name: str) -> None:
        run = await self.engine.get(tagged.run_id)
        if run is None:
            return  # dropped by retention
        announced = {"id": run.id, "student": tagged.student_id, "name": name, "params": run.params}
        self.runs[run.id] = FollowedRun(announced, number)
        self.send("run", announced)
        thinned = Thinned(stride_for(run.params))
        async for frame in self.engine.follow(run, 0):
            event = sse_events(frame) if frame is not None else None
            if event is None:
                continue
            kind, data = event
            if kind == "metrics":
                kept = [p for p in map(thinned.take, data.get("points", [])) if p is not None]
                self.pending.setdefault(run.id, []).extend(kept)
            elif kind == "end":
                # The run's last points go out before its end, so a curve is whole when it ends.
                last = self.pending.pop(run.id, []) + ([closing] if (closing := thinned.closing()) else [])
                if last:
                    self.send("points", {"runs": {run.id: last}})
                final = thinned.last[1] if thinned.last else None
                self.send("end", {"id": run.id, "status": data["status"], "step": data.get("step"), "loss": final})
                return

    async def flush_points(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            if self.pending:
                runs, self.pending = self.pending, {}
                self.send("points", {"runs": runs})


class ClassFeeds:
    """The open classes' feeds in this process, by code: a feed lives while a board of it is open."""

    def __init__(self) -> None:
        self.open: dict[str, ClassFeed] = {}

    async def frames(
        self, record: ClassRecord, demo: Demo, store: ClassStore, engine: RunEngine, hide_names: bool
    ) -> AsyncIterator[bytes]:
        """One board's SSE stream, read off the class's one feed."""
        feed = self.open.get(record.code)
        if feed is None:
            feed = self.open[record.code] = ClassFeed(record, demo, store, engine)
        board = feed.open_board(hide_names)
        number = 0
        try:
            yield b"retry: 1000\n\n"
            while True:
                try:
                    kind, data = await asyncio.wait_for(board.out.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                number += 1
                yield f"id: {number}\nevent: {kind}\ndata: {encode_data(data)[1]}\n\n".encode()
        finally:
            if feed.boards == {board}:
                del self.open[record.code]  # before the await: a board opened meanwhile starts a new feed
            await feed.close_board(board)
