"""The gradient-descent playground's surfaces. Plain arithmetic, so the same function evaluates
floats (the contour map the page draws, without torch) and torch tensors (training)."""

from __future__ import annotations

SURFACES = {
    "quadratic": lambda x, y: x**2 + 10 * y**2,
    "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    "saddle": lambda x, y: x**2 - y**2,
    "himmelblau": lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
}
ESCAPE = 1e6  # a point this far out has left every surface for good (the saddle has no bottom)
