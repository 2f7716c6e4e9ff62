"""What a downloaded script runs (its source travels inside the script, as app.playground.reproduce.runtime):
replay a run's params and live changes against the demo's own training module, print every
metric point as CSV, and check any prepared artifact against the server's hash.

The script passes `main` a plain dict (`Replay`): the run as the server recorded it.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import types
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

import torch

from app.demos.artifacts import Artifact, ArtifactStore, file_sha256, resolve
from app.demos.divergence import diverged


class Replay(TypedDict):
    train: str
    """'app.training.<name>:train'."""
    params: dict[str, Any]
    changes: list[tuple[int, dict[str, Any]]]
    """(step, changes): each applies from that step on, as on the server."""
    columns: list[str]
    stop_after_step: int | None
    loss_bound: float | None
    """A loss past it ends the run as diverged; None: only a non-finite loss does."""
    machine_metrics: list[str]
    """Columns that measure this machine (wall time, speed): they differ from the run's."""
    artifact_sha256: dict[str, str | None]
    """The server's SHA-256 of each prepared artifact's file (None: not known when it was made)."""


class ReplayControl:
    """The `Control` the demo trains against: params with the live changes applied so far."""

    def __init__(self, replay: Replay, artifacts: ArtifactStore, server: str | None) -> None:
        self.params = types.SimpleNamespace(**replay["params"])
        self.device = "cpu"
        self.store = artifacts
        self.server = server
        self.expected = replay["artifact_sha256"]

    def change(self, **changes: Any) -> None:
        self.params = types.SimpleNamespace(**{**vars(self.params), **changes})

    def announce(self, **facts: Any) -> None:
        print("# start:", json.dumps(facts, default=str), file=sys.stderr)

    def artifact(self, artifact: Artifact) -> Path:
        """Fetched from the server (--server) or built from its recipe, then checked against the
        server's SHA-256; says on stderr which it did and how the check went."""
        path = self.store.path(artifact)
        if self.server:
            how = f"fetched from {self.server}"
            fetch(f"{self.server.rstrip('/')}/api/artifacts/{artifact.filename}", path)
        else:
            how = "built earlier from its recipe" if self.store.ready(artifact) else "built from its recipe"
            self.store.ensure(artifact, lambda done, total: building(artifact, done, total))
        digest, expected = file_sha256(path), self.expected.get(artifact.filename)
        if expected is None:
            print(f"# artifact {artifact.title}: {how}; the server's SHA-256 unknown, not checked", file=sys.stderr)
        elif digest == expected:
            print(f"# artifact {artifact.title}: {how}; SHA-256 {digest} matches the server's", file=sys.stderr)
        elif self.server:
            sys.exit(f"{artifact.title} fetched from {self.server} has SHA-256 {digest}, not {expected}")
        else:
            print(
                f"# artifact {artifact.title} WARNING: {how}, it has SHA-256 {digest}, the server's has {expected}:"
                " another CPU type or PyTorch version; the numbers will differ. --server URL fetches the server's.",
                file=sys.stderr,
            )
        return path


def building(artifact: Artifact, done: int, total: int) -> None:
    print(f"building {artifact.title}: {done}/{total}", file=sys.stderr, end="\r")


def fetch(url: str, path: Path) -> None:
    """Download `url` to `path` (through a temporary file: a cut download is never left in place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as file:
        shutil.copyfileobj(response, file)
    partial.replace(path)


# The CSV is written exactly as the panel's Export CSV writes it (static/js/playground/tools.js),
# so the two files of one run can be compared byte for byte: numbers as JavaScript's String(x),
# lists and objects as JSON.stringify, quoting only where RFC 4180 needs it.


def js_number(x: float) -> str:
    """A number as JavaScript's String(x) writes it: the shortest round-trip digits (those of
    Python's repr), fixed notation from 1e-7 up to 1e21, no '.0' on an integral value."""
    if isinstance(x, int) and abs(x) < 2**53:
        return str(x)
    x = float(x)
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    if x == 0:
        return "0"
    mantissa, _, exponent = repr(abs(x)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0").rstrip("0") or "0"
    if whole != "0":
        point = len(whole) + int(exponent or 0)  # the value is 0.d1d2... × 10^point
    else:
        point = int(exponent or 0) - (len(fraction) - len(fraction.lstrip("0")))
    sign, k = "-" if x < 0 else "", len(digits)
    if k <= point <= 21:
        body = digits + "0" * (point - k)
    elif 0 < point <= 21:
        body = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        body = "0." + "0" * -point + digits
    else:
        power = point - 1
        body = digits[0] + ("." + digits[1:] if k > 1 else "") + ("e+" if power >= 0 else "e-") + str(abs(power))
    return sign + body


def js_json(value: Any) -> str:
    """JSON.stringify(value): compact, non-ASCII as it is, numbers as js_number."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{js_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(js_json(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return js_number(value) if math.isfinite(value) else "null"
    return json.dumps(value, ensure_ascii=False)


def cell(value: Any) -> str:
    """One CSV cell, as Export CSV writes it; a missing value is empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = js_number(value)
    elif isinstance(value, str):
        text = value
    else:
        text = js_json(value)
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


def csv_line(columns: list[str], point: dict[str, Any]) -> str:
    """One row of the CSV: the point's value in each column."""
    return ",".join(cell(point.get(key)) for key in columns)


def replayed(replay: Replay, control: ReplayControl) -> Iterator[list[dict[str, Any]]]:
    """The run's points, a step at a time, with each live change applied from the step it
    applied from on the server; stops where the server's run stopped."""
    pending = list(replay["changes"])
    steps = resolve(replay["train"])(control.params, control)
    next_step = 0
    while True:
        while pending and pending[0][0] <= next_step:
            control.change(**pending.pop(0)[1])
        try:
            out = next(steps)
        except StopIteration as end:
            print("# summary:", json.dumps(end.value, default=str), file=sys.stderr)
            return
        points = out if isinstance(out, list) else [out]
        if not points:
            continue  # nothing logged: the server's step counter does not move either
        yield points
        next_step = points[-1]["step"] + 1
        bound = math.inf if replay["loss_bound"] is None else replay["loss_bound"]
        if all(diverged(point, bound) for point in points):
            print(f"# diverged at step {points[0]['step']}", file=sys.stderr)
            return
        stop = replay["stop_after_step"]
        if stop is not None and next_step > stop:
            return


def main(replay: Replay, description: str) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--artifacts", default="modelterms-artifacts", help="folder for prepared artifacts")
    parser.add_argument("--server", help="the server's URL: fetch its prepared artifacts instead of building them")
    args = parser.parse_args()
    torch.set_num_threads(1)  # the server trains each run on one thread: the same sums, the same bits
    if replay["machine_metrics"]:
        print(
            f"# {', '.join(replay['machine_metrics'])} measure this machine: they differ from the run's",
            file=sys.stderr,
        )
    control = ReplayControl(replay, ArtifactStore(Path(args.artifacts)), args.server)
    columns = replay["columns"]
    print(csv_line(columns, dict(zip(columns, columns, strict=True))))
    for points in replayed(replay, control):
        for point in points:
            print(csv_line(columns, point))
