"""Every figure the synthetic-data page quotes from its playground, from fresh runs of 300
generations: no fresh data (the default), 10%, 20% and 50% fresh, and ten times the samples."""

from __future__ import annotations

import statistics
from typing import Any

import torch

from app.demos.base import run_inline
from app.demos.synthetic_data import DEMO, Params
from tests.unit.page_figures import as_read, percent

torch.set_num_threads(1)


def run(**params: Any) -> tuple[list[dict], dict]:
    points, summary, _ = run_inline(DEMO, Params(pace=0, **params))
    return points, summary


def test_without_fresh_data() -> None:
    text = as_read("synthetic-data")
    points, summary = run()
    first, last = points[0], points[-1]
    assert f"entropy {summary['truth_entropy']:.2f} nats" in text
    survivors = f"{first['types']} of 1000 survive, entropy {first['entropy']:.2f}"
    assert f"{survivors}, total variation {first['tv']:.2f}" in text
    types = ", ".join(f"{points[g]['types']} at {g}" for g in (50, 100))
    assert f"{points[10]['types']} types at generation 10, {types} and {last['types']} at 299" in text
    assert f"with entropy {last['entropy']:.2f}; the vanished types held {percent(last['lost_mass'])}" in text
    assert f"Only {first['types']} types appear in the very first sample; at generation 150 just " in text
    assert f"just {points[150]['types']} are left, and at the end {last['types']}." in text
    assert f"falls from {summary['truth_entropy']:.1f} (the truth) to {last['entropy']:.1f}" in text
    assert f"rises from {first['tv']:.2f} to {last['tv']:.2f}" in text


def test_with_fresh_data() -> None:
    text = as_read("synthetic-data")
    points, _ = run(fresh_fraction=0.1)
    later = points[10:]
    assert abs(statistics.mean(p["types"] for p in later) - 150) < 10
    assert abs(statistics.mean(p["tv"] for p in later) - 0.4) < 0.05
    assert f"about 150 types and a distance near 0.4 from generation 10 on ({points[-1]['types']} at the end)" in text
    points, _ = run(fresh_fraction=0.5)
    assert f"At 50% it holds {points[-1]['types']} types" in text

    points, _ = run(fresh_fraction=0.2)
    last = points[-1]
    assert f"({points[150]['types']} at generation 150, {last['types']} at the end)" in text
    assert f"the entropy stays near {last['entropy']:.1f} and the distance to the truth near {last['tv']:.2f}" in text


def test_ten_times_the_samples() -> None:
    text = as_read("synthetic-data")
    points, _ = run(samples=10_000)
    first, last = points[0], points[-1]
    assert f"{first['types']} types at generation 0, {last['types']} at generation 299" in text
    assert f"the first sample holds {first['types']} types (distance {first['tv']:.2f}), but " in text
    assert f"{points[150]['types']} are left by generation 150 and {last['types']} at the end, " in text
    assert f"with the distance up to {last['tv']:.2f}" in text
    points, _ = run(samples=10_000, fresh_fraction=0.1)
    assert abs(statistics.mean(p["types"] for p in points[10:]) - 600) < 30 and "about 600 survive" in text
