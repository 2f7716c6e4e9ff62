"""Every figure the loss-function page quotes from its playground, from fresh runs: the regression
runs (default, the δ variations, the larger outlier fractions) and the classification runs."""

from __future__ import annotations

from typing import Any

import torch

from app.demos.base import run_inline
from app.demos.loss_function import DEMO, Params
from app.ml import toy_data
from app.training.loss_function import N_PER_CLASS, OUTLIER_SHIFT, WRONG_START
from tests.unit.page_figures import as_read

torch.set_num_threads(1)


def final(**params: Any) -> dict[str, dict]:
    return run_inline(DEMO, Params(pace=0, **params))[1]["final"]


def line(fit: dict) -> str:
    return f"slope {fit['slope']:.2f}, intercept {fit['intercept']:.2f}".replace("-", "−")


def test_the_regression_runs() -> None:
    text = as_read("loss-function")
    _, summary, control = run_inline(DEMO, Params(pace=0))
    fits = summary["final"]
    assert control.facts["outliers"] == 5 and f"sit {OUTLIER_SHIFT:g} below it" in text
    all_points, clean = control.facts["least_squares"].values()
    assert round(fits["mse"]["slope"], 4) == round(all_points[0], 4)  # mse is the least-squares line
    assert f"`mse` settles at slope {fits['mse']['slope']:.2f}" in text
    assert f"`mae` ends at {line(fits['mae'])}, beside the least-squares line without outliers " in text
    assert f"({clean[0]:.2f}, {clean[1]:.2f})" in text
    assert f"lands between, at {fits['huber']['slope']:.2f}" in text
    assert f"MAE lands on {line(fits['mae'])}: the true line. Huber ends at {fits['huber']['slope']:.2f} and " in text
    mse = f"slope {fits['mse']['slope']:.2f} and intercept {fits['mse']['intercept']:.2f}".replace("-", "−")
    assert f"MSE is dragged to {mse}, the least-squares fit" in text
    assert f"at δ = 0.3 it reaches {final(delta=0.3, steps=1000)['huber']['slope']:.2f} after 1000 steps" in text
    assert f"at δ = 3 it falls to {final(delta=3)['huber']['slope']:.2f}" in text

    fits = final(outlier_fraction=0.2)
    assert (
        f"`mse` fits slope {fits['mse']['slope']:.2f} and even `mae` drops to {fits['mae']['slope']:.2f}".replace(
            "-", "−"
        )
        in text
    )
    fits = final(outlier_fraction=0.3)
    slopes = [f"{fits[name]['slope']:.2f}".replace("-", "−") for name in ("mse", "mae", "huber")]
    assert f"slopes {slopes[0]} (MSE), {slopes[1]} (MAE) and {slopes[2]} (Huber)" in text


def test_the_classification_runs() -> None:
    text = as_read("loss-function")
    x, y = toy_data.blobs(N_PER_CLASS, 0)
    p_true = torch.sigmoid(torch.where(y == 1, 1.0, -1.0) * (x @ torch.tensor(WRONG_START)))
    assert f"({(p_true < 0.5).float().mean().item():.0%} misclassified" in text
    assert abs(p_true.median().item() - 0.0025) < 1e-4 and "true-class probabilities near 0.0025)" in text

    def first_over_90(points: list[dict], series: str) -> int:
        return next(pt["step"] for pt in points if pt["series"] == series and pt["accuracy"] > 0.9)

    slow, _, _ = run_inline(DEMO, Params(pace=0, mode="classification", steps=1000))
    fast, _, _ = run_inline(DEMO, Params(pace=0, mode="classification", lr=1.0, steps=100))
    ce, mse = first_over_90(slow, "cross_entropy"), first_over_90(slow, "mse")
    assert f"passes 90% accuracy at step {ce}, `mse` on $\\sigma(z)$ at step {mse}" in text
    assert f"at lr 1, steps {first_over_90(fast, 'cross_entropy')} and {first_over_90(fast, 'mse')}" in text

    by_step = {(pt["series"], pt["step"]): pt for pt in slow}
    at_150, at_299 = by_step["cross_entropy", 150], by_step["cross_entropy", 299]
    assert f"reaches {at_150['accuracy']:.0%} accuracy by step 150 (loss {at_150['loss']:.2f}, " in text
    assert f"then {at_299['loss']:.3f} at step 299)" in text
    assert f"is stuck at {by_step['mse', 299]['accuracy']:.1%} accuracy after 300 steps" in text
