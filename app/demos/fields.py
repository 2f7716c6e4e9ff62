"""Field types the demos share: one name, one set of bounds and one help text for each knob that
many playgrounds have. A demo narrows a type where it needs to with one more `Field`:

    steps: Annotated[Steps, Field(le=2000)] = 300
    lr: Annotated[LearningRate, Field(le=0.1, description="Adam's step size.")] = 3e-3
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.demos.base import MAX_PACE, MIN_PACE, log_slider

Seed = Annotated[
    int,
    Field(
        ge=0,
        le=2**31 - 1,
        title="Seed",
        description="Seeds every random choice of the run (data, weights, batches): the same seed, the same run.",
    ),
]
Steps = Annotated[int, Field(ge=1, le=5000, title="Steps", description="Number of updates.")]
LearningRate = Annotated[
    float,
    Field(
        gt=0, le=10, title="Learning rate", description="The optimizer's step size.", json_schema_extra=log_slider(1e-5)
    ),
]
Pace = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_PACE,
        title="Pace",
        description=f"Steps per second; 0 runs as fast as possible, otherwise at least {MIN_PACE}.",
        # The gap between 0 and MIN_PACE, stated where a client or a fuzzer reads the bounds.
        json_schema_extra={"anyOf": [{"const": 0}, {"minimum": MIN_PACE}]},
    ),
]
