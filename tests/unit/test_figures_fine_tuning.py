"""The fine-tuning page's figures, tied to runs of the demo: the default run, the settings the page
and its exercises name, and the replay spread over seeds 0 to 4 (18 runs, a few minutes of one
thread: recorded in tests/recorded and sampled here; record again with
`python -m tests.unit.test_figures_fine_tuning`)."""

from __future__ import annotations

import functools
import math
import statistics

import pytest
import torch
import yaml

from app.demos.base import run_inline
from app.demos.fine_tuning import DEMO, Params
from app.glossary.content import split_front_matter
from app.settings import ROOT
from tests.unit.page_figures import RecordedStudy

torch.set_num_threads(1)
SEEDS = range(5)


def page() -> str:
    front, body, _ = split_front_matter((ROOT / "content" / "training" / "fine-tuning.md").read_text())
    answers = [exercise["answer"] for exercise in yaml.safe_load(front)["exercises"]]
    return " ".join(" ".join([body, *answers]).split())  # as read: YAML and line wraps undone


def run(**params: object) -> tuple[dict[str, list[dict]], dict]:
    """Each series' points, and the start event's facts."""
    points, _, control = run_inline(DEMO, Params(pace=0, **params))
    series: dict[str, list[dict]] = {}
    for point in points:
        series.setdefault(point["series"], []).append(point)
    return series, control.facts


def ends(points: list[dict]) -> dict:
    """One series reduced to what the page quotes: its first and last losses, its lowest held-out
    forecast loss and the step of it, and the samples it wrote."""
    val = [p["val_loss"] for p in points]
    best = min(range(len(val)), key=val.__getitem__)
    return {
        "first": {key: points[0][key] for key in ("val_loss", "val_loss_english")},
        "last": {key: points[-1][key] for key in ("loss", "val_loss", "val_loss_english")},
        "best": {"step": best, "val_loss": val[best]},
        "samples": [p["sample"] for p in points if "sample" in p],
    }


def quoted_run(**params: object) -> dict:
    """One run reduced to what the page quotes: each series' ends and the facts."""
    series, facts = run(**params)
    return {
        "facts": {key: facts[key] for key in ("epochs", "new_chars", "trainable_params", "n_params")},
        "series": {name: ends(points) for name, points in series.items()},
    }


def f2(x: float) -> str:
    return f"{x:.2f}"


def spread(values: list[float]) -> str:
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def assert_quoted(expected: list[str]) -> None:
    text = page()
    missing = [quote for quote in expected if quote not in text]
    assert not missing, missing


ALONE = {"compare_scratch": False}
RUNS = {
    "default": {},
    "1 frozen layer": {"frozen_layers": 1, **ALONE},
    "2 frozen layers": {"frozen_layers": 2, **ALONE},
    "400 characters": {"new_chars": 400},
    "100 steps": {"steps": 100},
    "100 steps, 2 frozen layers": {"steps": 100, "frozen_layers": 2, **ALONE},
    "150 steps, 200 characters": {"steps": 150, "new_chars": 200, **ALONE},
}


def replay_run(replay: float, seed: int, steps: int = 300) -> dict:
    series, _ = run(replay=replay, seed=seed, steps=steps, compare_scratch=False)
    last = series["pretrained"][-1]
    return {key: last[key] for key in ("val_loss", "val_loss_english")}


STUDY = RecordedStudy(
    "fine_tuning_runs",
    "fine-tuning: the default run, 1 and 2 frozen layers, 400 characters of new text, the exercises' runs, and "
    "the final losses without replay and with 25% replay at seeds 0-4 (300 steps), and 25% for 400 steps",
    {
        **{key: functools.partial(quoted_run, **params) for key, params in RUNS.items()},
        **{f"replay {r}, seed {s}": functools.partial(replay_run, r, s) for r in (0.0, 0.25) for s in SEEDS},
        "replay 0.25, seed 0, 400 steps": functools.partial(replay_run, 0.25, 0, 400),
    },
)


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    return STUDY.results()


def test_the_recorded_runs_are_what_the_demo_gives_now() -> None:
    """Two runs of the pretrained model alone (about 5 s together): 100 steps with 2 layers frozen,
    and 300 steps with 25% replay at seed 0. Between them they go through the fine-tuning loop, its
    evaluations and samples, freezing and replay; the runs with a scratch model beside it train that
    model in the same loop."""
    STUDY.assert_current("100 steps, 2 frozen layers", "replay 0.25, seed 0")


def test_the_default_run(runs: dict[str, dict]) -> None:
    run = runs["default"]
    pre, scratch, facts = run["series"]["pretrained"], run["series"]["scratch"], run["facts"]
    assert facts["epochs"] == 128 and facts["new_chars"] == 1200
    assert_quoted(
        [
            f"starts at {f2(pre['first']['val_loss'])} nats per character on forecasts, the scratch model at "
            f"{f2(scratch['first']['val_loss'])}, a uniform guess. After 300 steps: {f2(pre['last']['val_loss'])} "
            f"against {f2(scratch['last']['val_loss'])}.",
            f"English loss climbs from {f2(pre['first']['val_loss_english'])} to "
            f"{f2(pre['last']['val_loss_english'])}, worse than the uniform guess ({f2(math.log(71))}). A default "
            "run makes 128 epochs",
        ]
    )


def test_freezing_and_little_data(runs: dict[str, dict]) -> None:
    one, two = (runs[f"{n} frozen layer{'s' * (n > 1)}"]["series"]["pretrained"]["last"] for n in (1, 2))
    little = runs["400 characters"]["series"]
    quoted = [f2(last[key]) for last in (one, two) for key in ("val_loss", "val_loss_english")]
    quotes = [
        f"the forecast loss ends at {quoted[0]} and English at {quoted[1]}; with 2",
        f"at {quoted[2]} and {quoted[3]}.",
    ]
    wording = {"pretrained": "bottoms out near {} around step {}", "scratch": "the scratch model's near {}"}
    for name, where in wording.items():
        best = little[name]["best"]
        quotes.append(
            f"{where.format(f2(best['val_loss']), round(best['step'], -2))} and rises to "
            f"{f2(little[name]['last']['val_loss'])}"
        )
        assert little[name]["last"]["loss"] < 0.3
    assert_quoted(quotes)


def test_the_exercises(runs: dict[str, dict]) -> None:
    pre, scratch = runs["100 steps"]["series"]["pretrained"], runs["100 steps"]["series"]["scratch"]
    frozen = runs["100 steps, 2 frozen layers"]
    facts, frozen_ends = frozen["facts"], frozen["series"]["pretrained"]
    small = runs["150 steps, 200 characters"]["series"]["pretrained"]
    assert_quoted(
        [
            f"starts at {f2(pre['first']['val_loss'])} nats per character on forecasts, the scratch model at "
            f"{f2(scratch['first']['val_loss'])}, a uniform guess. After 100 steps: {f2(pre['last']['val_loss'])} "
            f"against {f2(scratch['last']['val_loss'])}",
            f"English loss climbs from {f2(pre['first']['val_loss_english'])} to "
            f"{f2(pre['last']['val_loss_english'])}: it forgets as it adapts.",
            f"{facts['trainable_params']['pretrained']:,} of {facts['n_params']:,} weights",
            f"falls only to {f2(frozen_ends['last']['val_loss'])} ({f2(pre['last']['val_loss'])} with every weight",
            f"English rises only from {f2(frozen_ends['first']['val_loss_english'])} to "
            f"{f2(frozen_ends['last']['val_loss_english'])} ({f2(pre['last']['val_loss_english'])})",
            f"The training loss falls to {f2(small['last']['loss'])}",
            f"lowest at the step-{small['best']['step']} evaluation ({f2(small['best']['val_loss'])}) and rises to "
            f"{f2(small['last']['val_loss'])} by the end",
            f"English ends at {f2(small['last']['val_loss_english'])}, worse than a uniform guess",
        ]
    )
    samples = pre["samples"] + scratch["samples"] + small["samples"]
    text = page()
    for quoted in ("Esk Deep. Showers. Showers. Showers. South 4", "Moor. Morathor. Moraler.", "Squally shower."):
        assert quoted in text and any(quoted in sample for sample in samples), quoted


def test_replay_over_seeds(runs: dict[str, dict]) -> None:
    plain, replayed = ([runs[f"replay {r}, seed {s}"] for s in SEEDS] for r in (0.0, 0.25))
    english = [[p["val_loss_english"] for p in ends] for ends in (plain, replayed)]
    forecasts = [[p["val_loss"] for p in ends] for ends in (plain, replayed)]
    least_gain = min(a - b for a, b in zip(*english, strict=True))
    assert_quoted(
        [
            f"English ends at {spread(english[1])} instead of {spread(english[0])} (lower by at least "
            f"{math.floor(least_gain * 100) / 100:.2f} on every seed), forecasts at {spread(forecasts[1])} instead of "
            f"{spread(forecasts[0])}.",
            f"English still ends at {f2(runs['replay 0.25, seed 0, 400 steps']['val_loss_english'])} (seed 0)",
        ]
    )


if __name__ == "__main__":
    STUDY.record()
