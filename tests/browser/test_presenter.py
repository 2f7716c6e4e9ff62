"""The presenter layout (`?layout=present`, or the panel's Present button): the panel fills the
screen in large type, the controls beside the charts on a projector and the charts above the
controls on a phone; Escape and the button leave it, and the URL keeps it."""

from __future__ import annotations

from playwright.sync_api import expect

GD = "gradient-descent"


def overlaps(a: dict, b: dict) -> bool:
    return a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_projector_layout_from_the_link_and_the_toggle(page) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"/terms/{GD}?layout=present")
    panel = page.locator(f"#playground-{GD}")
    expect(panel).to_have_class("playground is-presenting")
    assert panel.bounding_box() == {"x": 0, "y": 0, "width": 1280, "height": 720}
    form = panel.locator(".pg-controls").bounding_box()
    charts = panel.locator(".pg-charts").bounding_box()
    assert form["x"] + form["width"] <= charts["x"] and overlaps(form, charts)  # side by side
    assert charts["y"] + 200 < 720  # the charts are on the screen, not below it
    status_px = panel.locator(".pg-status").evaluate("s => parseFloat(getComputedStyle(s).fontSize)")
    assert status_px >= 18  # large type: 13.8 px outside the presenter view
    scale = "s => getComputedStyle(s).getPropertyValue('--pg-chart-scale')"
    assert panel.evaluate(scale) == "1.5"  # charts taller, axis text larger (read by colors.js)
    toggle = panel.locator('[data-action="present"]')
    expect(toggle).to_have_attribute("aria-pressed", "true")

    toggle.focus()
    page.keyboard.press("Escape")
    expect(panel).to_have_class("playground")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert "layout=" not in page.url
    assert panel.bounding_box()["y"] > 0  # back in the page
    assert panel.evaluate(scale) == ""

    toggle.click()
    expect(panel).to_have_class("playground is-presenting")
    assert "layout=present" in page.url  # a reload or a shared link opens in it


def test_phone_layout_in_an_embed_puts_the_charts_above_the_controls(page) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"/embed/{GD}?layout=present")
    panel = page.locator(f"#playground-{GD}")
    expect(panel).to_have_class("playground is-presenting")
    chart = panel.locator('figure.pg-chart[data-chart="0"]').bounding_box()
    form = panel.locator(".pg-controls").bounding_box()
    assert chart["y"] < 250 and chart["y"] + chart["height"] <= form["y"]
    assert panel.bounding_box()["width"] >= 370  # the frame's width, less the embed's margin


def test_an_embed_in_presenter_layout_stays_in_the_flow(page) -> None:
    """An embed's panel stays in its page's flow: fixed over the page it would leave the content
    nothing tall, and a frame sized to its content (embed.js) would shrink to nothing."""
    page.goto(f"/embed/{GD}?layout=present")
    panel = page.locator(f"#playground-{GD}")
    expect(panel).to_have_class("playground is-presenting")
    height = page.locator(".embed-main").evaluate("m => m.getBoundingClientRect().height")
    assert height > panel.bounding_box()["height"] > 500
