"""Every figure the learning-rate page quotes from its playground, from fresh runs: the default
comparison under each schedule, the range test, and the check of its suggestion."""

from __future__ import annotations

from typing import Any

import torch

from app.demos.base import run_inline
from app.demos.learning_rate import DEMO, Params
from tests.unit.page_figures import as_read, percent

torch.set_num_threads(1)


def curves(**params: Any) -> dict[str, list[dict]]:
    """Each series' points, in step order."""
    points, _, _ = run_inline(DEMO, Params(pace=0, **params))
    out: dict[str, list[dict]] = {}
    for point in points:
        out.setdefault(point["series"], []).append(point)
    return out


def losses(curve: list[dict]) -> list[float]:
    return [point["loss"] for point in curve]


def test_the_default_comparison_and_the_first_exercise() -> None:
    text = as_read("learning-rate")
    runs = curves()
    slow, slower, good, bouncy, wild = (runs[f"lr={lr}"] for lr in ("0.01", "0.0562", "0.316", "1.78", "10"))
    assert {curve[0]["loss"] for curve in runs.values()} == {good[0]["loss"]}
    assert f"every loss starts at {good[0]['loss']:.3f}" in text
    ends = f"({slow[-1]['loss']:.2f} and {slower[-1]['loss']:.2f}"
    assert f"it crawls {ends} after 300 steps, accuracy near 55%)" in text
    assert f"barely move {ends}, still near the starting 0.69)" in text
    assert abs(slow[-1]["accuracy"] - 0.55) < 0.03 and abs(slower[-1]["accuracy"] - 0.55) < 0.03
    assert f"0.32 converges to {good[-1]['loss']:.2f} ({percent(good[-1]['accuracy'])} accuracy)" in text
    assert f"loss {good[-1]['loss']:.2f} and {percent(good[-1]['accuracy'])} accuracy" in text
    assert max(losses(good)) > 1  # the one spike
    assert min(losses(good)) == good[-1]["loss"]  # it ends lowest of its own run, and of all five:
    assert all(curve[-1]["loss"] > good[-1]["loss"] for curve in (slow, slower, bouncy))
    low, high = min(losses(bouncy)), max(losses(bouncy))
    assert f"1.78 oscillates between {low:.2f} and {high:.1f}" in text
    assert f"its loss is {bouncy[150]['loss']:.2f} at step 150 and {bouncy[-1]['loss']:.2f} at the end" in text
    assert f"though it touched {low:.2f}" in text
    assert wild[-1]["diverged"] and f"passing the loss bound of 50 at step {wild[-1]['step']}" in text
    assert f"lr = 10 diverges at step {wild[-1]['step']} with a loss of {wild[-1]['loss']:.0f}" in text


def test_the_schedules() -> None:
    text = as_read("learning-rate")
    cosine = curves(schedule="cosine")
    best = min(cosine, key=lambda name: cosine[name][-1]["loss"])
    assert best == "lr=1.78" and f"which now ends lowest, at {cosine[best][-1]['loss']:.2f}" in text
    step = curves(schedule="step")["lr=0.316"]
    assert f"0.32 is cut tenfold at step 100 and stalls at {step[-1]['loss']:.2f}" in text

    warm = curves(schedule="warmup_cosine")
    best = min(warm, key=lambda name: warm[name][-1]["loss"])
    end = warm[best][-1]
    assert best == "lr=1.78" and f"ends at loss {end['loss']:.2f} and {percent(end['accuracy'])} accuracy" in text
    assert f"0.316 ends worse than before ({warm['lr=0.316'][-1]['loss']:.2f})" in text
    wild = warm["lr=10"][-1]
    assert wild["diverged"] and f"rate 10 lasts until step {wild['step']}, but still diverges" in text
    assert f"lr = 10 lasts until step {wild['step']}, when warmup has raised it to about {wild['lr']:.1f}" in text


def test_the_range_test_and_its_check() -> None:
    text = as_read("learning-rate")
    points, summary, _ = run_inline(DEMO, Params(pace=0, mode="range_test"))
    lowest = min(points, key=lambda point: point["loss"])
    assert f"The loss is lowest ({lowest['loss']:.2f}) near rate {lowest['lr']:.1f}" in text
    assert f"falls to its lowest ({lowest['loss']:.2f}) at step {lowest['step']}, near lr 1," in text
    at_03 = next(point for point in points if point["lr"] >= 0.3)
    assert points[0]["loss"] - at_03["loss"] < 0.03 and "hardly moves until the rate reaches about 0.3" in text
    last = points[-1]
    assert last["diverged"] and f"(diverged at step {last['step']}, lr ≈ {last['lr']:.0f})" in text
    assert max(point["loss"] for point in points[lowest["step"] : -1]) > 2.5 and "blows up near 9" in text
    suggested = f"{summary['suggested_lr']:.2f}"
    assert f"where the smoothed loss fell fastest before its minimum, is {suggested}" in text
    assert f"The suggestion is about {summary['suggested_lr']:.2f}" in text

    check = curves(lr_min=0.1, lr_max=3, series=4)
    near, big = check["lr=0.965"][-1], check["lr=3"]
    assert near["accuracy"] == 1.0 and f"0.97 reaches {near['loss']:.3f}, every point classified" in text
    assert f"spikes to {max(losses(big)):.0f} and then ends lower still, at {big[-1]['loss']:.3f}" in text
