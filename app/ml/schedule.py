"""The learning-rate schedule of language-model pretraining: linear warm-up, then cosine decay.

Adam's first steps are its noisiest: its second-moment estimate rests on a handful of gradients,
and a freshly initialised transformer's gradients are large and change fast. A warm-up ramps the
rate from near 0 to its peak over the first steps (Goyal et al. 2017; every GPT since uses one);
the cosine then lowers it smoothly to a floor (Loshchilov and Hutter 2017), so the last steps
average out batch noise instead of bouncing around the minimum.
"""

from __future__ import annotations

import math


def warmup_cosine(step: int, total: int, warmup: int, floor: float = 0.1) -> float:
    """The factor (0..1] that multiplies the peak learning rate at `step` (0-based) of `total`:
    (step + 1) / warmup during the warm-up, then a half cosine from 1 down to `floor` at the last step."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(total - 1 - warmup, 1)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
