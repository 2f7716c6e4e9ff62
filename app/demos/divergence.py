"""The divergence rule, in one place for the engine and a run's downloaded script (which embeds
this module: it imports nothing but the standard library)."""

from __future__ import annotations

import math
from typing import Any


def diverged(point: dict[str, Any], bound: float) -> bool:
    """A loss that is NaN, infinite or past the demo's bound, unless the demo flagged the point
    `diverged` itself (it stopped that series, one of several learning rates, say)."""
    loss = point.get("loss")
    if loss is None or point.get("diverged"):
        return False
    return not (-math.inf < loss <= bound and loss < math.inf)  # NaN fails every comparison
