"""Generic panel views that new demos declare: a text feed, and a chart whose x can be switched."""

from __future__ import annotations

from tests.browser.test_playground import run_playground


def open_text_counter(page, steps: int):
    return run_playground(page, "text-counter", f"steps={steps}", path="/playground")


def test_feed_shows_streamed_text_newest_first_labelled_by_step(page) -> None:
    panel = open_text_counter(page, steps=23)  # samples every 5 steps: 0, 5, 10, 15, 20
    items = panel.locator(".pg-feed .pg-feed-item")
    assert items.evaluate_all("items => items.map(i => i.dataset.step)") == ["20", "15", "10", "5", "0"]
    assert set(items.evaluate_all("items => items.map(i => i.dataset.key)")) == {"sample"}
    assert items.evaluate_all("items => items.map(i => 'series' in i.dataset)") == [False] * 5
    assert items.first.locator("pre").inner_text() == "sample at step 20:\n" + "ab" * 7
    assert "step 20" in items.first.inner_text()
    assert page.locator("#playground-gradient-descent .pg-feed").count() == 0  # declared by no feed


def test_x_axis_switch_redraws_the_chart_against_the_chosen_key(page) -> None:
    panel = open_text_counter(page, steps=40)
    figure = panel.locator("figure.pg-chart").first
    plot = figure.locator(".pg-plot")
    assert "by step" in plot.get_attribute("aria-label")
    before = figure.locator("canvas").evaluate("c => c.toDataURL()")
    figure.locator(".pg-x-choice select").select_option("tokens")
    assert figure.get_attribute("data-x") == "tokens"
    assert "against tokens" in plot.get_attribute("aria-label")
    assert "tokens" in figure.locator(".pg-readout").inner_text()
    assert figure.locator("canvas").evaluate("c => c.toDataURL()") != before
    figure.locator(".pg-x-choice select").select_option("step")
    assert "by step" in plot.get_attribute("aria-label")
