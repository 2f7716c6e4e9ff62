"""The pretraining page's figures, from fresh runs of the demo: the default run and its count
baselines, the exercises' runs, a reader's text, and the schedule and clipping spreads over seeds
0 to 4 (25 500-step runs, recorded in tests/recorded and sampled here)."""

from __future__ import annotations

import functools
import re
import statistics

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


def test_the_default_run_and_its_baselines() -> None:
    points, summary, facts = run()
    assert facts["epochs"] == summary["epochs"]
    assert_quoted(
        [
            f"The first loss is {f2(points[0]['loss'])}, on the uniform line",
            f"At step 40 it is {f2(points[40]['loss'])} (common characters learned); it ends at "
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
        assert fragment in " ".join(points[int(step)]["sample"].split()), (step, fragment)
    assert facts["trigram_val_loss"] < summary["final"]["val_loss"] < facts["bigram_val_loss"]


def test_the_exercises() -> None:
    default, default_summary, _ = run(steps=150)
    slow, slow_summary, _ = run(steps=150, lr=0.0003)
    fast, fast_summary, _ = run(steps=150, lr=0.03)
    _, tamed, _ = run(steps=150, lr=0.03, schedule="warmup_cosine", warmup=50, clip=1.0)
    plateau = [p["val_loss"] for p in fast[25:76]]
    assert max(plateau) - min(plateau) < 0.15
    assert_quoted(
        [
            f"The first loss is {f2(default[0]['loss'])}, on the uniform line ln 71 ≈ 4.26",
            f"It is {f2(default[25]['loss'])} by step 25 and ends at {f2(default_summary['final']['loss'])} on "
            f"training batches, {f2(default_summary['final']['val_loss'])} on held-out text, after "
            f"{default_summary['tokens']:,} characters",
            f"the held-out loss is {f2(slow[50]['val_loss'])} at step 50 ({f2(default[50]['val_loss'])} at lr 0.003) "
            f"and ends at {f2(slow_summary['final']['val_loss'])} instead of "
            f"{f2(default_summary['final']['val_loss'])}",
            f"the loss is {f2(fast[3]['loss'])} at step 3 ({f2(default[3]['loss'])} at lr 0.003)",
            f"ends at {f2(fast_summary['final']['val_loss'])} on held-out text, against "
            f"{f2(default_summary['final']['val_loss'])}",
            f"clip 1 ends at {f2(tamed['final']['val_loss'])} here (seed 0)",
        ]
    )


def test_a_readers_small_text_is_memorised() -> None:
    text = texts.ENGLISH_TRAIN[:3000]
    _, summary, facts = run(text=text)
    assert facts["vocab_size"] == len(set(text))
    assert_quoted(
        [
            f"on the first 3,000 characters of our prose ({facts['vocab_size']} different characters), the default "
            f"run ends at {f2(summary['final']['loss'])} nats per character on its training batches but "
            f"{f2(summary['final']['val_loss'])} on the held-out tenth",
        ]
    )


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
    "pretraining_seed_study",
    "final held-out loss of pretraining at lr 0.005, 500 steps, seeds 0-4, per setting",
    {f"{name}, seed {seed}": functools.partial(study_run, name, seed) for name in SETTINGS for seed in SEEDS},
)


def test_the_recorded_seed_study_is_what_the_demo_gives_now() -> None:
    STUDY.assert_current("constant, seed 0", "warmup_cosine, seed 0")


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
