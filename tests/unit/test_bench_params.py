"""The benchmarks are not run by the suite, but the params they send must stay valid: a demo
that tightens its bounds (a start off the drawn map became a 422) would break them silently."""

from __future__ import annotations

import sys

import pytest

from app.demos import load_demos
from app.settings import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from bench_engine import OVERHEAD_CASES

DEMOS = load_demos([])


@pytest.mark.parametrize("name", sorted(OVERHEAD_CASES))
def test_each_overhead_case_is_a_valid_run(name: str) -> None:
    DEMOS[name].parse(OVERHEAD_CASES[name])
