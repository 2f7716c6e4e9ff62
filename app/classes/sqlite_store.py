"""Classes in SQLite, in the embedded engine's data folder (a file of their own beside the runs).
Calls are short and run in a thread, one at a time, so the event loop never waits on the disk."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from dataclasses import astuple
from pathlib import Path
from typing import Any

from app.classes.attempts import WrongCodes
from app.classes.records import ClassRecord, ClassRun, Student
from app.classes.store import KEEP_ENDED_SECONDS
from app.sqlite_file import open_private

SCHEMA = """
CREATE TABLE IF NOT EXISTS classes (
  code TEXT PRIMARY KEY, title TEXT NOT NULL, demo TEXT NOT NULL, teacher_hash TEXT NOT NULL,
  viewer_hash TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS students (
  code TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, token_hash TEXT NOT NULL, joined REAL NOT NULL,
  PRIMARY KEY (code, token_hash)
);
CREATE TABLE IF NOT EXISTS steering (code TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS class_runs (
  code TEXT NOT NULL, run_id TEXT NOT NULL, student_id TEXT NOT NULL, demo TEXT NOT NULL, created REAL NOT NULL,
  PRIMARY KEY (code, run_id)
);
"""


class SqliteClassStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self.wrong_codes = WrongCodes()  # the embedded engine has one web process: its memory sees every try

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = open_private(self.path)  # no -shm mapping to die of (SIGBUS) when the disk fails
        self._db.executescript(SCHEMA)
        await self._call(self._forget_old_classes)

    async def close(self) -> None:
        # Under the lock: closing the connection while another thread steps a query on it crashes the process
        # (CPython's sqlite3 frees the statement under the reader; seen as a segfault in CI at shutdown).
        def close_now() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        await self._call(close_now)

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the class store is not open")
        return self._db

    async def _call(self, work, *args: Any) -> Any:
        def locked() -> Any:
            with self._lock:
                return work(*args)

        return await asyncio.to_thread(locked)

    def _forget_old_classes(self) -> None:
        cutoff = time.time() - KEEP_ENDED_SECONDS
        with self.db:
            old = "SELECT code FROM classes WHERE expires < ?"
            for table in ("class_runs", "students", "steering"):
                self.db.execute(f"DELETE FROM {table} WHERE code IN ({old})", (cutoff,))
            self.db.execute("DELETE FROM classes WHERE expires < ?", (cutoff,))

    async def create(self, record: ClassRecord) -> bool:
        def insert() -> bool:
            try:
                self.db.execute("INSERT INTO classes VALUES (?, ?, ?, ?, ?, ?, ?)", astuple(record))
            except sqlite3.IntegrityError:
                return False
            return True

        return await self._call(insert)

    async def get(self, code: str) -> ClassRecord | None:
        def read() -> ClassRecord | None:
            row = self.db.execute("SELECT * FROM classes WHERE code = ?", (code,)).fetchone()
            return ClassRecord(*row) if row else None

        return await self._call(read)

    async def add_student(self, code: str, student: Student) -> None:
        sql = "INSERT INTO students (code, id, name, token_hash, joined) VALUES (?, ?, ?, ?, ?)"
        await self._call(self.db.execute, sql, (code, *astuple(student)))

    async def student(self, code: str, token_hash: str) -> Student | None:
        def read() -> Student | None:
            sql = "SELECT id, name, token_hash, joined FROM students WHERE code = ? AND token_hash = ?"
            row = self.db.execute(sql, (code, token_hash)).fetchone()
            return Student(*row) if row else None

        return await self._call(read)

    async def students(self, code: str) -> list[Student]:
        def read() -> list[Student]:
            sql = "SELECT id, name, token_hash, joined FROM students WHERE code = ? ORDER BY joined"
            return [Student(*row) for row in self.db.execute(sql, (code,))]

        return await self._call(read)

    async def add_run(self, code: str, run: ClassRun) -> None:
        sql = "INSERT OR IGNORE INTO class_runs (code, run_id, student_id, demo, created) VALUES (?, ?, ?, ?, ?)"
        await self._call(self.db.execute, sql, (code, *astuple(run)))

    async def runs(self, code: str) -> list[ClassRun]:
        def read() -> list[ClassRun]:
            sql = "SELECT run_id, student_id, demo, created FROM class_runs WHERE code = ? ORDER BY created, rowid"
            return [ClassRun(*row) for row in self.db.execute(sql, (code,))]

        return await self._call(read)

    async def steering(self, code: str) -> str | None:
        def read() -> str | None:
            row = self.db.execute("SELECT data FROM steering WHERE code = ?", (code,)).fetchone()
            return row[0] if row else None

        return await self._call(read)

    async def set_steering(self, code: str, steering: str) -> None:
        sql = "INSERT INTO steering VALUES (?, ?) ON CONFLICT (code) DO UPDATE SET data = excluded.data"
        await self._call(self.db.execute, sql, (code, steering))
