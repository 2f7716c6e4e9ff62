"""The fine-tuning page's figures, from fresh runs of the demo: the default run, the settings the
page and its exercises name, and the replay spread over seeds 0 to 4 (11 runs, about a minute of one
thread: recorded in tests/recorded and sampled here; record again with
`python -m tests.unit.test_figures_fine_tuning`)."""

from __future__ import annotations

import functools
import math
import statistics

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


def f2(x: float) -> str:
    return f"{x:.2f}"


def spread(values: list[float]) -> str:
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def assert_quoted(expected: list[str]) -> None:
    text = page()
    missing = [quote for quote in expected if quote not in text]
    assert not missing, missing


def test_the_default_run() -> None:
    series, facts = run()
    pre, scratch = series["pretrained"], series["scratch"]
    assert facts["epochs"] == 128 and facts["new_chars"] == 1200
    assert_quoted(
        [
            f"starts at {f2(pre[0]['val_loss'])} nats per character on forecasts, the scratch model at "
            f"{f2(scratch[0]['val_loss'])}, a uniform guess. After 300 steps: {f2(pre[-1]['val_loss'])} against "
            f"{f2(scratch[-1]['val_loss'])}.",
            f"English loss climbs from {f2(pre[0]['val_loss_english'])} to {f2(pre[-1]['val_loss_english'])}, "
            f"worse than the uniform guess ({f2(math.log(71))}). A default run makes 128 epochs",
        ]
    )


def test_freezing_and_little_data() -> None:
    one, _ = run(frozen_layers=1, compare_scratch=False)
    two, _ = run(frozen_layers=2, compare_scratch=False)
    little, _ = run(new_chars=400)
    ends = [f2(s["pretrained"][-1][key]) for s in (one, two) for key in ("val_loss", "val_loss_english")]
    quotes = [f"the forecast loss ends at {ends[0]} and English at {ends[1]}; with 2", f"at {ends[2]} and {ends[3]}."]
    wording = {"pretrained": "bottoms out near {} around step {}", "scratch": "the scratch model's near {}"}
    for name, where in wording.items():
        val = [p["val_loss"] for p in little[name]]
        best = min(range(len(val)), key=val.__getitem__)
        quotes.append(f"{where.format(f2(val[best]), round(best, -2))} and rises to {f2(val[-1])}")
        assert little[name][-1]["loss"] < 0.3
    assert_quoted(quotes)


def test_the_exercises() -> None:
    first, _ = run(steps=100)
    frozen, facts = run(steps=100, frozen_layers=2, compare_scratch=False)
    small, _ = run(steps=150, new_chars=200, compare_scratch=False)
    pre, scratch = first["pretrained"], first["scratch"]
    val = [p["val_loss"] for p in small["pretrained"]]
    best = min(range(len(val)), key=val.__getitem__)
    assert_quoted(
        [
            f"starts at {f2(pre[0]['val_loss'])} nats per character on forecasts, the scratch model at "
            f"{f2(scratch[0]['val_loss'])}, a uniform guess. After 100 steps: {f2(pre[-1]['val_loss'])} against "
            f"{f2(scratch[-1]['val_loss'])}",
            f"English loss climbs from {f2(pre[0]['val_loss_english'])} to {f2(pre[-1]['val_loss_english'])}: it "
            "forgets as it adapts.",
            f"{facts['trainable_params']['pretrained']:,} of {facts['n_params']:,} weights",
            f"falls only to {f2(frozen['pretrained'][-1]['val_loss'])} ({f2(pre[-1]['val_loss'])} with every weight",
            f"English rises only from {f2(frozen['pretrained'][0]['val_loss_english'])} to "
            f"{f2(frozen['pretrained'][-1]['val_loss_english'])} ({f2(pre[-1]['val_loss_english'])})",
            f"The training loss falls to {f2(small['pretrained'][-1]['loss'])}",
            f"lowest at the step-{best} evaluation ({f2(val[best])}) and rises to {f2(val[-1])} by the end",
            f"English ends at {f2(small['pretrained'][-1]['val_loss_english'])}, worse than a uniform guess",
        ]
    )
    samples = [p["sample"] for p in pre + scratch + small["pretrained"] if "sample" in p]
    text = page()
    for quoted in ("Esk Deep. Showers. Showers. Showers. South 4", "Moor. Morathor. Moraler.", "Squally shower."):
        assert quoted in text and any(quoted in sample for sample in samples), quoted


def replay_run(replay: float, seed: int, steps: int = 300) -> dict:
    series, _ = run(replay=replay, seed=seed, steps=steps, compare_scratch=False)
    last = series["pretrained"][-1]
    return {key: last[key] for key in ("val_loss", "val_loss_english")}


REPLAY_STUDY = RecordedStudy(
    "fine_tuning_replay_study",
    "fine-tuning: final losses without replay and with 25% replay at seeds 0-4 (300 steps), and 25% for 400 steps",
    {
        **{f"replay {r}, seed {s}": functools.partial(replay_run, r, s) for r in (0.0, 0.25) for s in SEEDS},
        "replay 0.25, seed 0, 400 steps": functools.partial(replay_run, 0.25, 0, 400),
    },
)


def test_the_recorded_replay_study_is_what_the_demo_gives_now() -> None:
    REPLAY_STUDY.assert_current("replay 0.25, seed 0")


def test_replay_over_seeds() -> None:
    ends = REPLAY_STUDY.results()
    plain, replayed = ([ends[f"replay {r}, seed {s}"] for s in SEEDS] for r in (0.0, 0.25))
    english = [[p["val_loss_english"] for p in runs] for runs in (plain, replayed)]
    forecasts = [[p["val_loss"] for p in runs] for runs in (plain, replayed)]
    least_gain = min(a - b for a, b in zip(*english, strict=True))
    assert_quoted(
        [
            f"English ends at {spread(english[1])} instead of {spread(english[0])} (lower by at least "
            f"{math.floor(least_gain * 100) / 100:.2f} on every seed), forecasts at {spread(forecasts[1])} instead of "
            f"{spread(forecasts[0])}.",
            f"English still ends at {f2(ends['replay 0.25, seed 0, 400 steps']['val_loss_english'])} (seed 0)",
        ]
    )


if __name__ == "__main__":
    REPLAY_STUDY.record()
