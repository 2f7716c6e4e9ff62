"""The run store: accepted runs, finished runs, replay from encoded frames, start-up repair."""

from __future__ import annotations

import gzip
import json
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from app.playground.core.events import Event
from app.playground.embedded.store import RunStore, StoredRun, StoreError
from app.settings import ROOT
from app.sqlite_file import FileInUse, open_private


def record(run_id: str, status: str = "queued", created: float = 1.0) -> StoredRun:
    return StoredRun(run_id, "counter", status, {"lr": 0.1}, {}, created, None, None, 0)


def event_data(n: int) -> list[dict]:
    """A run of n events as the first layout stored them (id, event, data)."""
    made = [{"id": 1, "event": "start", "data": {"params": {"lr": 0.1}}}]
    made += [
        {"id": i, "event": "metrics", "data": {"points": [{"step": i - 2, "loss": 1 / i, "note": "a\nb"}]}}
        for i in range(2, n)
    ]
    return [
        *made,
        {"id": n, "event": "end", "data": {"status": "done", "message": "", "step": n - 3, "summary": {"x": 1}}},
    ]


def events(n: int) -> list[Event]:
    return [Event.create(e["id"], e["event"], e["data"]) for e in event_data(n)]


def test_an_accepted_run_is_visible_before_it_ends(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite3", keep=10)
    store.accept(record("a"))
    stored = store.status("a")
    assert stored.status == "queued" and stored.params == {"lr": 0.1} and stored.event_count == 0
    assert store.replay("a") == []


def test_a_finished_run_answers_from_columns_and_replays_its_exact_frames(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite3", keep=10)
    store.accept(record("a"))
    log = events(50)
    done = StoredRun("a", "counter", "done", {"lr": 0.2}, {"x": 1}, 1.0, 2.0, 47, 0)
    store.finish(done, log)
    stored = store.status("a")
    assert (stored.status, stored.step, stored.event_count, stored.summary) == ("done", 47, 50, {"x": 1})
    frames = store.replay("a")
    assert frames == [e.sse for e in log]  # a newline inside the data is escaped, so frames split cleanly
    assert store.replay("a") is frames  # the second reader gets the cached frames


def test_runs_active_at_a_crash_are_failed_at_start_up(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite3", keep=10)
    store.accept(record("a", "running"))
    store.finish(StoredRun("b", "counter", "done", {}, {}, 1.0, 2.0, 3, 0), events(5))
    store.close()
    again = RunStore(tmp_path / "runs.sqlite3", keep=10)
    assert again.fail_interrupted("The server stopped during this run.") == 1
    assert again.status("a").status == "failed" and again.status("b").status == "done"
    (end,) = again.replay("a")
    assert b"event: end" in end and b"The server stopped during this run." in end


def test_retention_keeps_the_newest_runs(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite3", keep=2)
    for i, run_id in enumerate("abc"):
        store.finish(StoredRun(run_id, "counter", "done", {}, {}, float(i), float(i), 1, 0), events(3))
    assert store.count() == 2 and store.status("a") is None


def test_retention_keeps_the_runs_that_ended_last_and_every_active_one(tmp_path: Path) -> None:
    """As on the Redis backend: a long run created first but ended last is kept; a run still
    training keeps its permalink however many runs end meanwhile."""
    store = RunStore(tmp_path / "runs.sqlite3", keep=2)
    store.accept(record("training", created=0.0))
    ends = {"long": (1.0, 9.0), "short": (2.0, 3.0), "shorter": (3.0, 4.0)}  # id: (created, finished)
    for run_id, (created, finished) in ends.items():
        store.finish(StoredRun(run_id, "counter", "done", {}, {}, created, finished, 1, 0), events(3))
    assert store.status("short") is None
    assert {r for r in ("long", "shorter", "training") if store.status(r)} == {"long", "shorter", "training"}


def test_a_store_of_the_first_layout_is_moved_to_the_new_one(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite3"
    log = event_data(6)
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE runs (id TEXT PRIMARY KEY, demo TEXT, status TEXT, params TEXT, summary TEXT, "
            "created REAL, finished REAL, events BLOB)"
        )
        blob = gzip.compress(json.dumps(log).encode())
        db.execute("INSERT INTO runs VALUES ('old', 'counter', 'done', '{}', '{}', 1.0, 2.0, ?)", (blob,))
    store = RunStore(path, keep=10)
    assert store.status("old").step == 3 and store.replay("old") == [e.sse for e in events(6)]


def test_a_data_dir_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match="cannot open the run store"):
        RunStore(tmp_path / "file" / "runs.sqlite3", keep=10)


def test_one_clients_flood_of_runs_pushes_out_only_its_own(tmp_path: Path) -> None:
    """keep 5, of one client 2: the flood's own oldest go; the other client's run stays."""
    store = RunStore(tmp_path / "runs.sqlite3", keep=5, keep_per_client=2)
    store.finish(StoredRun("teacher", "counter", "done", {}, {}, 0.0, 0.0, 1, 0), events(3), client="10.0.0.1")
    for i in range(1, 40):
        store.finish(StoredRun(f"f{i}", "counter", "done", {}, {}, i, i, 1, 0), events(3), client="10.0.0.66")
    kept = {r for r in ["teacher", *(f"f{i}" for i in range(1, 40))] if store.status(r)}
    assert kept == {"teacher", "f38", "f39"}


def test_a_store_from_before_clients_gains_the_column_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE run_records (id TEXT PRIMARY KEY, demo TEXT NOT NULL, status TEXT NOT NULL, "
            "params TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '{}', created REAL NOT NULL, finished REAL, "
            "step INTEGER, event_count INTEGER NOT NULL DEFAULT 0, frames BLOB)"
        )
        db.execute("INSERT INTO run_records (id, demo, status, params, created) VALUES ('a', 'c', 'done', '{}', 1)")
    store = RunStore(path, keep=10, keep_per_client=1)
    store.finish(StoredRun("b", "counter", "done", {}, {}, 2.0, 2.0, 1, 0), events(3), client="x")
    assert store.status("a").status == "done" and store.status("b").status == "done"


# Writes a WAL database, cuts its shared index file (-shm) to nothing, as a full or failing disk
# can, and writes again. Run as its own process: the failure it shows is that process's death.
CUT_SHORT = """
import os, sqlite3, sys
from pathlib import Path
from app.sqlite_file import open_private
path = Path(sys.argv[1])
db = open_private(path) if sys.argv[2] == "private" else sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE t (a)")
db.execute("INSERT INTO t VALUES (1)")
shm = Path(f"{path}-shm")
print(shm.exists(), flush=True)
if shm.exists():
    os.truncate(shm, 0)
db.execute("INSERT INTO t VALUES (2)")
print(db.execute("SELECT count(*) FROM t").fetchone()[0])
"""


@pytest.mark.parametrize("opening", ["shared", "private"])
def test_a_wal_index_cut_short_kills_its_process_unless_it_is_private_as_the_stores_open_theirs(
    tmp_path: Path, opening: str
) -> None:
    """A plain WAL connection maps the -shm file and dies of SIGBUS when it shrinks (the server died
    so, the whole site with it); the stores' connection keeps the index in memory and has no file."""
    done = subprocess.run(
        [sys.executable, "-c", CUT_SHORT, str(tmp_path / "runs.sqlite3"), opening],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        check=False,
    )
    if opening == "shared":
        assert done.returncode == -signal.SIGBUS and done.stdout.split() == ["True"], done
    else:
        assert done.returncode == 0 and done.stdout.split() == ["False", "2"], done


def test_a_store_another_server_holds_is_refused_saying_so(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite3", keep=10)
    store.accept(record("a"))
    with pytest.raises(FileInUse, match="open in another process"):
        open_private(tmp_path / "runs.sqlite3", wait=0.05)
    store.close()
    open_private(tmp_path / "runs.sqlite3", wait=0.05).close()  # free once the first let go


def metrics(first: int, count: int) -> list[Event]:
    return [
        Event.create(i, "metrics", {"points": [{"step": i - 1, "loss": 1 / i}]}) for i in range(first, first + count)
    ]


def test_a_run_cut_off_keeps_the_events_saved_while_it_ran_and_ends_after_them(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite3", keep=10)
    store.accept(record("a"))
    running = record("a", "running")
    store.save_progress([(running, 1, metrics(1, 3))])
    store.save_progress([(replace(running, step=5), 4, metrics(4, 3))])
    assert store.status("a").event_count == 6 and store.status("a").step == 5
    store.close()
    again = RunStore(tmp_path / "runs.sqlite3", keep=10)
    assert again.fail_interrupted("The server stopped during this run.") == 1
    *kept, end = again.replay("a")
    assert kept == [e.sse for e in metrics(1, 6)]
    assert end.startswith(b"id: 7\nevent: end\n") and b'"step":5' in end and b"The server stopped" in end
    assert again.status("a").status == "failed" and again.status("a").event_count == 7


def test_a_save_that_was_lost_ends_the_kept_curve_before_its_gap(tmp_path: Path) -> None:
    """Events 4-6 were never saved (the disk was full then): 7-9 cannot follow 3, so they go too."""
    store = RunStore(tmp_path / "runs.sqlite3", keep=10)
    store.accept(record("a"))
    store.save_progress([(record("a", "running"), 1, metrics(1, 3)), (record("a", "running"), 7, metrics(7, 3))])
    store.fail_interrupted("cut")
    *kept, end = store.replay("a")
    assert kept == [e.sse for e in metrics(1, 3)] and end.startswith(b"id: 4\nevent: end\n")


def test_a_run_that_ended_is_stored_whole_and_later_progress_does_not_touch_it(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite3", keep=10)
    store.accept(record("a"))
    store.save_progress([(record("a", "running"), 1, metrics(1, 3))])
    store.finish(StoredRun("a", "counter", "done", {}, {}, 1.0, 2.0, 3, 0), events(5))
    store.save_progress([(record("a", "running"), 4, metrics(4, 3))])  # queued before the end was known
    assert store.status("a").status == "done" and store.replay("a") == [e.sse for e in events(5)]
    assert store.fail_interrupted("cut") == 0
    store.close()
    with closing(sqlite3.connect(tmp_path / "runs.sqlite3")) as db:  # read once the store let go of the file
        assert db.execute("SELECT COUNT(*) FROM run_progress").fetchone() == (0,)  # the chunks went
