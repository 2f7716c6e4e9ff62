"""A reference run on a playground (`?ref=<run id>`, or pinned by a page script): drawn dashed and
labelled on the charts it matches, kept through new runs and reloads; bad ids are said."""

from __future__ import annotations

import re
import time

import httpx
from playwright.sync_api import expect

from tests.browser.test_playground import wait_status

GD = "gradient-descent"


def stored_run(base_url: str, demo: str = GD, **params) -> str:
    """A finished run of `demo` made through the API; returns its id."""
    with httpx.Client(base_url=base_url) as client:
        run = client.post(f"/api/demos/{demo}/runs", json=params).raise_for_status().json()
        deadline = time.monotonic() + 60
        while client.get(f"/api/runs/{run['id']}").json()["status"] != "done":
            assert time.monotonic() < deadline, "the reference run did not finish"
            time.sleep(0.2)
    return run["id"]


def reference_drawn(panel, run_id: str) -> None:
    """The run list names the reference, and the loss chart's readout has its dashed line."""
    item = panel.locator(".pg-run.is-reference")
    item.wait_for(timeout=10_000)
    assert run_id in item.inner_text()
    loss = panel.locator('figure.pg-chart[data-chart="1"]')
    label = loss.locator(".pg-readout-item", has_text="reference")
    label.wait_for(timeout=10_000)
    style = label.locator(".pg-swatch").evaluate("s => s.style.borderTopStyle")
    assert style == "dashed"


def run_beside_reference(page, base_url: str):
    """A stored gradient-descent run as the reference of the term page's panel, then a run of the
    panel's own to the end; returns (panel, reference id)."""
    ref = stored_run(base_url, lr=0.02, steps=40, pace=0)
    page.goto(f"/terms/{GD}?steps=30&pace=0&ref={ref}")
    panel = page.locator(f"#playground-{GD}")
    reference_drawn(panel, ref)
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Done")
    return panel, ref


def test_reference_from_the_link_survives_a_new_run_and_a_reload(page, base_url) -> None:
    panel, ref = run_beside_reference(page, base_url)
    reference_drawn(panel, ref)
    assert panel.locator(".pg-run").count() == 2  # the new run and the reference
    page.reload()
    reference_drawn(panel, ref)
    assert f"ref={ref}" in page.url


def test_bad_unknown_and_foreign_reference_ids_are_said(page, base_url) -> None:
    panel = page.locator(f"#playground-{GD}")
    errors = panel.locator(".pg-errors")
    page.goto(f"/terms/{GD}?ref=nosuchrun0000")
    errors.filter(has_text="No run “nosuchrun0000” on this server").wait_for(timeout=10_000)
    assert page.problems == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]
    page.problems.clear()  # the browser logs the 404 itself; it is the answer looked for
    page.goto(f"/terms/{GD}?ref=bad%20id%3Cb%3E")
    errors.filter(has_text="is not a run id").wait_for(timeout=10_000)
    assert errors.locator("b").count() == 0  # the id is text, never markup
    foreign = stored_run(base_url, "text-counter", steps=5)
    page.goto(f"/terms/{GD}?ref={foreign}")
    errors.filter(has_text="is a text-counter run").wait_for(timeout=10_000)
    assert panel.locator(".pg-run.is-reference").count() == 0
    assert panel.locator('[data-action="run"]').is_enabled()  # the panel still works


def test_a_page_script_pins_and_unpins_the_reference_in_an_embed(page, base_url) -> None:
    ref = stored_run(base_url, lr=0.05, steps=30, pace=0)
    page.goto(f"/embed/{GD}")
    panel = page.locator(f"#playground-{GD}")
    panel.locator(".pg-status").wait_for()
    # What a class board's script does on a student's page (see static/js/playground/reference.js).
    pin = "([s, id]) => document.querySelector(s).dispatchEvent(new CustomEvent('pg:reference', {detail: {runId: id}}))"
    page.evaluate(pin, [f"#playground-{GD}", ref])
    reference_drawn(panel, ref)
    path_readout = panel.locator('figure.pg-chart[data-chart="0"] .pg-readout')
    expect(path_readout).to_contain_text(re.compile(r"run\s*reference"))  # not "#0"
    assert f"ref={ref}" in page.url  # a reload draws it again
    panel.locator('[data-action="remove-reference"]').click()
    panel.locator(".pg-run.is-reference").wait_for(state="detached")
    assert "ref=" not in page.url
