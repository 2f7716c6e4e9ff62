"""What the training-compute and scaling-laws playgrounds share: params and one training step.

Not a demo (no DEMO). Both train app.ml.scaling's character transformers from scratch on the same
text (app/training/training_compute.py, app/training/scaling_laws.py).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.demos.base import DemoParams
from app.demos.fields import LearningRate, Pace, Seed
from app.ml.compute_budget import tokens_per_step

MAX_STEP_FLOPS = 7e8
"""A step may cost at most this (by 6·N·tokens with Kaplan's N ≈ 12·n_layer·d_model²): about 35 ms
on one idle CPU thread (we measured 1.5·10¹⁰ to 2·10¹⁰ FLOP/s), so runs sharing a worker take turns quickly."""


class ComputeParams(DemoParams):
    depth: int = Field(2, ge=1, le=8, title="Depth", description="Transformer blocks (n_layer).")
    batch_size: int = Field(16, ge=1, le=64, title="Batch size", description="Sequences per step.")
    seq_len: int = Field(64, ge=8, le=256, title="Sequence length", description="Characters per sequence (n_ctx).")
    lr: Annotated[LearningRate, Field(le=0.1, description="Adam learning rate.")] = 3e-3
    seed: Seed = 0
    pace: Pace = 0

    def check_step_cost(self, width: int, depth: int | None = None) -> None:
        """Refuse a model and batch whose steps would hold up every other run on the worker (the
        layers a step trains: `depth`, or the params' own)."""
        depth = self.depth if depth is None else depth
        flops = 6 * 12 * depth * width**2 * tokens_per_step(self.batch_size, self.seq_len)
        if flops > MAX_STEP_FLOPS:
            raise ValueError(
                f"width {width}, depth {depth}, batch size {self.batch_size} and sequence length "
                f"{self.seq_len} make about {flops:.2g} FLOPs per step, over the limit of {MAX_STEP_FLOPS:.0g}: "
                "make one of them smaller"
            )
