"""Fitting scaling laws: the compute-efficient frontier and a power law L(C) = E + a·C^(−b).

Plain Python (no torch): a sweep has tens of points, and the fit is refitted as they arrive.

The fit works in log space, where a power law is a straight line and a residual is a relative
error, so a loss of 3 and one of 1.5 weigh the same: for a fixed irreducible loss E,

    ln(L − E) = ln a − b·ln C

is a least-squares line. E itself is found by a one-dimensional search, E = 0 included, and it
is kept only if it clearly pays for its extra parameter: Akaike's criterion with the
small-sample correction must fall by more than 2 (less is "no real difference", in Burnham and
Anderson's rule of thumb). A short frontier rarely bends enough to pin E down.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

# Published parametric fits L(N, D) = E + A / N^α + B / D^β (N parameters, D tokens).
HOFFMANN_2022 = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
"""Hoffmann et al. (2022), 'Chinchilla', their approach 3."""
BESIROGLU_2024 = {"E": 1.82, "A": 482.01, "B": 2085.43, "alpha": 0.348, "beta": 0.366}
"""Besiroglu et al. (2024), 'Chinchilla Scaling: A replication attempt', refitted to the same data."""
KAPLAN_2020 = {"alpha_C_min": 0.050, "n_opt_exponent": 0.73}
"""Kaplan et al. (2020): L(C_min) ∝ C_min^(−0.050) with no irreducible term; N_opt ∝ C^0.73."""

GRID = 48  # values of E tried on [0, min L) before the golden-section refinement
GOLDEN = (math.sqrt(5) - 1) / 2
AICC_MARGIN = 2.0


@dataclass(frozen=True)
class PowerLaw:
    """L(C) = e + a·C^(−b), and how well it fits the points it came from."""

    a: float
    b: float
    e: float
    rss: float
    """Residual sum of squares of ln L."""
    n: int

    def __call__(self, c: float) -> float:
        return self.e + self.a * c**-self.b

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fit_fixed_e(cs: Sequence[float], losses: Sequence[float], e: float = 0.0) -> PowerLaw:
    """Least squares of ln(L − e) on ln C, with e given (0: a plain power law a·C^(−b))."""
    xs = [math.log(c) for c in cs]
    ys = [math.log(loss - e) for loss in losses]
    n = len(xs)
    x_mean, y_mean = sum(xs) / n, sum(ys) / n
    sxx = sum((x - x_mean) ** 2 for x in xs)
    slope = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True)) / sxx
    a, b = math.exp(y_mean - slope * x_mean), -slope
    rss = sum((math.log(e + a * c**-b) - math.log(loss)) ** 2 for c, loss in zip(cs, losses, strict=True))
    return PowerLaw(a=a, b=b, e=e, rss=rss, n=n)


def fit_with_e(cs: Sequence[float], losses: Sequence[float]) -> PowerLaw:
    """The E in [0, min L) whose line fits ln L best: a grid, then golden-section search
    between the grid neighbours of the best value."""
    top = min(losses)
    grid = [top * k / GRID for k in range(GRID)]
    fits = [fit_fixed_e(cs, losses, e) for e in grid]
    best = min(range(GRID), key=lambda k: fits[k].rss)
    lo = grid[best - 1] if best > 0 else 0.0
    hi = grid[best + 1] if best + 1 < GRID else top * (1 - 1e-9)
    for _ in range(40):
        m1, m2 = hi - GOLDEN * (hi - lo), lo + GOLDEN * (hi - lo)
        if fit_fixed_e(cs, losses, m1).rss <= fit_fixed_e(cs, losses, m2).rss:
            hi = m2
        else:
            lo = m1
    return min([fits[best], fit_fixed_e(cs, losses, (lo + hi) / 2)], key=lambda f: f.rss)


def aicc(fit: PowerLaw, k: int) -> float:
    """Akaike's information criterion with the small-sample correction, for k fitted parameters."""
    n = fit.n
    return n * math.log(max(fit.rss, 1e-300) / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def fit_power_law(cs: Sequence[float], losses: Sequence[float]) -> PowerLaw:
    """a·C^(−b), or E + a·C^(−b) where the points support an irreducible term.

    Needs 3 points (compute all positive and not all equal); E is tried from 5 points on."""
    plain = fit_fixed_e(cs, losses)
    if len(cs) < 5:
        return plain
    bent = fit_with_e(cs, losses)
    return bent if bent.e > 0 and aicc(bent, 3) < aicc(plain, 2) - AICC_MARGIN else plain


def leave_one_out_exponents(cs: Sequence[float], losses: Sequence[float]) -> tuple[float, float]:
    """The lowest and highest exponent b of the fits that each leave one point out: how much any
    single point sways the fit. Needs 4 points (each fit keeps 3)."""
    if len(cs) < 4:
        raise ValueError("leaving one point out needs at least 4 points")
    exponents = [fit_power_law([*cs[:i], *cs[i + 1 :]], [*losses[:i], *losses[i + 1 :]]).b for i in range(len(cs))]
    return min(exponents), max(exponents)


def lower_envelope(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the compute-efficient frontier of (compute, loss) points, by increasing compute:
    each point whose loss is lower than that of every point with no more compute."""
    order = sorted(range(len(points)), key=lambda i: points[i])
    kept, best = [], math.inf
    for i in order:
        if points[i][1] < best:
            kept.append(i)
            best = points[i][1]
    return kept


def interpolate_log(curve: Sequence[tuple[float, float]], c: float) -> float | None:
    """A curve's loss at compute c, linear in ln C between its two neighbours; None outside it."""
    for (c0, l0), (c1, l1) in itertools.pairwise(curve):
        if c0 <= c <= c1:
            t = 0.0 if c1 == c0 else (math.log(c) - math.log(c0)) / (math.log(c1) - math.log(c0))
            return l0 + t * (l1 - l0)
    if len(curve) == 1 and curve[0][0] == c:
        return curve[0][1]
    return None


def best_per_level(curves: Mapping[str, Sequence[tuple[float, float]]], levels: Sequence[float]) -> list[dict]:
    """For each compute level, the curve (model) with the lowest loss there, among those that reach it
    (`contenders`: how many do; with one token budget for all, only the largest reaches the top).

    Each curve is its model's (compute, loss) evaluations in order of compute."""
    rows = []
    for c in levels:
        at = {name: interpolate_log(curve, c) for name, curve in curves.items()}
        reached = {name: loss for name, loss in at.items() if loss is not None}
        if reached:
            name = min(reached, key=reached.__getitem__)
            rows.append({"flops": c, "best": name, "loss": reached[name], "contenders": len(reached)})
    return rows


def log_levels(lo: float, hi: float, per_decade: int = 2) -> list[float]:
    """Compute levels evenly spaced in log between lo and hi, both included."""
    steps = max(1, round(per_decade * math.log10(hi / lo)))
    return [lo * (hi / lo) ** (k / steps) for k in range(steps)] + [hi]  # hi exactly, not rounded past it


def chinchilla_optimum(c: float, E: float, A: float, B: float, alpha: float, beta: float) -> dict[str, float]:
    """The N and D = C / 6N that minimise E + A/N^α + B/D^β at compute C (Hoffmann et al. 2022, eq. 4):
    N_opt = G·(C/6)^(β/(α+β)), D_opt = (C/6)^(α/(α+β)) / G, G = (αA / βB)^(1/(α+β))."""
    g = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    n = g * (c / 6) ** (beta / (alpha + beta))
    d = (c / 6) ** (alpha / (alpha + beta)) / g
    return {"params": n, "tokens": d, "tokens_per_param": d / n, "loss": E + A / n**alpha + B / d**beta}


def loss_exponent(alpha: float, beta: float) -> float:
    """The exponent of the reducible loss along the compute-optimal path: L − E ∝ C^(−αβ/(α+β))."""
    return alpha * beta / (alpha + beta)
