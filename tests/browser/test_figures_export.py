"""A chart downloads as a figure for slides: an SVG built from its data (title, axes, legend as
text, lines as vector paths) and a PNG of the same figure at twice the size."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

from tests.browser.test_reference_overlay import run_beside_reference

SVG = "{http://www.w3.org/2000/svg}"


def download(page, button) -> bytes:
    with page.expect_download() as got:
        button.click()
    return open(got.value.path(), "rb").read()


def test_loss_chart_exports_as_png_and_svg_with_title_axes_and_legend(page, base_url) -> None:
    panel, _ = run_beside_reference(page, base_url)
    loss = panel.locator('figure.pg-chart[data-chart="1"]')

    svg = ET.fromstring(download(page, loss.locator('button[data-figure="svg"]')))
    texts = {t.get("class"): "".join(t.itertext()) for t in svg.iter(f"{SVG}text") if t.get("class")}
    assert texts == {"title": "Loss", "x-label": "step", "y-label": "loss"}
    legend = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "legend")
    assert ["".join(t.itertext()) for t in legend.iter(f"{SVG}text")] == ["reference", "#1 loss"]
    paths = list(svg.iter(f"{SVG}path"))
    assert len(paths) == 2 and all(p.get("d").count("L") >= 20 for p in paths)  # vector lines, one per run
    assert paths[0].get("stroke-dasharray") and not paths[1].get("stroke-dasharray")
    assert not list(svg.iter(f"{SVG}image"))  # no raster on a step chart

    png = download(page, loss.locator('button[data-figure="png"]'))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert (width, height) == (2 * int(svg.get("width")), 2 * int(svg.get("height")))
    assert len(png) > 20_000  # lines and text were drawn, not a blank canvas
