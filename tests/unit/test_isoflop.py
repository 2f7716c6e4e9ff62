"""The IsoFLOP method: the parabola and its vertex against numpy's least squares and closed forms,
the plan's params, and a small plan run end to end."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from app.demos.base import run_inline
from app.demos.scaling_laws import DEMO, ISOFLOP_MAX_STEPS, Params
from app.ml import isoflop
from app.ml.compute_budget import tokens_per_step
from app.training.scaling_isoflop import MIN_STEPS

torch.set_num_threads(1)


def test_the_parabola_is_numpys_least_squares_in_log_n() -> None:
    rng = np.random.default_rng(0)
    n = [2_000.0, 7_500.0, 16_000.0, 27_000.0, 59_000.0, 104_000.0]
    losses = [2.4 + 0.05 * (math.log(x) - 9.0) ** 2 + rng.normal(0, 0.01) for x in n]
    fit = isoflop.fit_parabola(n, losses)
    c2, c1, c0 = np.polyfit(np.log(n), losses, 2)
    assert (fit.c2, fit.c1, fit.c0) == pytest.approx((c2, c1, c0), rel=1e-9)
    assert fit(n[2]) == pytest.approx(np.polyval([c2, c1, c0], math.log(n[2])))


def test_the_vertex_of_an_exact_parabola_and_whether_it_is_inside() -> None:
    n = [1_000.0, 4_000.0, 16_000.0, 64_000.0]
    valley = [2.0 + 0.1 * (math.log(x) - math.log(8_000.0)) ** 2 for x in n]
    best = isoflop.optimum(n, valley)
    assert best.n_params == pytest.approx(8_000.0) and best.loss == pytest.approx(2.0) and best.inside
    beyond = [2.0 + 0.1 * (math.log(x) - math.log(500.0)) ** 2 for x in n]
    assert not isoflop.optimum(n, beyond).inside
    hill = [3.0 - 0.1 * (math.log(x) - 9.0) ** 2 for x in n]
    assert isoflop.optimum(n, hill) == isoflop.Optimum(n_params=None, loss=None, inside=False)
    with pytest.raises(ValueError, match="3 distinct"):
        isoflop.fit_parabola([1.0, 1.0, 2.0], [1.0, 2.0, 3.0])


def test_the_optimum_exponent_of_an_exact_power_law() -> None:
    budgets = [1e9, 4e9, 1.6e10]
    assert isoflop.optimum_exponent(budgets, [3.0 * c**0.5 for c in budgets]) == pytest.approx(0.5)


def test_the_plan_refuses_more_steps_than_it_may_take() -> None:
    with pytest.raises(ValidationError, match=f"may take at most {ISOFLOP_MAX_STEPS}"):
        Params(plan="isoflop", budgets=[16, 32, 64])
    with pytest.raises(ValidationError, match="must be one of 1, 2, 4, 8, 16, 32, 64"):
        Params(plan="isoflop", budgets=[3, 16])
    with pytest.raises(ValidationError, match="only once"):
        Params(plan="isoflop", budgets=[4, 4])
    Params(plan="sweep", budgets=[16, 32, 64])  # the sweep does not spend them


def test_a_small_plan_trains_each_width_on_its_budget_and_finds_a_vertex() -> None:
    """About 660 steps of small models (4 s)."""
    p = Params(pace=0, plan="isoflop", budgets=[1, 2], widths=[8, 16, 24, 32, 48])
    points, summary, control = run_inline(DEMO, p)
    batch_tokens = tokens_per_step(p.batch_size, p.seq_len)
    for budget in summary["budgets"]:
        for run in budget["runs"]:
            assert run["steps"] == budget["flops"] // (6 * run["params"] * batch_tokens) >= MIN_STEPS
        trained = {run["width"] for run in budget["runs"]}
        assert trained == ({8, 16, 24, 32} if budget["gflop"] == 1 else {8, 16, 24, 32, 48})
        [best] = budget["optima"]
        runs = budget["runs"]
        assert best["n_opt"] == pytest.approx(
            isoflop.optimum([r["params"] for r in runs], [r["val_loss"] for r in runs]).n_params
        )
    assert control.facts["held_out_chars"] > 2_000  # the whole held-out text, not a sample
    drawn = [pt for pt in points if "parabola" in pt]
    assert {pt["series"] for pt in drawn} == {"1 GFLOP", "2 GFLOP"} and len(drawn) == 18
    drawn_optima = [pt["n_opt"] for pt in points if pt["series"] == "optimum"]
    assert drawn_optima == [b["optima"][0]["n_opt"] for b in summary["budgets"] if b["optima"][0]["n_opt"]]
