"""What the LoRA and QLoRA playgrounds share: their common params.

Not a demo (no DEMO): the params both declare; what they train is app/training/_adapt.py.

Both playgrounds adapt the same tiny character model, pretrained on English (task A), to the
same text in leetspeak (task B). Every series of a run sees the same batches, step by step.
Forgetting is measured on task A's text: `loss_a` on every character, `loss_a_kept` on those
leetspeak leaves as they are (on a, e, i, o task B asks for a digit, so loss_a rises by design).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from app.demos.base import DemoParams
from app.demos.fields import LearningRate, Pace, Seed, Steps

Target = Literal["attn_qkv", "attn_out", "mlp_in", "mlp_out", "head"]


class AdaptParams(DemoParams):
    rank: int = Field(4, ge=1, le=64, description="r: the rank of each update B·A.")
    alpha: float = Field(8.0, gt=0, le=1024, description="α: the update B·A is scaled by α / r.")
    targets: list[Target] = Field(
        ["attn_qkv", "attn_out", "mlp_in", "mlp_out"],
        min_length=1,
        json_schema_extra={"uniqueItems": True},
        description="Layer groups that get an adapter (each at most once).",
    )
    lr: Annotated[LearningRate, Field(le=1.0, description="Adam learning rate.")] = 5e-3
    steps: Annotated[Steps, Field(le=2000)] = 500
    pace: Pace = 0.0
    seed: Seed = 0

    @field_validator("targets")
    @classmethod
    def _targets_unique(cls, targets: list[str]) -> list[str]:
        if len(set(targets)) != len(targets):
            raise ValueError("each layer group may be named only once")
        return targets
