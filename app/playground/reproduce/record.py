"""What a run's script needs to know of the run, read from its SSE frames (either backend's)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.demos.base import Demo
from app.playground.core.interface import CONTROL_FIELDS  # live changes that steer the engine, not the training


@dataclass(frozen=True)
class RunRecord:
    """What the script needs to know of a run: the engine's or the store's view of it."""

    id: str
    demo: str
    status: str
    params: dict[str, Any]
    """Shown params (Demo.shown): never a reader's withheld text."""
    changes: list[tuple[int, dict[str, Any]]]
    """(step, changes) of each `control` event, in order."""
    columns: list[str]
    """Point keys seen so far, in order of first appearance."""
    last_step: int | None
    finished: bool
    message: str = ""

    def training_changes(self) -> list[tuple[int, dict[str, Any]]]:
        """The live changes that change the training (not pause or step-once), by step."""
        changes = [(step, {k: v for k, v in c.items() if k not in CONTROL_FIELDS}) for step, c in self.changes]
        return [(step, c) for step, c in changes if c]

    def stop_after(self) -> int | None:
        """The last step to train: where a run that was stopped from outside (cancelled, out of
        time or steps, failed) ended; None lets the demo finish, or the divergence rule stop it."""
        if not self.finished or self.last_step is None or self.status == "diverged":
            return None
        if self.status == "done" and not self.message:
            return None
        return self.last_step


def read_frames(frames: list[bytes]) -> tuple[dict | None, list[tuple[int, dict]], list[dict], dict | None]:
    """(start data, control changes, metric points, end data) from a run's SSE frames."""
    start, changes, points, end = None, [], [], None
    for frame in frames:
        fields = dict(line.split(": ", 1) for line in frame.decode().strip().split("\n") if ": " in line)
        data = json.loads(fields.get("data", "null"))
        if fields.get("event") == "start":
            start = data
        elif fields.get("event") == "control":
            changes.append((data["step"], data["changes"]))
        elif fields.get("event") == "metrics":
            points.extend(data["points"])
        elif fields.get("event") == "end":
            end = data
    return start, changes, points, end


def record_from_frames(run_id: str, demo: str, status: str, params: dict, frames: list[bytes]) -> RunRecord:
    """`params` are the run's current shown ones (live changes included); the script starts from
    those of its `start` event. A change made before the start event is in both, applied at step
    0: replaying it changes nothing."""
    start, changes, points, end = read_frames(frames)
    return RunRecord(
        id=run_id,
        demo=demo,
        status=(end or {}).get("status", status),
        params=start["params"] if start else params,
        changes=changes,
        columns=csv_columns(points),
        last_step=points[-1]["step"] if points else None,
        finished=end is not None,
        message=(end or {}).get("message", ""),
    )


def csv_columns(points: list[dict]) -> list[str]:
    """Export CSV's header for these points: step, series if any point has one, then every other
    key in order of first appearance."""
    columns = dict.fromkeys(["step", "series"] if any(p.get("series") is not None for p in points) else ["step"])
    for point in points:
        columns.update(dict.fromkeys(point))
    return list(columns)


def columns_for(demo: Demo, run: RunRecord) -> list[str]:
    """The CSV header: a finished run's own columns, as Export CSV has them; a run still going may
    yet log any key the demo charts, so those follow."""
    if run.finished and run.columns:
        return run.columns
    keys = dict.fromkeys(run.columns or ["step", "series", "loss"])
    for chart in demo.charts:
        keys.update(dict.fromkeys((chart.x, *chart.y, *chart.x_choices)))
    keys.update(dict.fromkeys(demo.feeds))
    return list(keys)
