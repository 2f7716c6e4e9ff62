"""The arithmetic of a training budget, torch-free: the playgrounds' params check it before a run
(app.demos) and their training modules spend it (app.training)."""

from __future__ import annotations


def tokens_per_step(batch_size: int, seq_len: int) -> int:
    """Characters in one step's batch."""
    return batch_size * seq_len


def steps_for(tokens: int, batch_size: int, seq_len: int) -> int:
    """Whole steps a budget of `tokens` pays for."""
    return tokens // tokens_per_step(batch_size, seq_len)
