"""Scaling-law fits against known answers: synthetic power laws, brute-force frontiers, a grid search."""

from __future__ import annotations

import math
import random

import pytest

from app.ml import powerlaw

COMPUTE = [10 ** (6 + 6 * k / 29) for k in range(30)]  # 1e6 .. 1e12, evenly in log


def noisy(law, sigma: float, seed: int = 0) -> list[float]:
    """The law's values with a relative (log-normal) error of about sigma."""
    rng = random.Random(seed)
    return [law(c) * math.exp(rng.gauss(0, sigma)) for c in COMPUTE]


def test_an_exact_power_law_is_recovered_exactly() -> None:
    fit = powerlaw.fit_fixed_e(COMPUTE, [3.0 * c**-0.08 for c in COMPUTE])
    assert (fit.a, fit.b, fit.e) == (pytest.approx(3.0), pytest.approx(0.08), 0.0)
    assert fit.rss == pytest.approx(0, abs=1e-20)


@pytest.mark.parametrize("seed", range(6))
def test_a_noisy_power_law_keeps_its_exponent_and_no_irreducible_term(seed: int) -> None:
    fit = powerlaw.fit_power_law(COMPUTE, noisy(lambda c: 3.0 * c**-0.08, 0.01, seed))
    assert fit.b == pytest.approx(0.08, abs=0.004)
    assert fit.e == 0.0  # a straight line in log-log gives no reason for E


@pytest.mark.parametrize("seed", range(6))
def test_an_irreducible_term_is_found_when_the_curve_bends(seed: int) -> None:
    fit = powerlaw.fit_power_law(COMPUTE, noisy(lambda c: 1.2 + 40.0 * c**-0.25, 0.005, seed))
    assert fit.e == pytest.approx(1.2, abs=0.06)
    assert fit.b == pytest.approx(0.25, abs=0.03)
    plain = powerlaw.fit_fixed_e(COMPUTE, noisy(lambda c: 1.2 + 40.0 * c**-0.25, 0.005, seed))
    assert plain.b < 0.2  # ignoring E flattens the exponent: why the published fits include it


def test_the_fit_needs_five_points_to_try_an_irreducible_term() -> None:
    losses = [1.2 + 40.0 * c**-0.25 for c in COMPUTE[:4]]
    assert powerlaw.fit_power_law(COMPUTE[:4], losses).e == 0.0


def brute_force_frontier(points: list[tuple[float, float]]) -> set[tuple[float, float]]:
    """Points no other point beats: none with no more compute and a lower loss, or less compute and
    the same loss."""
    return {
        p
        for p in points
        if not any(q != p and q[0] <= p[0] and q[1] <= p[1] and (q[1] < p[1] or q[0] < p[0]) for q in points)
    }


@pytest.mark.parametrize("seed", range(5))
def test_the_frontier_is_the_lower_envelope(seed: int) -> None:
    rng = random.Random(seed)
    # Few distinct values, so that ties in compute and in loss occur.
    points = list({(float(rng.randint(1, 30)), float(rng.randint(1, 30))) for _ in range(80)})
    kept = powerlaw.lower_envelope(points)
    assert {points[i] for i in kept} == brute_force_frontier(points)
    assert [points[i][0] for i in kept] == sorted(points[i][0] for i in kept)
    losses = [points[i][1] for i in kept]
    assert losses == sorted(losses, reverse=True) and len(set(losses)) == len(losses)


def test_interpolation_is_linear_in_log_compute() -> None:
    curve = [(10.0, 4.0), (1000.0, 2.0)]
    assert powerlaw.interpolate_log(curve, 100.0) == pytest.approx(3.0)
    assert powerlaw.interpolate_log(curve, 10.0) == 4.0
    assert powerlaw.interpolate_log(curve, 5.0) is None and powerlaw.interpolate_log(curve, 2000.0) is None


def test_best_per_level_picks_the_lowest_curve_that_reaches_each_level() -> None:
    curves = {
        "small": [(10.0, 3.0), (100.0, 2.5), (1000.0, 2.4)],
        "large": [(100.0, 2.8), (1000.0, 2.2), (10000.0, 1.9)],
    }
    rows = powerlaw.best_per_level(curves, [10.0, 100.0, 1000.0, 10000.0])
    assert [(r["best"], r["contenders"]) for r in rows] == [("small", 1), ("small", 2), ("large", 2), ("large", 1)]
    assert rows[1]["loss"] == 2.5


def test_log_levels() -> None:
    assert powerlaw.log_levels(1e2, 1e4) == pytest.approx([1e2, 10**2.5, 1e3, 10**3.5, 1e4])


@pytest.mark.parametrize("fit", [powerlaw.HOFFMANN_2022, powerlaw.BESIROGLU_2024])
def test_the_chinchilla_optimum_is_the_minimum_along_the_isoflop_line(fit: dict) -> None:
    c = 5.76e23  # Chinchilla's own budget
    best = powerlaw.chinchilla_optimum(c, **fit)
    assert 6 * best["params"] * best["tokens"] == pytest.approx(c)

    def loss(n: float) -> float:
        return fit["E"] + fit["A"] / n ** fit["alpha"] + fit["B"] / (c / (6 * n)) ** fit["beta"]

    grid = [10 ** (8 + 5 * k / 20000) for k in range(20001)]
    n_grid = min(grid, key=loss)
    assert best["params"] == pytest.approx(n_grid, rel=1e-3)
    assert best["loss"] == pytest.approx(loss(n_grid), rel=1e-9)


def test_loss_exponent_along_the_optimal_path() -> None:
    assert powerlaw.loss_exponent(0.34, 0.28) == pytest.approx(0.34 * 0.28 / 0.62)


def test_leaving_one_point_out_of_an_exact_power_law_changes_nothing() -> None:
    cs = [10.0**k for k in range(6)]
    low, high = powerlaw.leave_one_out_exponents(cs, [3 * c**-0.2 for c in cs])
    assert low == pytest.approx(0.2, rel=1e-9) and high == pytest.approx(0.2, rel=1e-9)


def test_leaving_one_point_out_shows_how_far_one_stray_point_sways_the_exponent() -> None:
    cs = [10.0**k for k in range(4)]
    losses = [3 * c**-0.2 for c in cs]
    losses[-1] *= 0.5  # the last point far below the line
    low, high = powerlaw.leave_one_out_exponents(cs, losses)
    # Without it the other three lie on the line: b = 0.2 exactly. With it, any fit is steeper.
    assert low == pytest.approx(0.2, rel=1e-9) and high > 0.25
    with pytest.raises(ValueError, match="at least 4 points"):
        powerlaw.leave_one_out_exponents(cs[:3], losses[:3])
