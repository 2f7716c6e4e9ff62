""" "Reproduce locally": every demo's downloaded script, run on its own, prints the run's points."""

from __future__ import annotations

import csv
import fcntl
import functools
import hashlib
import http.server
import importlib.util
import io
import math
import os
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from app.demos import load_demos
from app.playground.reproduce.runtime import cell
from app.settings import Settings
from tests.conftest import auth, points_of, read_events
from tests.unit.test_csv_format import export_csv

DEMOS = load_demos([])
TORCH_SITE = Path(importlib.util.find_spec("torch").origin).parents[1]
RELATIVE_TOLERANCE = 1e-6
"""On the server's machine and torch build the script prints the very same numbers; float32 work on
another CPU may round otherwise, so the comparison allows one part in a million."""
SHORT_RUNS = {"scaling-laws": {"tokens": 2048, "widths": [8, 16, 24]}}
"""Demos with no `steps` field: a sweep of three small models, 4 steps each."""


def few_steps(name: str) -> dict:
    fields = DEMOS[name].Params.model_fields
    paced = "pace" in fields
    # A paced run lasts about 2 s: long enough that the live change below lands mid-run even on
    # a loaded machine (at 5 steps it was sometimes over before the PATCH: a 409).
    least = 20 if paced else 5
    params = {key: max(least, lower_bound(fields[key])) for key in ("steps", "generations") if key in fields}
    if paced:
        params["pace"] = 10
    return params | SHORT_RUNS.get(name, {})


def lower_bound(field) -> int:
    return max((getattr(rule, "ge", 0) for rule in field.metadata), default=0)


def live_change(name: str) -> dict:
    """A change to the first live field that trains differently (not pace), and full speed."""
    demo, params = DEMOS[name], DEMOS[name].Params()
    for key in sorted(demo.live - {"pace"}):
        value = getattr(params, key)
        if isinstance(value, float) and not isinstance(value, bool):
            return {key: value * 0.5, "pace": 0}
        if isinstance(value, int) and not isinstance(value, bool):
            return {key: max(1, value // 2), "pace": 0}
    return {"pace": 0}


def run_script(client, run_id: str, tmp_path, artifacts: Path | None = None) -> list[list[str]]:
    """The run's script, run on its own; `artifacts`: a folder of its own, where it rebuilds them."""
    done = script_process(client, run_id, tmp_path, "--artifacts", str(artifacts or Settings().artifacts_dir))
    assert done.returncode == 0, done.stderr[-3000:]
    if "--server" not in done.args and "# artifact" in done.stderr:  # rebuilt or reused: the server's bytes
        assert "matches the server's" in done.stderr and "WARNING" not in done.stderr, done.stderr[-3000:]
    return list(csv.reader(io.StringIO(done.stdout)))


def script_process(client, run_id: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    response = client.get(f"/api/runs/{run_id}/script.py")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/x-python")
    script = tmp_path / "reproduce.py"
    script.write_text(response.text)
    # Nothing of the project on the path: -S skips site-packages and so the project's editable
    # install; only the folder that holds torch (and its own dependencies) is put back.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(TORCH_SITE)}
    return subprocess.run(
        [sys.executable, "-S", str(script), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )


def read_back(written: str) -> str:
    """A CSV cell as csv.reader gives it back (unquoted)."""
    row = next(csv.reader([written]), [])
    return row[0] if row else ""


def assert_same(name: str, stored: list[dict], rows: list[list[str]]) -> int:
    """Every value of every point the same, but for the demo's machine metrics; returns how many
    values were compared."""
    header, body = rows[0], rows[1:]
    assert len(body) == len(stored)
    compared = 0
    for point, row in zip(stored, body, strict=True):
        for key, text in zip(header, row, strict=True):
            want = point.get(key)
            if key in DEMOS[name].machine_metrics:
                continue
            if isinstance(want, float):
                assert math.isclose(float(text), want, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12), (key, point)
            else:
                assert text == read_back(cell(want)), (key, point["step"])
            compared += key in point
    return compared


@pytest.fixture(scope="session")
def rebuilt_artifacts(tmp_path_factory, worker_id: str) -> Path:
    """One folder for the scripts' own builds of the prepared artifacts (10-25 s each), shared by
    the demos and by the test processes (pytest-xdist): whichever script comes first builds an
    artifact, the others find it built and check it all the same (see `building`)."""
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    folder = shared / "rebuilt-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


@contextmanager
def building(folder: Path, artifacts) -> Iterator[None]:
    """Holds each artifact's lock in `folder` (in one order: no deadlock): two scripts never build
    the same artifact side by side, in this process or another."""
    with ExitStack() as held:
        for artifact in sorted(artifacts, key=lambda a: a.filename):
            lock = held.enter_context((folder / f"{artifact.filename}.lock").open("w"))
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_script_reproduces_the_run(client, name, tmp_path, rebuilt_artifacts) -> None:
    """The script rebuilds the prepared artifacts itself (checking the server's hash), then every
    value of every point is the run's. The counts compared: pytest -s.

    The rebuild is also the check that an artifact is the same bytes on any thread count: set-up's
    `modelterms prepare` builds in a process on torch's default count (2 on a 2-core machine), the
    script on one (its runtime sets it). app/ml/reproducible.py holds every build to one thread;
    with that guard removed, charlm-base prepared on 2 threads had another SHA-256 and the lora
    script's hash check failed (measured). On a one-core machine both sides build on one thread."""
    run = client.post(f"/api/demos/{name}/runs", json=few_steps(name)).json()
    assert read_events(client, run["id"], limit=2)  # started
    assert client.patch(f"/api/runs/{run['id']}", json=live_change(name), headers=auth(run)).status_code == 200
    events = read_events(client, run["id"])
    assert events[-1]["data"]["status"] == "done"
    with building(rebuilt_artifacts, DEMOS[name].artifacts):
        rows = run_script(client, run["id"], tmp_path, rebuilt_artifacts)
    print(f"{name}: {assert_same(name, points_of(events), rows)} values compared")


def test_script_of_a_cancelled_run_stops_where_it_did(client, tmp_path) -> None:
    run = client.post("/api/demos/gradient-descent/runs", json={"steps": 400, "pace": 40}).json()
    read_events(client, run["id"], limit=3)
    client.delete(f"/api/runs/{run['id']}", headers=auth(run))
    events = read_events(client, run["id"])
    assert events[-1]["data"]["status"] == "cancelled"
    assert_same("gradient-descent", points_of(events), run_script(client, run["id"], tmp_path))


def test_script_of_a_stored_run_after_a_restart(tmp_path) -> None:
    from tests.conftest import running_app

    with running_app(tmp_path / "data") as client:
        run = client.post("/api/demos/gradient-descent/runs", json={"steps": 30, "pace": 0, "lr": 0.05}).json()
        events = read_events(client, run["id"])
    with running_app(tmp_path / "data") as client:
        script = client.get(f"/api/runs/{run['id']}/script.py").text
        assert "'lr': 0.05" in script and "Gradient descent on a surface" in script
        assert_same("gradient-descent", points_of(events), run_script(client, run["id"], tmp_path))


def test_unknown_run_has_no_script(client) -> None:
    assert client.get("/api/runs/nope/script.py").status_code == 404


def test_script_of_every_state_on_both_backends_never_holds_a_withheld_text(backend, tmp_path) -> None:
    """Queued (no `start` event yet), running, cancelled and still in memory: the script is served
    on either backend, and a reader's withheld text is in none of them."""
    from tests.conftest import running_app

    text = f"{secrets.token_hex(8)} my private diary entry about kumquats and llamas. " * 12
    with running_app(tmp_path / "data", workers=1, runs_per_worker=1, **backend) as client:
        # One slot, taken by a slow run: the run on the reader's text waits in the queue.
        blocker = client.post("/api/demos/gradient-descent/runs", json={"steps": 2000, "pace": 1}).json()
        read_events(client, blocker["id"], limit=2)
        queued = client.post("/api/demos/pretraining/runs", json={"text": text, "steps": 4, "pace": 0}).json()
        assert client.get(f"/api/runs/{queued['id']}").json()["status"] == "queued"
        scripts = [client.get(f"/api/runs/{run['id']}/script.py") for run in (blocker, queued)]
        client.delete(f"/api/runs/{queued['id']}", headers=auth(queued))
        client.delete(f"/api/runs/{blocker['id']}", headers=auth(blocker))
        assert read_events(client, blocker["id"])[-1]["data"]["status"] == "cancelled"
        scripts += [client.get(f"/api/runs/{run['id']}/script.py") for run in (blocker, queued)]
    for response in scripts:
        assert response.status_code == 200, response.text
        assert "kumquats" not in response.text and text[:16] not in response.text
    assert "'pace': 1" in scripts[0].text and "'text': None" in scripts[1].text
    assert "not included" in scripts[1].text and "not included" in scripts[3].text


def test_a_prepared_artifact_is_served_by_its_file_name_with_the_servers_hash(client) -> None:
    from app.demos.artifacts import ArtifactStore

    teacher = DEMOS["distillation"].artifacts[0]
    store = ArtifactStore(Settings().artifacts_dir)
    store.ensure(teacher)
    served = client.get(f"/api/artifacts/{teacher.filename}")
    assert served.status_code == 200 and hashlib.sha256(served.content).hexdigest() == store.checksum(teacher)
    assert client.get("/api/artifacts/distill-teacher-0000000000000000.pt").status_code == 404
    assert client.get("/api/artifacts/..%2Fruns.sqlite3").status_code == 404


@contextmanager
def serving(folder: Path) -> Iterator[str]:
    """A plain file server over `folder`: stands in for the server's /api/artifacts/ for the script."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


def test_with_server_the_script_fetches_the_artifact_and_checks_its_hash(client, tmp_path) -> None:
    run = client.post("/api/demos/distillation/runs", json={"steps": 5, "pace": 0}).json()
    events = read_events(client, run["id"])
    teacher = DEMOS["distillation"].artifacts[0]
    site = tmp_path / "site"
    (site / "api" / "artifacts").mkdir(parents=True)
    shutil.copy(Settings().artifacts_dir / teacher.filename, site / "api" / "artifacts" / teacher.filename)
    with serving(site) as url:
        done = script_process(client, run["id"], tmp_path, "--artifacts", str(tmp_path / "mine"), "--server", url)
        assert done.returncode == 0, done.stderr[-3000:]
        assert f"fetched from {url}" in done.stderr and "matches the server's" in done.stderr
        assert_same("distillation", points_of(events), list(csv.reader(io.StringIO(done.stdout))))
        assert done.stdout == export_csv(points_of(events))  # the panel's Export CSV, byte for byte
        (site / "api" / "artifacts" / teacher.filename).write_bytes(b"not the teacher")
        refused = script_process(client, run["id"], tmp_path, "--artifacts", str(tmp_path / "mine"), "--server", url)
    assert refused.returncode != 0 and f"fetched from {url} has SHA-256" in refused.stderr


def test_the_scripts_docstring_runs_it_by_the_name_it_is_served_under(client) -> None:
    run = client.post("/api/demos/gradient-descent/runs", json={"steps": 5, "pace": 0}).json()
    read_events(client, run["id"])
    response = client.get(f"/api/runs/{run['id']}/script.py")
    name = f"modelterms-{run['id']}.py"
    assert f'filename="{name}"' in response.headers["content-disposition"]
    assert f"    python {name} > points.csv\n" in response.text.split('"""')[1]
