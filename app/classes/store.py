"""Where classes are kept: one protocol, two stores (SQLite beside the embedded engine, Redis
beside the scale-out backend), chosen as the run engine is, so a class lives where its runs live."""

from __future__ import annotations

from typing import Protocol

from app.classes.attempts import WrongCodeCounter
from app.classes.records import ClassRecord, ClassRun, Student

KEEP_ENDED_SECONDS = 7 * 24 * 3600
"""An ended class's board and roster stay this long (its runs stay as long as any run)."""


class ClassStore(Protocol):
    # A read-only property, not a plain attribute: each store holds its own counter type, and a
    # settable attribute in a protocol would have to accept any WrongCodeCounter.
    @property
    def wrong_codes(self) -> WrongCodeCounter:
        """Wrong codes per address, counted where the classes are, so every replica sees one count."""
        ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def create(self, record: ClassRecord) -> bool:
        """False when the code is taken (the caller draws another)."""
        ...

    async def get(self, code: str) -> ClassRecord | None: ...

    async def add_student(self, code: str, student: Student) -> None: ...

    async def student(self, code: str, token_hash: str) -> Student | None: ...

    async def students(self, code: str) -> list[Student]: ...

    async def add_run(self, code: str, run: ClassRun) -> None: ...

    async def runs(self, code: str) -> list[ClassRun]:
        """In the order they were started."""
        ...

    async def steering(self, code: str) -> str | None:
        """The teacher's preset and pinned reference, as the JSON of a models.Steering."""
        ...

    async def set_steering(self, code: str, steering: str) -> None: ...
