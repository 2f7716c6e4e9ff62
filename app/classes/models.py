"""The class API's bodies: every request is checked here, so a bad one is a 422 naming the field."""

from __future__ import annotations

from typing import Any

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
    projector_url: str = Field(description="The board read-only, names hidden: for a screen others see or share.")
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


class NewPreset(BaseModel):
    """An exercise the teacher pushes to every student's panel."""

    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any] = Field(description="Settings of the class's demo, as its share link would set them.")
    question: str = Field(min_length=1, max_length=300, description="What the students should find out.")
    answer: str = Field("", max_length=300, description="Hidden from the students until the teacher reveals it.")


class PinnedReference(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str | None = Field(
        max_length=64, description="A run of the class's demo, drawn dashed in every student's panel; null unpins."
    )


class Preset(BaseModel):
    params: dict[str, Any]
    question: str
    answer: str
    revealed: bool = False


class Steering(BaseModel):
    """What the teacher has set for the students' panels; `version` grows with every change."""

    version: int = 0
    preset: Preset | None = None
    reference: str | None = None

    def for_students(self) -> dict[str, Any]:
        """As a student's panel gets it: the answer only once revealed."""
        preset = self.preset
        shown = preset.model_dump(exclude={"answer"} if preset and not preset.revealed else set()) if preset else None
        return {"version": self.version, "preset": shown, "reference": self.reference}
