"""What the language-model playgrounds train with: the English base model they start from, and
samples written a few characters a step."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

import torch

from app.demos.recipes import ENGLISH_BASE
from app.ml.charlm import LM_VOCAB, CharLM, Vocab, load_model, stream

if TYPE_CHECKING:
    from app.demos.base import Control


EVAL_EVERY = 10
"""Steps between validation losses (one fixed batch each). The points in between carry the last
value, so every point has every key and the curves stay continuous."""


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


def load_base(ctl: Control[Any]) -> CharLM:
    """The English base model (a prepared artifact), on the run's device, ready to train."""
    return load_model(ctl.artifact(ENGLISH_BASE)).to(torch.device(ctl.device)).train()
