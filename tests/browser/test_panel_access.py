"""The panel for readers on a phone or with a screen reader (issue 31): live controls beside
the charts on a narrow screen, and charts with a name and their data as a table."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.test_playground import export_csv, wait_status

GD = "#playground-gradient-descent"


def on_screen(page, locator) -> bool:
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_on_a_phone_the_live_controls_stay_beside_the_chart_while_a_run_trains(new_context) -> None:
    page = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    page.goto("/terms/gradient-descent?steps=600&pace=10")
    panel = page.locator(GD)
    lr = panel.locator("#pg-gradient-descent-lr")
    loss = panel.locator("figure.pg-chart").nth(1)
    panel.locator('[data-action="run"]').click()
    panel.locator(".pg-status").filter(has_text=re.compile(r"step \d+/")).wait_for(timeout=20_000)
    loss.scroll_into_view_if_needed()
    panel.locator(".pg-dock").wait_for(state="visible")
    assert on_screen(page, lr) and on_screen(page, loss.locator(".pg-plot"))  # both at once: drag and watch
    box = lr.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2)  # a tap on the docked slider
    change = panel.locator(".pg-changes li").first
    change.wait_for(timeout=10_000)
    assert change.inner_text().startswith("lr → ")
    dock = panel.locator(".pg-dock")
    assert dock.locator('[data-action="pause"]').is_visible()  # the run's buttons came along
    dock.locator('[data-action="stop"]').click()
    wait_status(panel, "Cancelled")
    panel.locator(".pg-dock").wait_for(state="hidden")
    assert panel.locator(".pg-controls > .pg-field[data-name='lr']").count() == 1  # back in its place
    assert page.evaluate("document.activeElement.dataset.action") == "run"  # focus went on, not to the page


def test_on_a_wide_screen_nothing_docks(page) -> None:
    page.goto("/terms/gradient-descent?steps=300&pace=10")
    panel = page.locator(GD)
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Running")
    panel.locator("figure.pg-chart").nth(1).scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    assert panel.locator(".pg-dock").is_hidden()
    panel.locator('[data-action="stop"]').click()


def test_each_chart_has_a_name_and_a_data_table_matching_the_run(page) -> None:
    page.goto("/terms/gradient-descent?steps=30&pace=0")
    panel = page.locator(GD)
    for name in ("Path on the surface", "Loss"):
        assert panel.get_by_role("img", name=re.compile(f"^{name}")).count() == 1
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Done")
    chart = panel.get_by_role("img", name=re.compile("^Loss by step, 1 run"))
    assert chart.count() == 1
    table_view = panel.locator("figure.pg-chart").nth(1).locator("details.pg-data")
    table_view.locator("summary").click()
    table = table_view.locator("table")
    expect(table.locator("thead th")).to_have_text(["step", "loss"])
    rows = [[c for c in r.split("\t")] for r in table.locator("tbody tr").all_inner_texts()]
    points = {int(r["step"]): float(r["loss"]) for r in export_csv(page, panel)}
    assert len(rows) == len(points) == 30
    for step, loss in rows:
        assert abs(float(loss.replace(",", "")) - points[int(step)]) <= 1e-3 * abs(points[int(step)])
    path = panel.locator("figure.pg-chart").nth(0).locator("details.pg-data")
    path.locator("summary").click()
    expect(path.locator("thead th")).to_have_text(["step", "x", "y"])  # drawn when the view opens
    expect(path.locator("tbody tr")).to_have_count(30)


def test_csv_export_reads_back_as_the_points_the_run_streamed(page) -> None:
    """Export CSV's format (tools.js pointsCsv), which the reproduce script's CSV follows:
    step first, then keys in order of appearance, numbers as the stream carried them."""
    page.goto("/terms/gradient-descent?steps=12&pace=0")
    panel = page.locator(GD)
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Done")
    with page.expect_download() as download:
        panel.locator('[data-action="csv"]').click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    run_id = panel.locator(".pg-permalink").get_attribute("href").rsplit("/", 1)[1]
    events = page.request.get(f"/api/runs/{run_id}/events").text()
    points = [
        p
        for line in events.splitlines()
        if line.startswith("data:") and '"points"' in line
        for p in json.loads(line[5:])["points"]
    ]
    lines = text.split("\n")
    assert lines[0] == "step,loss,lr,x,y" and lines[-1] == "" and len(lines) == len(points) + 2
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [float(r["loss"]) for r in rows] == [p["loss"] for p in points]  # no digit lost


def test_an_embed_page_has_no_serious_axe_violations(axe) -> None:
    assert axe("/embed/gradient-descent?lr=0.15&steps=80&controls=lr,steps") == {"light": [], "dark": []}


def test_a_learning_rate_sweep_readout_shows_each_lines_value_and_no_one_lr(page) -> None:
    page.goto("/terms/learning-rate?demo=learning-rate&steps=30&pace=0")
    panel = page.locator("#playground-learning-rate")
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Done")
    readout = panel.locator("figure.pg-chart").first.locator(".pg-readout")
    labels = readout.locator(".pg-readout-label").all_text_contents()
    assert len([label for label in labels if label.startswith("lr=")]) >= 3, labels  # one line per learning rate
    assert "lr" not in labels, labels  # the series train with different rates: no single lr to show
