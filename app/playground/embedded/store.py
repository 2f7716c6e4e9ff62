"""Runs in SQLite: stored when accepted, completed when they end, so a shared link still works
after a restart and a run in flight when the server died is reported, not lost.

While a run lasts, its new events are saved every few seconds as a chunk of frames of their own
(`run_progress`): each save costs what is new, not the whole run again. A run that ends is
written whole and its chunks go; a run the server died under is ended at the next start from its
chunks, so its link replays the curve up to the last save and then says what happened.

What a status answer needs (status, params, summary, step, event count) are columns; the events
are kept as their encoded Server-Sent Events frames (gzip), so a replay is decompress-and-split,
with no JSON parsing, and the frames of recently replayed runs are cached. Every method blocks:
the engine calls them in threads, never on the event loop.
"""

from __future__ import annotations

import gzip
import json
import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.playground.core.events import Event, finite_json
from app.playground.core.interface import ACTIVE, StoredRun
from app.sqlite_file import FileInUse, open_private

log = logging.getLogger("modelterms.store")

SCHEMA = """
CREATE TABLE IF NOT EXISTS run_records (
    id TEXT PRIMARY KEY,
    demo TEXT NOT NULL,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL,
    finished REAL,
    step INTEGER,
    event_count INTEGER NOT NULL DEFAULT 0,
    frames BLOB,
    client TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS run_records_created ON run_records (created);
CREATE TABLE IF NOT EXISTS run_progress (
    id TEXT NOT NULL,
    first INTEGER NOT NULL,
    frames BLOB NOT NULL,
    PRIMARY KEY (id, first)
);
"""
CLIENT_INDEX = "CREATE INDEX IF NOT EXISTS run_records_client ON run_records (client)"
REPLAY_CACHE_RUNS = 16
FRAME_END = b"\n\n"  # every SSE frame ends so, and JSON data never holds a raw newline


class StoreError(RuntimeError):
    """The run store cannot be opened or written (a read-only or full data dir, say)."""


class RunStore:
    def __init__(self, path: Path, keep: int, keep_per_client: int | None = None) -> None:
        self._keep = keep
        self._keep_per_client = keep_per_client or keep
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, list[bytes]] = OrderedDict()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = open_private(path)  # no -shm mapping to die of (SIGBUS) when the disk fails
            # A file damaged past its header opens fine and fails at the first read of a bad page,
            # mid-start or mid-stream: checked here, it is one clear refusal instead.
            verdict = self._db.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise StoreError(
                    f"the run store {path} is damaged ({verdict}); move it aside to start with an empty "
                    "store (kept runs' links will not work), or put back a copy"
                )
            self._db.executescript(SCHEMA)
            self._migrate_version_2()  # first: moving version 1's runs writes the client column
            self._migrate_version_1()
        except FileInUse as error:
            raise StoreError(f"cannot open the run store: {error}; stop it first") from None
        except sqlite3.DatabaseError as error:
            raise StoreError(
                f"the run store {path} is damaged or not a run store ({error}); move it aside to start with an "
                "empty store (kept runs' links will not work), or put back a copy"
            ) from None
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"cannot open the run store {path}: {error}") from None

    # --- writes ------------------------------------------------------------------------------
    def accept(self, run: StoredRun) -> None:
        """A run the engine has just accepted: permalinks work from this moment on."""
        row = (run.id, run.demo, run.status, json.dumps(run.params), run.created)
        self._write(
            "INSERT OR REPLACE INTO run_records (id, demo, status, params, created) VALUES (?, ?, ?, ?, ?)", row
        )

    def finish(self, run: StoredRun, events: list[Event], client: str = "") -> None:
        """A run that ended, with every event it had. The `keep` runs that ended last stay, as on the
        Redis backend, and of them at most `keep_per_client` of one client's (its own oldest go
        first, so one client's flood of runs cannot push out everyone else's); a run still
        active is never dropped."""
        frames = gzip.compress(b"".join(e.sse for e in events), 5)
        row = (
            run.demo,
            run.status,
            json.dumps(run.params),
            json.dumps(finite_json(run.summary), allow_nan=False),  # a diverged series' NaN: null, as in its events
            run.created,
            run.finished,
            run.step,
            len(events),
            frames,
            client,
            run.id,
        )
        with self._lock, self._transaction():
            cursor = self._db.execute(
                "UPDATE run_records SET demo=?, status=?, params=?, summary=?, created=?, finished=?, step=?, "
                "event_count=?, frames=?, client=? WHERE id=?",
                row,
            )
            if cursor.rowcount == 0:
                self._db.execute(
                    "INSERT INTO run_records (demo, status, params, summary, created, finished, step, "
                    "event_count, frames, client, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
            self._db.execute("DELETE FROM run_progress WHERE id = ?", (run.id,))  # the whole run is in frames
            ended = f"status NOT IN ({','.join('?' * len(ACTIVE))})"
            mine = f"client = ? AND {ended}"
            self._db.execute(
                f"DELETE FROM run_records WHERE {mine} AND id NOT IN "
                f"(SELECT id FROM run_records WHERE {mine} ORDER BY COALESCE(finished, created) DESC LIMIT ?)",
                (client, *ACTIVE, client, *ACTIVE, self._keep_per_client),
            )
            self._db.execute(
                f"DELETE FROM run_records WHERE {ended} AND id NOT IN "
                f"(SELECT id FROM run_records WHERE {ended} ORDER BY COALESCE(finished, created) DESC LIMIT ?)",
                (*ACTIVE, *ACTIVE, self._keep),
            )

    def save_progress(self, runs: list[tuple[StoredRun, int, list[Event]]]) -> None:
        """Active runs' new events, each (record, id of its first new event, the events), in one
        transaction. A run that has ended since is left as its end wrote it."""
        active = f"status IN ({','.join('?' * len(ACTIVE))})"
        with self._lock, self._transaction():
            for run, first, events in runs:
                saved = self._db.execute(
                    f"UPDATE run_records SET status=?, step=?, event_count=? WHERE id=? AND {active}",
                    (run.status, run.step, first + len(events) - 1, run.id, *ACTIVE),
                )
                if saved.rowcount:
                    self._db.execute(
                        "INSERT OR REPLACE INTO run_progress (id, first, frames) VALUES (?, ?, ?)",
                        (run.id, first, gzip.compress(b"".join(e.sse for e in events), 5)),
                    )

    def fail_interrupted(self, message: str) -> int:
        """At start-up: runs stored as active were cut off when the server stopped. Each ends as
        failed after the events saved while it ran (up to the first gap: a save that failed)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT id, step FROM run_records WHERE status IN ({','.join('?' * len(ACTIVE))})", ACTIVE
            ).fetchall()
        for run_id, step in rows:
            with self._lock:
                chunks = self._db.execute(
                    "SELECT first, frames FROM run_progress WHERE id = ? ORDER BY first", (run_id,)
                ).fetchall()
            kept: list[bytes] = []
            count = 0
            for first, chunk in chunks:
                if first != count + 1:
                    break
                kept.append(gzip.decompress(chunk))
                count += kept[-1].count(FRAME_END)
            end: dict[str, Any] = {"status": "failed", "message": message, "step": step if count else None}
            kept.append(Event.create(count + 1, "end", end | {"summary": {}}).sse)
            with self._lock, self._transaction():
                self._db.execute(
                    "UPDATE run_records SET status='failed', event_count=?, frames=?, "
                    "finished=strftime('%s','now') WHERE id=?",
                    (count + 1, gzip.compress(b"".join(kept), 5), run_id),
                )
                self._db.execute("DELETE FROM run_progress WHERE id = ?", (run_id,))
        return len(rows)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT, rolled back on any error; the caller holds the lock."""
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _write(self, sql: str, args: tuple) -> None:
        with self._lock:
            self._db.execute(sql, args)

    # --- reads -------------------------------------------------------------------------------
    def status(self, run_id: str) -> StoredRun | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, demo, status, params, summary, created, finished, step, event_count "
                "FROM run_records WHERE id = ?",
                (run_id,),
            ).fetchone()
        if row is None:
            return None
        return StoredRun(row[0], row[1], row[2], json.loads(row[3]), json.loads(row[4]), *row[5:])

    def replay(self, run_id: str) -> list[bytes]:
        """The run's SSE frames in order (frame i is event i + 1); cached for the next reader."""
        with self._lock:
            frames = self._cache.get(run_id)
            if frames is not None:
                self._cache.move_to_end(run_id)
                return frames
            row = self._db.execute("SELECT frames FROM run_records WHERE id = ?", (run_id,)).fetchone()
        if row is None or row[0] is None:
            return []
        frames = [f + FRAME_END for f in gzip.decompress(row[0]).split(FRAME_END) if f]
        with self._lock:
            self._cache[run_id] = frames
            while len(self._cache) > REPLAY_CACHE_RUNS:
                self._cache.popitem(last=False)
        return frames

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM run_records").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _migrate_version_2(self) -> None:
        """Stores written before runs were kept per client: their runs count as one client's, ''."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(run_records)")}
        if "client" not in columns:
            self._db.execute("ALTER TABLE run_records ADD COLUMN client TEXT NOT NULL DEFAULT ''")
        self._db.execute(CLIENT_INDEX)

    def _migrate_version_1(self) -> None:
        """Stores written before run_records kept every event as JSON in a table `runs`."""
        old = self._db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='runs'").fetchone()
        if old is None:
            return
        moved = 0
        rows = self._db.execute("SELECT id, demo, status, params, summary, created, finished, events FROM runs")
        for row in rows.fetchall():
            raw = json.loads(gzip.decompress(row[7]))
            events = [Event.create(e["id"], e["event"], e["data"]) for e in raw]
            step = next((e["data"].get("step") for e in reversed(raw) if e["event"] == "end"), None)
            record = StoredRun(row[0], row[1], row[2], json.loads(row[3]), json.loads(row[4]), row[5], row[6], step, 0)
            self.finish(record, events)
            moved += 1
        self._db.execute("DROP TABLE runs")
        log.info("run store: moved %d runs to the new layout", moved)
