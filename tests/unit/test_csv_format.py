"""The script's CSV is written as the panel's Export CSV writes it: checked against the panel's own
JavaScript (tools.js, run by the Node that set-up puts in the venv)."""

from __future__ import annotations

import json
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

from app.playground.reproduce.record import csv_columns
from app.playground.reproduce.runtime import csv_line, js_number
from app.settings import ROOT

NODE = str(Path(sys.executable).parent / "node") if (Path(sys.executable).parent / "node").exists() else "node"
TOOLS = ROOT / "static" / "js" / "playground" / "tools.js"


def node(script: str, data: object) -> str:
    assert shutil.which(NODE), "set-up puts node in the venv"
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script], input=json.dumps(data), capture_output=True, text=True, check=True
    )
    return done.stdout


def export_csv(points: list[dict]) -> str:
    """What Export CSV downloads for these points."""
    script = f"import {{pointsCsv}} from {json.dumps(TOOLS.as_uri())}; import fs from 'fs';"
    return node(script + "process.stdout.write(pointsCsv(JSON.parse(fs.readFileSync(0, 'utf8'))))", points)


def script_csv(points: list[dict]) -> str:
    """What the script prints for them: its header, then a line per point."""
    columns = csv_columns(points)
    return "".join(csv_line(columns, p) + "\n" for p in [dict(zip(columns, columns, strict=True)), *points])


def test_numbers_are_written_as_javascript_writes_them() -> None:
    rng = random.Random(1)
    xs = [0.0, -0.0, 1.0, -1.0, 0.1, 1e21, 1e20, 1e-7, 1.5e-7, 1e-6, 1.234e-6, 5e-324, 1.7976931348623157e308]
    xs += [2.5, 100.0, 1e16, 1.2345e-5, 3, 2**53 + 2, 0.30000000000000004]
    xs += [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(3000)]
    xs += [rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30) for _ in range(3000)]
    xs = [x for x in xs if x == x and abs(x) != float("inf")]
    javascript = json.loads(
        node(
            "import fs from 'fs'; const xs = JSON.parse(fs.readFileSync(0, 'utf8'));"
            "process.stdout.write(JSON.stringify(xs.map(String)))",
            xs,
        )
    )
    assert [js_number(x) for x in xs] == javascript


def test_the_script_csv_and_export_csv_are_the_same_bytes() -> None:
    points = [
        {"step": 0, "series": None, "loss": 0.1, "lr": 1e-7, "tag": 'a,"b"', "v": [1.0, 2.5e-8], "ok": True},
        {"step": 1, "series": "lora", "loss": 2.0, "extra": None, "text": "line\nbreak", "d": {"é": 1e21}},
        {"step": 2, "series": "full", "loss": 3.25e-5, "grad_norms": [0.5, 1e-9, 12.0], "diverged": False},
    ]
    assert script_csv(points) == export_csv(points)
