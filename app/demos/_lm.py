"""What the four language-model playgrounds share (pretraining, fine-tuning, SFT, instruction tuning).

Not a demo (no DEMO). Like a demo module it imports torch and app.ml only inside functions.

They all use one tiny character transformer and one vocabulary (app.ml.charlm.LM_VOCAB); all but
pretraining start from the English base model, a prepared artifact (app.demos._charlm).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from app.demos._charlm import ENGLISH_BASE
from app.demos.base import Control, log_slider

if TYPE_CHECKING:
    import torch

    from app.ml.charlm import CharLM


def lr_field(default: float) -> float:
    return Field(
        default,
        gt=0,
        le=0.1,
        title="Learning rate",
        description="Adam's step size.",
        json_schema_extra=log_slider(1e-5),
    )


def steps_field(default: int, le: int = 2000) -> int:
    return Field(default, ge=1, le=le, title="Steps", description="Number of updates.")


def seed_field() -> int:
    return Field(0, ge=0, le=2**31 - 1, title="Seed", description="Seeds the initial weights, batches and samples.")


def load_base(ctl: Control) -> CharLM:
    """The English base model (a prepared artifact), on the run's device, ready to train."""
    import torch

    from app.ml.charlm import load_model

    return load_model(ctl.artifact(ENGLISH_BASE)).to(torch.device(ctl.device)).train()


def adam_step(opt: torch.optim.Optimizer, loss: torch.Tensor, lr: float) -> float:
    """One Adam step on loss at the current (live) lr; returns the loss before the update."""
    for group in opt.param_groups:
        group["lr"] = lr
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()
