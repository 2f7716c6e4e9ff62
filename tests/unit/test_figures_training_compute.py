"""Every figure the training-compute page quotes from its playground, tied to runs of the demo
(the 50-step and width-16 exercises and the equal-compute exercise at seeds 0 to 4: about a minute
of one CPU thread, recorded in tests/recorded and sampled here; record again with
`python -m tests.unit.test_figures_training_compute`). Seconds and FLOP/s are the machine's and
are not quoted. A changed demo fails here instead of leaving a stale page."""

from __future__ import annotations

import functools
import math
import statistics

import pytest
import torch

from app.demos.base import run_inline
from app.demos.training_compute import DEMO, Params
from tests.unit.page_figures import RecordedStudy, as_read
from tests.unit.test_worked_examples import fixed

torch.set_num_threads(1)
SEEDS = range(5)


def text() -> str:
    return as_read("training-compute")


def sci(x: float, decimals: int = 2) -> str:
    """3.18·10¹⁰, as the exercises write it."""
    exponent = math.floor(math.log10(x))
    digits = str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{x / 10**exponent:.{decimals}f}·10{digits}"


COUNTED_FACTS = (
    "non_embedding_params",
    "tokens_per_step",
    "flops_counted_per_step",
    "counted_by_operator",
    "attention_flops_per_token",
    "flops_per_token",
)


def counted_run(**params: object) -> dict:
    """One run reduced to what the page quotes of its FLOPs: the counted and 6N facts, and the
    summary's totals (not its seconds or FLOP/s: those are the machine's)."""
    _, summary, control = run_inline(DEMO, Params(pace=0, **params))
    totals = ("tokens", "flops", "flops_attention", "flops_counted", "attention_share", "counted_over_6n")
    return {
        "facts": {key: control.facts[key] for key in COUNTED_FACTS},
        "summary": {key: summary[key] for key in totals},
    }


def equal_compute_run(seed: int) -> dict:
    points, summary, control = run_inline(
        DEMO, Params(pace=0, equal_compute=True, depth=1, batch_size=8, steps=400, seed=seed)
    )
    last = {p["series"]: p["flops"] for p in points}
    sizes = control.facts["equal_compute"]
    plan = {size: {k: sizes[size][k] for k in ("non_embedding_params", "steps")} for size in last}
    return {"final": summary["final"], "flops": summary["flops"], "last_flops": last, "plan": plan}


STUDY = RecordedStudy(
    "training_compute_runs",
    "training compute: the 50-step and width-16 exercises' FLOP counts, and the equal-compute exercise (N against "
    "2N) at seeds 0-4",
    {
        "50 steps": functools.partial(counted_run, steps=50),
        "30 steps, width 16, 256 characters": functools.partial(counted_run, steps=30, width=16, seq_len=256),
        **{f"equal compute, seed {seed}": functools.partial(equal_compute_run, seed) for seed in SEEDS},
    },
)


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    return STUDY.results()


def test_the_recorded_runs_are_what_the_demo_gives_now() -> None:
    """The equal-compute exercise at seed 0 (about 7 s, the cheapest run of the equal-compute plan):
    two models trained to one FLOP budget, with their FLOPs counted and their plan; the two counted
    runs differ from it in their settings only (one model of another width or length), not in the
    code that trains and counts them."""
    STUDY.assert_current("equal compute, seed 0")


def test_the_counted_flops_beside_6n(runs: dict[str, dict]) -> None:
    page = text()
    facts, summary = runs["50 steps"]["facts"], runs["50 steps"]["summary"]
    n, tokens = facts["non_embedding_params"], facts["tokens_per_step"]
    per_token = facts["flops_counted_per_step"] // tokens
    weights = (facts["counted_by_operator"]["mm"] + facts["counted_by_operator"]["addmm"]) // tokens
    attention = facts["counted_by_operator"]["bmm"] // tokens
    assert f"$N = {n:,}$".replace(",", "{,}") in page and f"$6N = {6 * n:,}$".replace(",", "{,}") in page
    assert f"The counter finds {per_token:,}, {per_token / (6 * n) - 1:.0%} more." in page
    assert f"Its products with weights are {weights:,} a token, exactly 6 per weight" in page
    assert f"so $6N$ overcounts by {(6 * n - weights) / (6 * n):.1%}." in page
    assert f"Attention's two products add {attention:,} a token" in page
    assert attention == 2 * facts["attention_flops_per_token"]
    assert (
        f"After 50 steps: {summary['tokens']:,} tokens, {sci(summary['flops'])} FLOPs by 6ND, "
        f"{sci(summary['flops_attention'])} with the attention term, {sci(summary['flops_counted'])} counted by "
        "FlopCounterMode."
    ) in page

    narrow = runs["30 steps, width 16, 256 characters"]
    facts, summary = narrow["facts"], narrow["summary"]
    counted = facts["flops_counted_per_step"] / facts["tokens_per_step"]
    assert f"N falls to {facts['non_embedding_params']:,}, so 6N is {facts['flops_per_token']:,} FLOPs a token" in page
    assert f"attention is {summary['attention_share']:.0%} of the compute by Kaplan's count" in page
    assert f"The counter finds {counted:,.0f} FLOPs a token, {fixed(summary['counted_over_6n'], 1)} times 6N" in page


def test_the_equal_compute_comparison(runs: dict[str, dict]) -> None:
    page = text()
    equal = [runs[f"equal compute, seed {seed}"] for seed in SEEDS]
    small, big = equal[0]["plan"]["N"], equal[0]["plan"]["2N"]
    final = equal[0]["final"]
    assert (
        f"$N = {small['non_embedding_params']:,}$ ends at {fixed(final['N'], 2)} and "
        f"$2N = {big['non_embedding_params']:,}$, after {big['steps']} steps, at {fixed(final['2N'], 2)}"
    ).replace(",", "{,}", 2) in page
    gaps = [r["final"]["2N"] - r["final"]["N"] for r in equal]
    assert (
        f"over seeds 0 to 4 the bigger model is worse by {fixed(statistics.mean(gaps), 2)} ± "
        f"{fixed(statistics.stdev(gaps), 2)} ({fixed(min(gaps), 2)} at the least)"
    ) in page
    compute = equal[0]["flops"]
    assert "At $6.6 \\times 10^{10}$ FLOPs" in page and f"{compute:.1e}" == "6.6e+10"
    assert math.sqrt(compute / (6 * 20)) < small["non_embedding_params"]  # 20 tokens a parameter: smaller
    last = equal[0]["last_flops"]
    assert sci(last["N"], 1) == sci(last["2N"], 1)
    assert f"Both spend {sci(last['N'], 1)} FLOPs by 6ND" in page
    assert (
        f"The depth-2 model (N = {big['non_embedding_params']:,}) gets {big['steps']} steps and ends at a held-out "
        f"loss of {fixed(final['2N'], 2)}; the depth-1 model (N = {small['non_embedding_params']:,}) gets "
        f"{small['steps']} and ends at {fixed(final['N'], 2)}."
    ) in page


if __name__ == "__main__":
    STUDY.record()
