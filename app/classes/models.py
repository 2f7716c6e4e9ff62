"""The class API's bodies: every request is checked here, so a bad one is a 422 naming the field."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class NewClass(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field("", max_length=120, description="Shown on the board and the join page.")
    demo: str | None = Field(
        None, max_length=64, description="The playground the class works on (GET /api/demos lists them)."
    )


class ClassCreated(BaseModel):
    code: str = Field(description="What students type to join: 6 letters, none that look alike.")
    teacher_token: str = Field(description="Send as `Authorization: Bearer` for the board and its stream.")
    join_url: str
    board_url: str = Field(description="The teacher's board; it carries the token, so keep it to yourself.")
    title: str
    demo: str
    expires: float = Field(description="When the class stops taking joins and runs (seconds since the epoch).")


class NewStudent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        "", max_length=40, description="Display name on the class board; a random friendly one when empty."
    )


class StudentJoined(BaseModel):
    student_token: str = Field(description="Send as the header X-ModelTerms-Student (browsers keep it in a cookie).")
    name: str
    code: str
    demo: str
    playground_url: str
