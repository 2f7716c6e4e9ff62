"""Every figure the scaling-laws page quotes from its playground, recomputed from fresh runs of the
default sweep and of the two exercises (about a minute on one busy thread)."""

from __future__ import annotations

import torch

from app.demos.base import run_inline
from app.demos.scaling_laws import DEMO, Params
from tests.unit.test_worked_examples import page_text

torch.set_num_threads(1)


def spread(fit: dict) -> str:
    low, high = fit["exponent_leaving_one_out"]
    return f"{low:.2f} to {high:.2f}"


def test_the_scaling_laws_page_quotes_fresh_runs() -> None:
    text = " ".join(page_text("scaling-laws").split())

    _, summary, control = run_inline(DEMO, Params(pace=0))
    fit, frontier = summary["fit"], summary["frontier"]
    assert f"Only points below the unigram loss ({control.facts['unigram_loss']:.2f} nats" in text
    assert fit["irreducible"]
    assert f"The fit over the {fit['points']} frontier points is $L = {fit['e']:.2f} + {fit['a']:.0f} \\, " in text
    assert f"C^{{-{fit['b']:.2f}}}$" in text
    assert f"that leave out any one point: {spread(fit)} at the end" in text
    assert f"$E = {fit['e']:.2f}$ is not the entropy of English" in text
    assert [row["model"] for row in frontier][:1] == ["d=8"] and frontier[-1]["model"] == "d=64"
    gaps = [abs(m["train_loss"] - m["val_loss"]) for m in summary["models"].values()]
    assert max(gaps) < 0.04 and "held-out losses ended within 0.04 nats of each other" in text

    _, short, control = run_inline(DEMO, Params(pace=0, tokens=20_000))
    fit, frontier = short["fit"], short["frontier"]
    assert control.facts["steps_per_model"] == 39 and control.facts["tokens_per_model"] == 19_968
    assert not fit["irreducible"] and "d=8" not in {row["model"] for row in frontier}
    assert f"only {fit['points']} evaluations beat the unigram loss, none of them from d=8" in text
    assert frontier[-1]["model"] == "d=64" and f"d=64 ends lowest, at {frontier[-1]['val_loss']:.2f}" in text
    assert f"The fit over the {fit['points']} points is L = {fit['a']:.1f}·C^(−{fit['b']:.2f})" in text
    assert f"moves b anywhere from {spread(fit)}" in text

    _, three, _ = run_inline(DEMO, Params(pace=0, widths=[8, 24, 64], tokens=40_000))
    fit, models = three["fit"], [row["model"] for row in three["frontier"]]
    d24, d64 = models.count("d=24"), models.count("d=64")
    assert models == ["d=24"] * d24 + ["d=64"] * d64
    first, last = three["frontier"][0]["val_loss"], three["frontier"][-1]["val_loss"]
    assert f"the frontier is {d24} points of d=24 from {first:.2f}, then {d64} of d=64 down to {last:.2f}" in text
    assert f"The fit gives b = {fit['b']:.2f} with E = {fit['e']:.2f}" in text
    assert f"leaving out one point anywhere from {spread(fit)}" in text
