"""The IsoFLOP method of Hoffmann et al. (2022, 'Chinchilla', their approach 2), torch-free.

At each of a few fixed compute budgets C, models of several sizes N are each trained on the
D = C / (6N) tokens the budget pays for, with a learning-rate schedule as long as the run. Their
final losses against ln N form a valley; a parabola in ln N fitted to it puts the budget's
optimum N at its vertex. A line through ln N_opt against ln C then gives the exponent a of
N_opt ∝ C^a (Chinchilla found a ≈ 0.5, Kaplan et al. 2020 0.73).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from app.ml import powerlaw


@dataclass(frozen=True)
class Parabola:
    """loss = c2·x² + c1·x + c0 in x = ln N."""

    c2: float
    c1: float
    c0: float

    def __call__(self, n_params: float) -> float:
        x = math.log(n_params)
        return self.c2 * x * x + self.c1 * x + self.c0

    @property
    def opens_upward(self) -> bool:
        """Only a valley has a minimum: a parabola that opens downward (or a line) has none."""
        return self.c2 > 0

    @property
    def vertex(self) -> float:
        """The N at the parabola's lowest point (meaningful only if it opens upward)."""
        return math.exp(-self.c1 / (2 * self.c2))


def fit_parabola(n_params: Sequence[float], losses: Sequence[float]) -> Parabola:
    """Least squares of loss on (ln N)², ln N and 1, by the normal equations (3 points at least,
    with 3 distinct N). x is centred first so the 3×3 system stays well conditioned."""
    if len(set(n_params)) < 3:
        raise ValueError("a parabola needs at least 3 distinct model sizes")
    xs = [math.log(n) for n in n_params]
    mid = sum(xs) / len(xs)
    us = [x - mid for x in xs]
    # Normal equations for loss ≈ q2·u² + q1·u + q0.
    moments = [sum(u**k for u in us) for k in range(5)]
    rhs = [sum(u**k * y for u, y in zip(us, losses, strict=True)) for k in range(3)]
    matrix = [[moments[i + j] for j in (2, 1, 0)] for i in (2, 1, 0)]
    q2, q1, q0 = _solve3(matrix, [rhs[2], rhs[1], rhs[0]])
    # Back to x = u + mid: q2(x − mid)² + q1(x − mid) + q0.
    return Parabola(c2=q2, c1=q1 - 2 * q2 * mid, c0=q2 * mid * mid - q1 * mid + q0)


def _solve3(matrix: list[list[float]], rhs: list[float]) -> tuple[float, float, float]:
    """Cramer's rule for a 3×3 system."""

    def det(m: list[list[float]]) -> float:
        return (
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        )

    whole = det(matrix)
    columns = []
    for col in range(3):
        replaced = [[rhs[row] if j == col else matrix[row][j] for j in range(3)] for row in range(3)]
        columns.append(det(replaced) / whole)
    return columns[0], columns[1], columns[2]


@dataclass(frozen=True)
class Optimum:
    """One budget's compute-optimal model size, as the parabola places it."""

    n_params: float | None
    """The vertex, or None where the parabola has no minimum."""
    loss: float | None
    inside: bool
    """Whether the vertex lies between the smallest and largest model trained: outside, it is an
    extrapolation, and the budget's sizes did not bracket its optimum."""


def optimum(n_params: Sequence[float], losses: Sequence[float]) -> Optimum:
    parabola = fit_parabola(n_params, losses)
    if not parabola.opens_upward:
        return Optimum(n_params=None, loss=None, inside=False)
    vertex = parabola.vertex
    return Optimum(n_params=vertex, loss=parabola(vertex), inside=min(n_params) <= vertex <= max(n_params))


def optimum_exponent(budgets: Sequence[float], optimal_params: Sequence[float]) -> float:
    """a in N_opt ∝ C^a: the slope of the least-squares line through ln N_opt against ln C."""
    return -powerlaw.fit_fixed_e(budgets, optimal_params).b
