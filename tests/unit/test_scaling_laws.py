"""The scaling-laws playground: a short sweep, its compute-ordered points, frontier and fit."""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch
from pydantic import ValidationError

from app.demos.base import run_inline
from app.demos.scaling_laws import DEMO
from app.ml import flops, powerlaw
from app.ml.charlm import fixed_starts
from app.ml.ngram import window_targets
from app.ml.scaling import load_corpus, make_model
from app.training.scaling_laws import UNIGRAM_K, VAL_WINDOWS, eval_steps, unigram_loss

torch.set_num_threads(1)

STEPS, BATCH_TOKENS = 120, 8 * 16
SHORT = {"widths": [24, 8, 16], "tokens": STEPS * BATCH_TOKENS, "batch_size": 8, "seq_len": 16}


@pytest.fixture(scope="module")
def sweep() -> tuple[list[dict], dict, dict]:
    points, summary, control = run_inline(DEMO, DEMO.Params(**SHORT))
    return points, summary, control.facts


def test_eval_steps_are_log_spaced_from_the_first_to_the_last() -> None:
    at = eval_steps(1000, 4)
    assert at == {1, 10, 100, 1000}
    assert min(eval_steps(187)) == 1 and max(eval_steps(187)) == 187


def test_every_model_trains_its_budget_with_exact_flops(sweep) -> None:
    points, _, facts = sweep
    vocab = len(load_corpus().vocab)
    n = {m["series"]: m["non_embedding_params"] for m in facts["models"]}
    assert list(n) == ["d=8", "d=16", "d=24"]  # sorted by width
    for width in (8, 16, 24):
        assert n[f"d={width}"] == flops.non_embedding_params(make_model(vocab, width, 2, 16, seed=0))
    trained = [p for p in points if p["series"] in n]
    assert [p["step"] for p in trained] == list(range(3 * STEPS))  # one model steps per yield
    for name in n:
        mine = [p for p in trained if p["series"] == name]
        assert [p["tokens"] for p in mine] == [BATCH_TOKENS * (s + 1) for s in range(STEPS)]
        assert all(p["flops"] == 6 * n[name] * p["tokens"] for p in mine)
        assert sum("val_loss" in p for p in mine) == len(eval_steps(STEPS))


def test_the_unigram_loss_is_letter_frequencies_counted_by_hand() -> None:
    corpus = load_corpus()
    counts, vocab = Counter(corpus.train.tolist()), len(corpus.vocab)
    targets = window_targets(fixed_starts(len(corpus.val), VAL_WINDOWS, 16), 16).tolist()
    total = len(corpus.train) + UNIGRAM_K * vocab
    by_hand = [-math.log((counts[c] + UNIGRAM_K) / total) for c in corpus.val[targets].tolist()]
    assert unigram_loss(corpus, 16) == pytest.approx(sum(by_hand) / len(by_hand), rel=1e-9)


def test_points_arrive_in_order_of_compute_and_the_frontier_is_the_lower_envelope_below_the_unigram_loss(
    sweep,
) -> None:
    points, summary, facts = sweep
    evaluated = [p for p in points if p["series"].startswith("d=") and "val_loss" in p]
    compute = [p["flops"] for p in evaluated]
    assert compute == sorted(compute)
    assert evaluated[0]["val_loss"] > facts["unigram_loss"]  # the first evaluations: still worse than letter counts
    evaluated = [p for p in evaluated if p["val_loss"] < facts["unigram_loss"]]
    envelope = powerlaw.lower_envelope([(p["flops"], p["val_loss"]) for p in evaluated])
    expected = [(evaluated[i]["flops"], evaluated[i]["val_loss"], evaluated[i]["series"]) for i in envelope]
    streamed = [(p["flops"], p["val_loss"], p["model"]) for p in points if p["series"] == "frontier"]
    assert streamed == expected
    assert [(f["flops"], f["val_loss"], f["model"]) for f in summary["frontier"]] == expected


def test_the_fit_follows_the_frontier(sweep) -> None:
    points, summary, _ = sweep
    frontier = [p for p in points if p["series"] == "frontier"]
    fits = [p for p in points if p["series"] == "fit"]
    assert len(fits) == len(frontier) - 2  # from the third frontier point on
    last = powerlaw.fit_power_law([p["flops"] for p in frontier], [p["val_loss"] for p in frontier])
    assert fits[-1]["exponent"] == last.b and fits[-1]["val_loss"] == last(fits[-1]["flops"])
    assert summary["fit"]["b"] == last.b and summary["fit"]["points"] == len(frontier)
    assert summary["fit"]["irreducible"] == (last.e > 0)
    spread = powerlaw.leave_one_out_exponents([p["flops"] for p in frontier], [p["val_loss"] for p in frontier])
    assert (fits[-1]["exponent_low"], fits[-1]["exponent_high"]) == spread
    assert summary["fit"]["exponent_leaving_one_out"] == list(spread)
    assert "exponent_low" not in fits[0]  # three points: none can be left out


def test_the_summary_names_the_best_model_per_compute(sweep) -> None:
    _, summary, facts = sweep
    n = {m["series"]: m["non_embedding_params"] for m in facts["models"]}
    rows = summary["best_per_compute"]
    assert rows and rows[-1]["best"] == "d=24" and rows[-1]["contenders"] == 1  # only the largest reaches the top
    for row in rows:
        assert row["params"] == n[row["best"]]
        assert row["tokens_per_param"] == pytest.approx(row["flops"] / (6 * row["params"] ** 2))
    assert summary["models"].keys() == n.keys()
    assert summary["published"]["hoffmann_2022"] == pytest.approx(0.34 * 0.28 / 0.62)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"widths": [8, 16]}, "widths"),
        ({"widths": [8, 16, 24, 32, 48, 64, 128]}, "widths"),
        ({"widths": [8, 16, 16]}, "widths"),
        ({"widths": [8, 12, 16]}, "widths"),
        ({"widths": [8, 16, 136]}, "widths"),
        ({"tokens": 1000}, "tokens"),
        ({"depth": 9}, "depth"),
        ({"seq_len": 129}, "seq_len"),
    ],
)
def test_bad_params_name_the_field(raw: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        DEMO.parse(raw)
    assert info.value.errors()[0]["loc"][0] == field


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"tokens": 1_000_000, "batch_size": 1, "seq_len": 8}, "steps per model"),
        ({"tokens": 1024, "batch_size": 32, "seq_len": 32}, "steps per model"),
        ({"widths": [8, 16, 128], "batch_size": 64, "seq_len": 128, "depth": 4}, "FLOPs per step"),
    ],
)
def test_cross_field_limits_say_why(raw: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DEMO.parse(raw)


def test_widths_are_sorted() -> None:
    assert DEMO.parse({"widths": [32, 8, 16]}).widths == [8, 16, 32]
