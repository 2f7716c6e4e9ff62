"""Finished runs in SQLite, so a shared link still shows its curve after a restart."""

from __future__ import annotations

import gzip
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.playground.events import Event

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    demo TEXT NOT NULL,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    summary TEXT NOT NULL,
    created REAL NOT NULL,
    finished REAL NOT NULL,
    events BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_finished ON runs (finished);
"""


@dataclass(frozen=True)
class StoredRun:
    id: str
    demo: str
    status: str
    params: dict[str, Any]
    summary: dict[str, Any]
    created: float
    finished: float
    events: list[Event]


class RunStore:
    def __init__(self, path: Path, keep: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._keep = keep
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def save(self, run: StoredRun) -> None:
        blob = gzip.compress(json.dumps([e.to_json() for e in run.events], allow_nan=False).encode(), 5)
        row = (
            run.id,
            run.demo,
            run.status,
            json.dumps(run.params),
            json.dumps(run.summary),
            run.created,
            run.finished,
            blob,
        )
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            # Retention: keep only the newest `keep` runs.
            self._db.execute(
                "DELETE FROM runs WHERE id NOT IN (SELECT id FROM runs ORDER BY finished DESC LIMIT ?)",
                (self._keep,),
            )
            self._db.execute("COMMIT")

    def load(self, run_id: str) -> StoredRun | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        events = [Event.create(e["id"], e["event"], e["data"]) for e in json.loads(gzip.decompress(row[7]))]
        return StoredRun(row[0], row[1], row[2], json.loads(row[3]), json.loads(row[4]), row[5], row[6], events)

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
