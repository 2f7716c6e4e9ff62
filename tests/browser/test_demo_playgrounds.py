"""The playgrounds of issues 10-12 in a real browser: each runs (a short run, at full speed) and
draws what its lesson needs; the views particular to one demo have a test of their own."""

from __future__ import annotations

import math
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_playground import export_csv, run_playground

# demo, share-link params of a short run, the chart (by index), the lines it must draw
STEP_CHARTS = [
    ("pretraining", "steps=30&pace=0", 0, {"loss", "val loss", "uniform loss", "bigram val loss", "trigram val loss"}),
    ("fine-tuning", "steps=20&pace=0", 0, {"pretrained", "scratch"}),
    ("sft", "steps=20&pace=0", 1, {"all_tokens", "response_only"}),  # chart 0: the answers' form
    ("instruction-tuning", "steps=22&pace=0", 0, {"acc first", "acc last"}),  # only the tasks picked
    ("backpropagation", "steps=40&pace=0", 1, {f"grad norm {i}" for i in range(1, 6)}),  # 4 hidden + output
    ("loss-function", "steps=40&pace=0", 0, {"mse", "mae", "huber"}),
    ("loss-function", "mode=classification&steps=40&pace=0", 3, {"cross_entropy", "mse"}),
    ("distillation", "steps=40&pace=0", 0, {"labels", "argmax", "soft"}),
    ("synthetic-data", "generations=40&pace=0", 2, {"tv", "lost mass"}),
    ("training-compute", "steps=15", 2, {"flops", "flops attention", "flops counted"}),
]


def drawn_lines(figure) -> dict[str, str]:
    """A step chart's lines as its readout lists them: label -> the value at the latest step."""
    items = figure.locator(".pg-readout-item:has(.pg-swatch)")
    items.first.wait_for(state="attached")
    return dict(
        items.evaluate_all(
            "items => items.map(i => [i.querySelector('.pg-readout-label').textContent,"
            " i.querySelector('.pg-readout-value').textContent])"
        )
    )


def facts(panel) -> dict[str, str]:
    """The start event's facts as the panel shows them: title -> text."""
    return dict(
        panel.locator(".pg-facts .pg-fact").evaluate_all(
            "facts => facts.map(f => [f.querySelector('dt').textContent, f.querySelector('dd').innerText])"
        )
    )


@pytest.mark.parametrize(
    ("demo", "query", "chart", "lines"), STEP_CHARTS, ids=[f"{d}-{q.split('&')[0]}" for d, q, *_ in STEP_CHARTS]
)
def test_each_playground_runs_and_draws_its_series(page, demo: str, query: str, chart: int, lines: set[str]) -> None:
    panel = run_playground(page, demo, query)
    figure = panel.locator("figure.pg-chart").nth(chart)
    expect(figure.locator(".pg-plot")).to_have_attribute("aria-label", re.compile(r", 1 run$"))
    drawn = drawn_lines(figure)
    assert set(drawn) == lines  # no more: keys a run never carries get no line
    assert all(re.search(r"\d", value) for value in drawn.values()), drawn  # each has a value at the last step


def test_pretraining_streams_samples_from_noise_towards_words(page) -> None:
    panel = run_playground(page, "pretraining", "steps=60&pace=0")
    items = panel.locator(".pg-feed .pg-feed-item")
    # A sample starts every 50 steps and one ends on the last step; each takes 4 steps to write.
    assert items.evaluate_all("items => items.map(i => i.dataset.step)") == ["59", "53", "3"]
    samples = items.locator("pre").all_inner_texts()
    assert all(s.startswith("The ") and len(s.replace("\n", " ")) == len("The ") + 80 for s in samples)

    def letters_and_spaces(text: str) -> float:
        return sum(c.islower() or c == " " for c in text) / len(text)

    newest, oldest = samples[0], samples[-1]
    assert letters_and_spaces(newest) > letters_and_spaces(oldest) + 0.1, samples
    shown = facts(panel)
    assert shown["vocab size"] == "71" and math.isclose(float(shown["uniform loss"]), math.log(71), abs_tol=1e-3)


def test_backpropagation_shows_the_one_step_of_the_pages_worked_example(page) -> None:
    panel = run_playground(page, "backpropagation", "steps=5&pace=0")
    shown = facts(panel)
    assert float(re.search(r"max relative error\s*(\S+)", shown["gradient check"])[1]) < 1e-6
    panel_numbers = decimals(shown["one step"])
    # Every number of the page's table (forward values, backward gradients, the loss after the
    # step) is in the panel's one-step view; the panel rounds to 3 or 4 digits, the table to 4.
    table = decimals(page.locator("article table").filter(has_text="L after").inner_text())
    assert len(table) == 18  # z, h, y, L, dL/dy, dL/dw2, dL/dh, dL/dz, dL/dW1, L after
    for value in table:
        assert any(math.isclose(value, shown, rel_tol=2e-3, abs_tol=5e-4) for shown in panel_numbers), value


def decimals(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+\.\d+", text.replace("\u2212", "-"))]


def test_training_compute_x_axis_switches_to_tokens_flops_and_seconds(page) -> None:
    panel = run_playground(page, "training-compute", "steps=15")
    figure = panel.locator("figure.pg-chart").first
    plot = figure.locator(".pg-plot")
    for key in ("tokens", "flops", "seconds"):
        figure.locator(".pg-x-choice select").select_option(key)
        expect(plot).to_have_attribute("aria-label", re.compile(f"against {key}"))
        readout = figure.locator(".pg-readout").inner_text()
        assert re.search(rf"{key}\s*[\d.,]+", readout), readout
    assert "GPT-3's training compute here" in panel.locator(".pg-summary").inner_text()  # how long it would take


def test_scaling_laws_draws_the_sweep_its_frontier_and_fit_on_log_axes(page) -> None:
    panel = run_playground(page, "scaling-laws", "widths=8,16,24&tokens=15360&batch_size=8&seq_len=16")
    figure = panel.locator("figure.pg-chart").first
    expect(figure.locator(".pg-plot")).to_have_attribute("aria-label", re.compile("against flops, 1 run"))
    assert "val loss" in figure.locator(".pg-readout").inner_text()
    rows = export_csv(page, panel)
    assert {r["series"] for r in rows} == {"d=8", "d=16", "d=24", "frontier", "fit"}
    fits = [r for r in rows if r["series"] == "fit"]
    assert fits and 0 < float(fits[-1]["exponent"]) < 1
    # The exponent chart follows the fit alone: its exponent, and the lowest and highest that leaving
    # any one frontier point out gives.
    exponents = panel.locator("figure.pg-chart").nth(2)
    assert "#1 fit" in exponents.locator(".pg-readout").inner_text()
    legend = exponents.locator(".pg-legend").inner_text()
    assert all(line in legend for line in ("exponent", "exponent low", "exponent high")), legend
    assert float(fits[-1]["exponent_low"]) <= float(fits[-1]["exponent_high"])
    summary = panel.locator(".pg-summary").inner_text()
    assert "fit" in summary and "best per compute" in summary and "hoffmann 2022" in summary
