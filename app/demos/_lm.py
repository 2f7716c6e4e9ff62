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

if TYPE_CHECKING:
    import torch

    from app.ml.charlm import CharLM

EVAL_EVERY = 10
"""Steps between validation losses (one fixed batch each). The points in between carry the last
value, so every point has every key and the curves stay continuous."""


def pace_field(default: float) -> float:
    return Field(default, ge=0, le=240, title="Pace", description="Steps per second; 0 runs as fast as possible.")


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

    def start(self, model: CharLM, prompt: str, temperature: float, generator: torch.Generator) -> None:
        from app.ml.charlm import LM_VOCAB, stream

        self._chars = stream(model, prompt, LM_VOCAB, temperature, generator)
        self._text = prompt
        self._left = self.length

    def advance(self) -> str | None:
        """Generate the next few characters; the whole sample (prompt included) once it is done."""
        if self._chars is None:
            return None
        n = min(self.chars_per_step, self._left)
        self._text += "".join(islice(self._chars, n))
        self._left -= n
        if self._left:
            return None
        self._chars = None
        return self._text
