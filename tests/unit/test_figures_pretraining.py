"""The pretraining page's figures, tied to runs of the demo: the default run and its count
baselines, the exercises' runs, a reader's text, and the schedule and clipping spreads over seeds
0 to 4 (31 runs, 25 of them of 500 steps: minutes of one CPU thread, recorded in tests/recorded and
sampled here; record again with `python -m tests.unit.test_figures_pretraining`)."""

from __future__ import annotations

import functools
import re
import statistics

import pytest
import torch
import yaml

from app.demos.base import run_inline
from app.demos.pretraining import DEMO, Params
from app.glossary.content import split_front_matter
from app.ml import texts
from app.settings import ROOT
from tests.unit.page_figures import RecordedStudy

torch.set_num_threads(1)
SEEDS = range(5)


def page() -> str:
    front, body, _ = split_front_matter((ROOT / "content" / "training" / "pretraining.md").read_text())
    answers = [exercise["answer"] for exercise in yaml.safe_load(front)["exercises"]]
    return " ".join(" ".join([body, *answers]).split())  # as read: YAML and line wraps undone


def run(**params: object) -> tuple[list[dict], dict, dict]:
    points, summary, control = run_inline(DEMO, Params(pace=0, **params))
    return points, summary, control.facts


def f2(x: float) -> str:
    return f"{x:.2f}"


def assert_quoted(expected: list[str]) -> None:
    text = page()
    missing = [quote for quote in expected if quote not in text]
    assert not missing, missing


AT_STEPS = (0, 3, 25, 40, 50)  # the steps whose losses the page quotes
PLATEAU = slice(25, 76)  # the steps over which lr 0.03's held-out loss stalls


def quoted_run(**params: object) -> dict:
    """One run reduced to what the page quotes: the losses at AT_STEPS, how far the held-out loss
    moves over PLATEAU, the summary, the facts, and the samples by the step that wrote them."""
    points, summary, facts = run(**params)
    plateau = [point["val_loss"] for point in points[PLATEAU]]
    return {
        "at": {str(step): {key: points[step][key] for key in ("loss", "val_loss")} for step in AT_STEPS},
        "plateau_range": max(plateau) - min(plateau),
        "summary": {key: summary[key] for key in ("final", "tokens", "epochs")},
        "facts": {key: facts[key] for key in ("epochs", "vocab_size", "bigram_val_loss", "trigram_val_loss")},
        "samples": {str(point["step"]): point["sample"] for point in points if "sample" in point},
    }


SHORT = {"steps": 150}  # the exercises' runs
READERS_TEXT = texts.ENGLISH_TRAIN[:3000]
RUNS = {
    "default": {},
    "150 steps": SHORT,
    "150 steps, lr 0.0003": {**SHORT, "lr": 0.0003},
    "150 steps, lr 0.03": {**SHORT, "lr": 0.03},
    "150 steps, lr 0.03, warm-up and cosine, clip 1": {
        **SHORT,
        "lr": 0.03,
        "schedule": "warmup_cosine",
        "warmup": 50,
        "clip": 1.0,
    },
    "a reader's 3,000 characters": {"text": READERS_TEXT},
}
SETTINGS = {  # the schedule and clipping study of the page: lr 0.005, 500 steps, seeds 0 to 4
    "constant": {},
    "clip": {"clip": 1.0},
    "warmup_cosine": {"schedule": "warmup_cosine", "warmup": 50},
    "warmup_cosine_clip": {"schedule": "warmup_cosine", "warmup": 50, "clip": 1.0},
    "cosine_only": {"schedule": "warmup_cosine", "warmup": 1},  # the control: decay without a warm-up
}


def study_run(name: str, seed: int) -> float:
    return run(lr=0.005, steps=500, seed=seed, **SETTINGS[name])[1]["final"]["val_loss"]


STUDY = RecordedStudy(
    "pretraining_runs",
    "pretraining: the default run, the exercises' 150-step runs, the default on 3,000 characters of our prose, "
    "and the final held-out loss at lr 0.005, 500 steps, seeds 0-4, per schedule and clipping setting",
    {
        **{key: functools.partial(quoted_run, **params) for key, params in RUNS.items()},
        **{f"{name}, seed {seed}": functools.partial(study_run, name, seed) for name in SETTINGS for seed in SEEDS},
    },
)


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    return STUDY.results()


def test_the_recorded_runs_are_what_the_demo_gives_now() -> None:
    """The warm-up, cosine and clipping exercise (about 3 s): the model, its data, the evaluation,
    the samples, the schedule and clipping in one 150-step run. The other runs differ from it in
    their parameters only: rate, length, schedule, seed, and for one of them the text."""
    STUDY.assert_current("150 steps, lr 0.03, warm-up and cosine, clip 1")


def test_the_default_run_and_its_baselines(runs: dict[str, dict]) -> None:
    run = runs["default"]
    at, summary, facts = run["at"], run["summary"], run["facts"]
    assert facts["epochs"] == summary["epochs"]
    assert_quoted(
        [
            f"The first loss is {f2(at['0']['loss'])}, on the uniform line",
            f"At step 40 it is {f2(at['40']['loss'])} (common characters learned); it ends at "
            f"{f2(summary['final']['loss'])} on training batches and {f2(summary['final']['val_loss'])} on held-out "
            f"text, after {summary['tokens']:,} characters: {summary['epochs']:.1f} epochs (passes over the "
            "training text)",
            f"at {f2(facts['bigram_val_loss'])}, a trigram (from the two before) at {f2(facts['trigram_val_loss'])}, "
            "both with add-0.05 smoothing",
        ]
    )
    body = page().split("## In the playground", 1)[1].split("## The math", 1)[0]
    quoted = re.findall(r'\("([^"]+)", step (\d+)\)', body)
    assert [int(step) for _, step in quoted] == [3, 103, 399]
    for fragment, step in quoted:  # each quoted sample is a piece of what the run wrote at that step
        assert fragment in " ".join(run["samples"][step].split()), (step, fragment)
    assert facts["trigram_val_loss"] < summary["final"]["val_loss"] < facts["bigram_val_loss"]


def test_the_exercises(runs: dict[str, dict]) -> None:
    default, slow, fast = (runs[key] for key in ("150 steps", "150 steps, lr 0.0003", "150 steps, lr 0.03"))
    tamed = runs["150 steps, lr 0.03, warm-up and cosine, clip 1"]
    assert fast["plateau_range"] < 0.15
    ends = {name: run["summary"]["final"] for name, run in {"default": default, "slow": slow, "fast": fast}.items()}
    assert_quoted(
        [
            f"The first loss is {f2(default['at']['0']['loss'])}, on the uniform line ln 71 ≈ 4.26",
            f"It is {f2(default['at']['25']['loss'])} by step 25 and ends at {f2(ends['default']['loss'])} on "
            f"training batches, {f2(ends['default']['val_loss'])} on held-out text, after "
            f"{default['summary']['tokens']:,} characters",
            f"the held-out loss is {f2(slow['at']['50']['val_loss'])} at step 50 "
            f"({f2(default['at']['50']['val_loss'])} at lr 0.003) and ends at {f2(ends['slow']['val_loss'])} "
            f"instead of {f2(ends['default']['val_loss'])}",
            f"the loss is {f2(fast['at']['3']['loss'])} at step 3 ({f2(default['at']['3']['loss'])} at lr 0.003)",
            f"ends at {f2(ends['fast']['val_loss'])} on held-out text, against {f2(ends['default']['val_loss'])}",
            f"clip 1 ends at {f2(tamed['summary']['final']['val_loss'])} here (seed 0)",
        ]
    )


def test_a_readers_small_text_is_memorised(runs: dict[str, dict]) -> None:
    run = runs["a reader's 3,000 characters"]
    vocab_size, final = run["facts"]["vocab_size"], run["summary"]["final"]
    assert vocab_size == len(set(READERS_TEXT))
    assert_quoted(
        [
            f"on the first 3,000 characters of our prose ({vocab_size} different characters), the default "
            f"run ends at {f2(final['loss'])} nats per character on its training batches but "
            f"{f2(final['val_loss'])} on the held-out tenth",
        ]
    )


def test_schedule_and_clipping_over_seeds() -> None:
    results = STUDY.results()
    ends = {name: [results[f"{name}, seed {seed}"] for seed in SEEDS] for name in SETTINGS}

    def spread(name: str) -> str:
        return f"{statistics.mean(ends[name]):.2f} ± {statistics.stdev(ends[name]):.2f}"

    assert spread("warmup_cosine") == spread("warmup_cosine_clip")
    assert sum(abs(v - 2.3) < 0.1 for v in ends["constant"]) == 3
    assert sum(v > 2.3 for v in ends["cosine_only"]) == 4
    for name in ("clip", "warmup_cosine", "warmup_cosine_clip"):
        mean = statistics.mean(ends[name])
        assert all(abs(v - mean) < 0.05 for v in ends[name])
        wins = [seed for seed in SEEDS if ends[name][seed] < ends["constant"][seed]]
        assert wins == [0, 1, 2, 4]
    assert_quoted(
        [
            f"the held-out loss ends at {spread('constant')} over seeds 0 to 4: three of the five runs stall near 2.3",
            f"at 1.0 (Pascanu et al. 2013) alone gives {spread('clip')};",
            f"(Loshchilov and Hutter 2017) gives {spread('warmup_cosine')}, with clipping or without.",
        ]
    )


if __name__ == "__main__":
    STUDY.record()
