"""What the tests that tie a page's quoted figures to fresh runs share (tests/unit/test_figures_*.py)."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from typing import Any

import yaml

from app.demos.base import Demo, DemoParams, InlineControl, Point, run_inline
from app.glossary.content import split_front_matter
from app.settings import ROOT
from tests.unit.test_worked_examples import page_text


def as_read(slug: str) -> str:
    """A page's body and exercise answers as a reader sees them: YAML's quoting and line wraps undone."""
    front, body, _ = split_front_matter(page_text(slug))
    answers = [exercise["answer"] for exercise in yaml.safe_load(front)["exercises"]]
    return " ".join(" ".join([body, *answers]).split()).replace("''", "'")


def percent(value: float) -> str:
    return f"{value:.0%}"


def run_with_change(
    demo: Demo, params: DemoParams, after_step: int, **change: object
) -> tuple[list[Point], dict, InlineControl]:
    """Runs a demo to the end in this process and changes its live params as a reader's PATCH would
    once the point of `after_step` is out; returns (points, summary, control)."""

    def change_once_out(points: list[Point], control: InlineControl) -> None:
        if points[-1]["step"] == after_step:
            control.change(**change)

    return run_inline(demo, params, after_each=change_once_out)


class RecordedStudy:
    """A page's runs (a seed study, the runs its text and exercises quote), too slow together to rerun
    on every test run (minutes of training): their results are recorded once in
    tests/recorded/<name>.json, and every test run reruns a sample of them, so a changed demo fails
    until the study is recorded again (`python -m tests.unit.test_figures_<slug>`). The sample is the
    cheapest run that goes through the code the others go through.

    `runs` maps a key to the zero-argument function that computes that key's result (JSON numbers,
    lists and dicts): one training run, reduced to what the page quotes."""

    def __init__(self, name: str, what: str, runs: dict[str, Callable[[], Any]]) -> None:
        self.name, self.path = name, ROOT / "tests" / "recorded" / f"{name}.json"
        self.what, self.runs = what, runs

    def record(self) -> None:
        results = {}
        for key, compute in self.runs.items():
            started = time.monotonic()
            results[key] = compute()
            print(f"{key}: {time.monotonic() - started:.1f} s", flush=True)
        self.path.write_text(json.dumps({"what": self.what, "results": results}, indent=1) + "\n")

    def results(self) -> dict[str, Any]:
        recorded = json.loads(self.path.read_text())["results"]
        assert set(recorded) == set(self.runs), f"{self.path.name} records other runs than the study: record it again"
        return recorded

    def assert_current(self, *keys: str) -> None:
        """Reruns `keys` and checks each gives what was recorded (to float32 noise)."""
        recorded = self.results()
        for key in keys:
            assert _same(self.runs[key](), recorded[key]), f"{key} changed since {self.path.name} was recorded"


def record(*studies: RecordedStudy) -> None:
    """Records the studies named on the command line (`python -m tests.unit.test_figures_<slug> NAME`),
    or all of `studies` when none is named: a page with two studies need not rerun both."""
    names = sys.argv[1:] or [study.name for study in studies]
    unknown = set(names) - {study.name for study in studies}
    if unknown:
        raise SystemExit(f"no such study: {', '.join(sorted(unknown))}; these are: {[s.name for s in studies]}")
    for study in studies:
        if study.name in names:
            study.record()


def _same(fresh: Any, recorded: Any) -> bool:
    if isinstance(fresh, dict):
        return (
            isinstance(recorded, dict)
            and fresh.keys() == recorded.keys()
            and all(_same(fresh[k], recorded[k]) for k in fresh)
        )
    if isinstance(fresh, list | tuple):
        return isinstance(recorded, list) and len(fresh) == len(recorded) and all(map(_same, fresh, recorded))
    if isinstance(fresh, float):
        return math.isclose(fresh, recorded, rel_tol=1e-6, abs_tol=1e-9)
    return fresh == recorded
