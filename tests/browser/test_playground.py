"""Playgrounds in a real browser: run, steer live, export, compare series."""

from __future__ import annotations

import csv
import io
import math
import re

FINISHED = "Done|Diverged|Stopped"


def set_slider(page, selector: str, value: float) -> None:
    """Moves a range input as a person would: set the value, fire `input` then `change`."""
    page.eval_on_selector(
        selector,
        "(input, value) => { input.value = value; input.dispatchEvent(new Event('input', {bubbles: true}));"
        " input.dispatchEvent(new Event('change', {bubbles: true})); }",
        value,
    )


def type_value(panel, name: str, value: float) -> None:
    """Types a value into a field's box, as a person would, and lets go: `input`, then `change`."""
    box = panel.locator(f'input[name="{name}"]')
    box.fill(str(value))
    box.dispatch_event("change")


def wait_status(panel, pattern: str, timeout: float = 60_000) -> str:
    status = panel.locator(".pg-status")
    status.filter(has_text=re.compile(pattern)).wait_for(timeout=timeout)
    return status.inner_text()


def run_playground(page, demo: str, query: str = "", path: str = "", timeout: float = 60_000):
    """Opens `path` (default: the demo's term page) with share-link params, runs the demo's panel
    to the end and returns the panel."""
    page.goto(f"{path or '/terms/' + demo}?demo={demo}&{query}")
    panel = page.locator(f"#playground-{demo}")
    panel.scroll_into_view_if_needed()
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Done", timeout)
    return panel


def export_csv(page, panel) -> list[dict]:
    with page.expect_download() as download:
        panel.locator('[data-action="csv"]').click()
    path = download.value.path()
    return list(csv.DictReader(io.StringIO(open(path).read())))


def test_gradient_descent_run_live_lr_change_and_csv_export(page) -> None:
    page.goto("/terms/gradient-descent")
    panel = page.locator("#playground-gradient-descent")
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Running")
    panel.locator(".pg-status").filter(has_text=re.compile(r"step \d{2,}/")).wait_for(timeout=20_000)  # points arrive
    set_slider(page, "#pg-gradient-descent-lr", math.log10(0.03))
    change = panel.locator(".pg-changes li").first
    change.wait_for(timeout=10_000)
    assert "lr" in change.inner_text() and "step" in change.inner_text()
    wait_status(panel, FINISHED)
    rows = export_csv(page, panel)
    assert {"step", "loss", "lr", "x", "y"} <= set(rows[0])
    lrs = [float(r["lr"]) for r in rows]
    assert lrs[0] == 0.08 and abs(lrs[-1] - 0.03) < 0.001  # the slider's change really reached the run
    assert [int(r["step"]) for r in rows] == list(range(len(rows)))


def test_lora_panel_compares_with_full_fine_tuning(page) -> None:
    page.goto("/playground")
    panel = page.locator("#playground-lora")
    panel.scroll_into_view_if_needed()
    panel.locator('input[name="compare_full"]').check()
    type_value(panel, "steps", 30)
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Done", timeout=120_000)  # the first run pretrains the base
    series = {r["series"] for r in export_csv(page, panel)}
    assert series == {"lora", "full"}
    assert "%" in panel.locator(".pg-facts").inner_text()  # the share of trainable weights


def test_dpo_beta_change_during_a_run_is_recorded(page) -> None:
    page.goto("/playground")
    panel = page.locator("#playground-dpo")
    panel.scroll_into_view_if_needed()
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Running")
    set_slider(page, "#pg-dpo-beta", math.log10(0.3))
    change = panel.locator(".pg-changes li").first
    change.wait_for(timeout=10_000)
    assert "beta" in change.inner_text()
    panel.locator('[data-action="stop"]').click()


def test_preference_pairs_can_be_inspected_while_they_stream(page) -> None:
    page.goto("/playground")
    panel = page.locator("#playground-preference-data")
    panel.scroll_into_view_if_needed()
    panel.locator('[data-action="run"]').click()
    table = panel.locator(".pg-examples table")
    table.wait_for(timeout=20_000)
    headers = table.locator("th").all_inner_texts()
    assert [h.lower() for h in headers] == ["prompt", "chosen", "rejected", "r chosen", "r rejected", "flipped"]
    assert table.locator("tbody tr").count() >= 1
    panel.locator('[data-action="stop"]').click()


def test_a_running_run_offers_its_reproduce_locally_script(page) -> None:
    page.goto("/terms/gradient-descent")
    panel = page.locator("#playground-gradient-descent")
    link = panel.locator(".pg-script")
    assert link.is_hidden()  # nothing to reproduce before a run
    panel.locator('[data-action="run"]').click()
    link.wait_for(state="visible", timeout=30_000)
    href = link.get_attribute("href")
    assert re.fullmatch(r"/api/runs/[0-9a-f]+/script\.py", href)
    script = page.request.get(href)
    assert script.status == 200 and "import torch" in script.text()


def test_picking_a_surface_sets_a_start_on_its_map_and_an_lr_it_survives(page) -> None:
    page.goto("/terms/gradient-descent")
    panel = page.locator("#playground-gradient-descent")
    panel.locator('select[name="function"]').select_option("rosenbrock")
    wait_status(panel, "Set for rosenbrock: Learning rate 0.002, Start x -1.5, Start y 2")
    values = [panel.locator(f'input[name="{name}"]').input_value() for name in ("lr", "x0", "y0")]
    assert [float(v) for v in values] == [0.002, -1.5, 2.0]
    panel.get_by_role("button", name="Run", exact=True).click()
    assert wait_status(panel, FINISHED).startswith("Done"), "the suggested lr does not diverge"
