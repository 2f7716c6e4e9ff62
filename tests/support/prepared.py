"""A test-only demo that needs a prepared artifact (loaded through MODELTERMS_EXTRA_DEMO_MODULES)."""

from __future__ import annotations

from pydantic import Field

from app.demos.artifacts import Artifact
from app.demos.base import Control, Demo, DemoParams

WORD = Artifact(
    name="test-word",
    title="the test word",
    builder="tests.support.artifacts:build_slowly",
    recipe={"word": "prepared", "seconds": 1.5, "steps": 6},
)


class PreparedParams(DemoParams):
    steps: int = Field(5, ge=1, le=1000)


def read_word(p: PreparedParams, ctl: Control):
    """Reads its artifact before the first step, as a demo reads its base model."""
    ctl.announce(word=ctl.artifact(WORD).read_text())
    for step in range(p.steps):
        yield {"step": step, "loss": 1.0}


DEMO = Demo(
    name="prepared",
    title="Prepared (test only)",
    terms=(),
    Params=PreparedParams,
    train=read_word,
    live=frozenset(),
    artifacts=(WORD,),
)
