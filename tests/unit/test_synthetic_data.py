"""The model-collapse loop: one step against a plain-Python reference, and its invariants."""

from __future__ import annotations

import bisect
import itertools
import math

import pytest
import torch
from pydantic import ValidationError

from app.demos.base import run_inline
from app.demos.synthetic_data import DEMO, Params
from app.ml import collapse

torch.set_num_threads(1)


def reference_step(model: list[float], truth: list[float], n: int, fresh: float, seed: int) -> list[float]:
    """Sample and refit in plain Python, from the same uniform numbers: the truth's share first."""
    u = torch.rand(n, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)).tolist()
    n_real = round(fresh * n)
    counts = [0] * len(model)
    for probs, draws in ((truth, u[:n_real]), (model, u[n_real:])):
        cdf = list(itertools.accumulate(probs))
        for x in draws:
            counts[min(bisect.bisect_right(cdf, x), len(probs) - 1)] += 1
    return [c / n for c in counts]


def test_zipf_entropy_and_distance_against_their_formulas() -> None:
    p = collapse.zipf(5, 1.0).tolist()
    h5 = sum(1 / k for k in range(1, 6))
    assert p == pytest.approx([1 / (k * h5) for k in range(1, 6)], rel=1e-12)
    assert collapse.entropy(torch.tensor(p, dtype=torch.float64)) == pytest.approx(-sum(q * math.log(q) for q in p))
    a, b = torch.tensor([0.5, 0.5, 0.0]), torch.tensor([0.25, 0.25, 0.5])
    assert collapse.total_variation(a, b) == pytest.approx(0.5)
    assert collapse.lost_mass(a, b) == pytest.approx(0.5)


@pytest.mark.parametrize(("fresh", "seed"), [(0.0, 1), (0.3, 2), (1.0, 3)])
def test_the_collapse_step_matches_a_plain_python_reference(fresh: float, seed: int) -> None:
    truth = collapse.zipf(50, 1.2)
    model = collapse.collapse_step(truth, truth, 200, 1.0, torch.Generator().manual_seed(0))
    ours = collapse.collapse_step(model, truth, 500, fresh, torch.Generator().manual_seed(seed))
    assert ours.tolist() == reference_step(model.tolist(), truth.tolist(), 500, fresh, seed)
    assert ours.sum().item() == pytest.approx(1.0)


def test_without_fresh_data_a_lost_type_never_returns() -> None:
    points, _, control = run_inline(DEMO, Params(vocab=200, samples=300, generations=100, pace=0))
    types = [q["types"] for q in points]
    assert all(b <= a for a, b in itertools.pairwise(types))
    assert types[-1] < types[0] / 3
    assert points[-1]["entropy"] < control.facts["truth_entropy"] - 1


def test_fresh_data_stops_the_slide() -> None:
    synthetic, _, _ = run_inline(DEMO, Params(generations=150, pace=0))
    mixed, _, _ = run_inline(DEMO, Params(generations=150, fresh_fraction=0.1, pace=0))
    assert mixed[-1]["types"] > 5 * synthetic[-1]["types"]
    assert mixed[-1]["tv"] < synthetic[-1]["tv"] - 0.2


@pytest.mark.parametrize("bad", [{"fresh_fraction": 1.5}, {"samples": 5}, {"vocab": 1}, {"generations": 0}])
def test_bad_params_are_rejected(bad: dict) -> None:
    with pytest.raises(ValidationError):
        Params(**bad)


def test_a_live_change_of_the_fresh_share_applies_from_the_next_generation() -> None:
    from app.demos.base import InlineControl

    control = InlineControl(Params(generations=4, pace=0))
    shares = []
    for point in DEMO.steps(control.params, control):
        shares.append(point["fresh_fraction"])
        control.change(fresh_fraction=0.2, samples=500)
    assert shares == [0.0, 0.2, 0.2, 0.2]
