"""What the four language-model playgrounds share (pretraining, fine-tuning, SFT, instruction tuning).

Not a demo (no DEMO). Like a demo module it imports torch and app.ml only inside functions.

They all use one tiny character transformer and one vocabulary (app.ml.charlm.LM_VOCAB); all but
pretraining start from the English base model, a prepared artifact (app.demos._charlm).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING

from pydantic import Field

from app.demos._charlm import ENGLISH_BASE
from app.demos.base import Control, log_slider

if TYPE_CHECKING:
    import torch

    from app.ml.charlm import CharLM, Vocab

EVAL_EVERY = 10
"""Steps between validation losses (one fixed batch each). The points in between carry the last
value, so every point has every key and the curves stay continuous."""


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


class SpreadSample:
    """A generated sample spread over several steps, `chars_per_step` characters (forward passes)
    each, so no single step blocks the other runs of its worker for long. Each character comes
    from the model as it is at that step: over a span of a few steps the difference is slight."""

    def __init__(self, length: int, chars_per_step: int) -> None:
        self.length, self.chars_per_step = length, chars_per_step
        self._chars: Iterator[str] | None = None
        self._text = ""

    @property
    def busy(self) -> bool:
        return self._chars is not None

    def start(
        self,
        model: CharLM,
        prompt: str,
        temperature: float = 0.0,
        generator: torch.Generator | None = None,
        stop: str | None = None,
        vocab: Vocab | None = None,
    ) -> None:
        from app.ml.charlm import LM_VOCAB, stream

        self._chars = stream(model, prompt, vocab or LM_VOCAB, temperature, generator)
        self._text, self._left, self._stop = prompt, self.length, stop

    def advance(self) -> str | None:
        """Generate the next few characters; the whole sample (prompt included) once it has its
        length or has written the stop character."""
        if self._chars is None:
            return None
        for char in islice(self._chars, min(self.chars_per_step, self._left)):
            self._text += char
            self._left -= 1
            if char == self._stop:
                self._left = 0
                break
        if self._left:
            return None
        self._chars = None
        return self._text


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
