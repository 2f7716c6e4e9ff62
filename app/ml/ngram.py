"""Character n-gram count models with add-k smoothing: the baseline a language model must beat.

A bigram model predicts a character from the one before it, a trigram model from the two before
it, by counting in the training text: p(c | h) = (N(h, c) + k) / (N(h) + k·V), with V the size of
the vocabulary. Add-k (Lidstone) smoothing gives every character, seen or not, some probability, so
the held-out loss stays finite. The counts live in one dense tensor of V^n cells (71³ ≈ 358k for a
trigram), small enough to build in milliseconds.
"""

from __future__ import annotations

import torch
from torch import Tensor


class CharNGram:
    def __init__(self, data: Tensor, vocab_size: int, order: int, k: float) -> None:
        """Counts every run of `order` characters of `data` (a 1-D tensor of ids)."""
        if order < 1 or k <= 0:
            raise ValueError("an n-gram model needs order >= 1 and k > 0")
        self.vocab_size, self.order, self.k = vocab_size, order, k
        cells = torch.bincount(self._codes(data, torch.arange(order - 1, len(data))), minlength=vocab_size**order)
        self.counts = cells.view(-1, vocab_size).double()  # one row per history h, one column per next character

    def _codes(self, data: Tensor, positions: Tensor) -> Tensor:
        """The cell of (history, next character) for the character at each position: the ids of
        data[p − order + 1 .. p] read as one base-V number."""
        code = torch.zeros(len(positions), dtype=torch.long)
        for back in range(self.order - 1, -1, -1):
            code = code * self.vocab_size + data[positions - back].long()
        return code

    def nll(self, data: Tensor, positions: Tensor) -> Tensor:
        """−ln p(data[p] | its history) at each position p (each needs order − 1 characters before it)."""
        if len(positions) and int(positions.min()) < self.order - 1:
            raise ValueError(f"an order-{self.order} model needs {self.order - 1} characters of history")
        codes = self._codes(data, positions)
        rows, chars = codes // self.vocab_size, codes % self.vocab_size
        seen = self.counts[rows, chars]
        history = self.counts[rows].sum(dim=1)
        return -torch.log((seen + self.k) / (history + self.k * self.vocab_size))

    def loss(self, data: Tensor, positions: Tensor) -> float:
        """The mean of `nll` over the positions that have a whole history (at the very start of the
        text a trigram has one character fewer: that position is left out)."""
        return self.nll(data, positions[positions >= self.order - 1]).mean().item()


def window_targets(starts: Tensor, block_size: int) -> Tensor:
    """The positions in the text of every target of windows starting at `starts`: the characters a
    language model evaluated on those windows predicts (charlm.windows: y = data[s + 1 : s + 1 + T])."""
    return (starts[:, None] + 1 + torch.arange(block_size)[None, :]).reshape(-1)
