"""What a class store keeps: a class, its students and the runs they started (the runs' tags)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClassRecord:
    code: str
    title: str
    demo: str
    teacher_hash: str
    """SHA-256 of the teacher token: the store never holds a token that would let its reader in."""
    viewer_hash: str
    """SHA-256 of the projector link's token: the board, read-only, names hidden."""
    created: float
    expires: float

    def ended(self, now: float) -> bool:
        return now >= self.expires


@dataclass(frozen=True)
class Student:
    id: str
    name: str
    token_hash: str
    joined: float


@dataclass(frozen=True)
class ClassRun:
    """A run tagged with its class and student."""

    run_id: str
    student_id: str
    demo: str
    created: float
