"""Figures for slides and handouts: a chart downloads as an SVG built from its data (title, axes,
legend as text, lines as vector paths) and a PNG of the same figure at twice the size; a term page
prints as its text, math and figures, without controls or navigation."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

from tests.browser.test_playground import wait_status
from tests.browser.test_reference_overlay import GD, run_beside_reference

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


def test_term_page_prints_text_math_and_figures_without_controls(page) -> None:
    page.goto(f"/terms/{GD}?steps=20&pace=0")
    page.emulate_media(media="print")
    panel = page.locator(f"#playground-{GD}")
    assert page.locator(".prose math").first.is_visible()
    assert page.locator(".prose h2", has_text="worked example").is_visible()
    for hidden in (".site-header", ".sidebar", ".breadcrumb", ".prev-next", ".exercises button", ".exercise-answer"):
        assert not page.locator(hidden).first.is_visible(), hidden
    assert not panel.is_visible()  # a playground that drew nothing prints nothing
    reference = page.locator(".references a[href^='http']").first
    after = reference.evaluate("a => getComputedStyle(a, '::after').content")
    assert reference.get_attribute("href") in after  # a link off the site shows where it leads

    page.emulate_media(media="screen")
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Done")
    page.emulate_media(media="print")
    assert panel.locator(".pg-chart canvas").first.is_visible()
    assert panel.locator(".pg-run").is_visible()  # which run the figures show
    for hidden in (".pg-controls", ".pg-tools", ".pg-figure-tools", ".pg-data"):
        assert not panel.locator(hidden).first.is_visible(), hidden


def test_lora_summary_bar_chart_exports_its_bars_as_svg(page) -> None:
    """The summary's bar chart (singular values of full fine-tuning's update) is a chart too.
    Only a LoRA run compared with full fine-tuning makes one: five steps of it, about 4 s."""
    page.goto("/terms/lora?steps=5&pace=0&compare_full=true")
    panel = page.locator("#playground-lora")
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Done", timeout=120_000)
    figure = panel.locator("figure.pg-sv")
    svg = ET.fromstring(download(page, figure.locator('button[data-figure="svg"]')))
    title = "".join(next(t for t in svg.iter(f"{SVG}text") if t.get("class") == "title").itertext())
    assert title.startswith("Singular values of the update ΔW")
    bars = [r for r in svg.iter(f"{SVG}rect") if r.get("stroke") == "none"]
    rank = int(panel.locator('input[name="rank"]').input_value())
    assert len(bars) > rank and len({b.get("fill") for b in bars[:rank]}) == 1  # the first `rank` stand out
    heights = [float(b.get("height")) for b in bars]
    assert heights == sorted(heights, reverse=True)  # largest first, as drawn


# Counts, per colour, the line segments and fills drawn on the canvas of the chart against KL:
# the prototype's methods are wrapped before the run, so every frame of it is seen, rebuilt
# canvases included.
SPY_ON_KL_CANVAS = """() => {
  const seen = { lineTo: {}, fill: {} };
  const proto = CanvasRenderingContext2D.prototype;
  for (const [name, style] of [["lineTo", "strokeStyle"], ["fill", "fillStyle"]]) {
    const drawn = proto[name];
    proto[name] = function (...args) {
      if (this.canvas.closest && this.canvas.closest('figure.pg-chart[data-x="kl"]')) {
        seen[name][this[style]] = (seen[name][this[style]] || 0) + 1;
      }
      return drawn.apply(this, args);
    };
  }
  window.klDrawing = seen;
}"""

# A colour as the canvas writes it back ("rgba(1,2,3,1)" reads "#010203").
CANVAS_COLOR = """(c) => {
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.fillStyle = c;
  return ctx.fillStyle;
}"""


def test_true_reward_against_kl_is_a_scatter_on_screen_and_in_the_svg(page) -> None:
    """KL can fall back from one step to the next, so joining the points in step order drew a
    zigzag; the demo declares the chart as dots. DPO beside RLHF for 30 steps: each series is
    30 dots, with no line through them, on the canvas and in the SVG."""
    page.goto("/terms/dpo?steps=30&pace=0&compare_rlhf=true")
    panel = page.locator("#playground-dpo")
    page.evaluate(SPY_ON_KL_CANVAS)
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Done", timeout=120_000)
    chart = panel.locator('figure.pg-chart[data-x="kl"]')

    svg = ET.fromstring(download(page, chart.locator('button[data-figure="svg"]')))
    drawn = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "lines")
    assert not list(drawn.iter(f"{SVG}path"))
    dots = [g for g in drawn.iter(f"{SVG}g") if g.get("class") == "dots"]
    assert ["".join(g.find(f"{SVG}title").itertext()) for g in dots] == ["dpo", "rlhf"]
    assert [len(g.findall(f"{SVG}circle")) for g in dots] == [30, 30]
    legend = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "legend")
    assert [c.get("fill") for c in legend.iter(f"{SVG}circle")] == [g.get("fill") for g in dots]

    colors = [page.evaluate(CANVAS_COLOR, g.get("fill")) for g in dots]
    seen = page.evaluate("window.klDrawing")
    assert all(seen["fill"].get(c, 0) >= 30 for c in colors), (colors, seen["fill"])  # the dots
    assert not any(seen["lineTo"].get(c) for c in colors), (colors, seen["lineTo"])  # and nothing joins them
    swatches = chart.locator(".pg-legend .pg-swatch")
    assert swatches.count() == 2 and all("is-dot" in (s.get_attribute("class") or "") for s in swatches.all())
