"""Who a request is in a class: the teacher (the class's token, as a bearer header or the board's
cookie) or a joined student (the student token, as a header or the join page's cookie), and the
seat a student's run takes at admission."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import HTTPException, Request

from app.app_state import app_state
from app.classes.records import ClassRecord, ClassRun, Student
from app.classes.store import ClassStore
from app.classes.tokens import CODE, normal_code, split_student_token, token_hash, token_matches
from app.playground.core.interface import Seat

STUDENT_HEADER = "X-ModelTerms-Student"
STUDENT_COOKIE = "modelterms_student"


def teacher_cookie(code: str) -> str:
    return f"modelterms_teacher_{code}"


def viewer_cookie(code: str) -> str:
    return f"modelterms_viewer_{code}"


def class_store(request: Request) -> ClassStore:
    return app_state(request.app).classes


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def board_class(code: str, request: Request) -> tuple[ClassRecord, bool]:
    """The class whose board the request may see, and whether as its teacher (True) or through
    the projector link (False: read-only, names hidden). A wrong token and an unknown code get the
    same answer, so these routes tell nobody which codes exist."""
    code = normal_code(code)
    known = CODE.fullmatch(code) is not None
    bearer = bearer_token(request)
    teacher = bearer or (request.cookies.get(teacher_cookie(code), "") if known else "")
    viewer = bearer or (request.cookies.get(viewer_cookie(code), "") if known else "")
    if not (teacher or viewer):
        raise HTTPException(
            401,
            "Authorization: send 'Bearer <teacher_token>' as POST /api/classes returned it, "
            "or open the board from the teacher's link.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    record = await class_store(request).get(code) if known else None
    if record is not None and teacher and token_matches(teacher, record.teacher_hash):
        return record, True
    if record is not None and viewer and token_matches(viewer, record.viewer_hash):
        return record, False
    raise HTTPException(403, f"Authorization: this is not the teacher token of a class '{code}'.")


async def teacher_class(code: str, request: Request) -> ClassRecord:
    """The class whose teacher token the request shows (the projector link's is not enough)."""
    record, teacher = await board_class(code, request)
    if not teacher:
        raise HTTPException(403, "Authorization: a projector link only shows the board; send the teacher token.")
    return record


@dataclass(frozen=True)
class JoinedStudent:
    record: ClassRecord
    student: Student
    store: ClassStore

    def seat(self, runs_per_student: int, runs_per_class: int) -> Seat:
        code = self.record.code
        holder = f"student:{code}:{self.student.id}"
        return Seat(holder, runs_per_student, student=True, group=f"class:{code}", group_limit=runs_per_class)

    async def tag(self, run_id: str, demo: str) -> None:
        """Mark a run as this student's, in this class: the board follows the class's tagged runs."""
        await self.store.add_run(self.record.code, ClassRun(run_id, self.student.id, demo, time.time()))


async def joined_student(request: Request) -> JoinedStudent | None:
    """The student a request comes from, or None for a reader outside any class. A header that is
    not a student's token is refused (an API client said it was in a class); a stale cookie is
    ignored. A student of a class that has ended is refused: the class takes no more runs."""
    header = request.headers.get(STUDENT_HEADER)
    token = header if header is not None else request.cookies.get(STUDENT_COOKIE, "")
    parts = split_student_token(token.strip())
    store = class_store(request)
    found = None
    if parts is not None:
        code, secret = parts
        record, student = await store.get(code), await store.student(code, token_hash(secret))
        found = JoinedStudent(record, student, store) if record and student else None
    if found is None:
        if header is not None:
            raise HTTPException(401, f"{STUDENT_HEADER}: this is not the token of a student of any class.")
        return None
    if found.record.ended(time.time()):
        raise HTTPException(
            403,
            f"class: '{found.record.code}' has ended and takes no new runs (its board stays, read-only).",
        )
    return found
