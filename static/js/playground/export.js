// Figures for slides and handouts: each chart gets "PNG" and "SVG" buttons. The SVG is built from
// the chart's own data and scales (figure-svg.js: vector lines, real text), with the title, both
// axes labelled and a legend; the PNG is that SVG drawn at twice its size, so both files show
// the same figure.

import { rgba } from "./colors.js";
import { download, el } from "./dom.js";
import { chartSvg } from "./figure-svg.js";
import { fmtTick, fmtValue, humanize } from "./format.js";
import { linearSplits, logSplits } from "./scales.js";

const FIGURE_WIDTH = 720; // px: a slide's half or a handout's column, whatever the screen was
const PNG_SCALE = 2;

function ticks(axis, pixels, per) {
  const count = Math.max(2, Math.min(10, Math.floor(pixels / per)));
  const values = axis.log ? logSplits(axis.min, axis.max, count) : linearSplits(axis.min, axis.max, count);
  return values.map((value) => ({ value, text: fmtTick(value) }));
}

function axisOf(u, key, label) {
  const scale = u.scales[key];
  return { label, min: scale.min, max: scale.max, log: scale.distr === 3 };
}

/** The chart as figure-svg.js describes a figure, or null before it has drawn anything. */
export function chartFigure(chart) {
  const u = chart.u;
  if (!u || !chart.lines.length) return null;
  const theme = chart.scene.theme;
  const title = chart.spec.title || chart.spec.y.map(humanize).join(", ");
  const x = axisOf(u, "x", humanize(chart.xKey));
  const y = axisOf(u, "y", chart.spec.y.map(humanize).join(", "));
  const plotWidth = FIGURE_WIDTH - 110;
  // The drawn chart's proportions (a surface's contours stay round).
  const plotHeight = Math.round(Math.max(200, Math.min(520, (plotWidth * u.bbox.height) / Math.max(1, u.bbox.width))));
  x.ticks = ticks(x, plotWidth, 70);
  y.ticks = ticks(y, plotHeight, 36);
  const several = new Set(chart.lines.map((l) => l.run)).size > 1; // then the current run says its number
  const lines = chart.lines.map((line, i) => {
    const points = chart.stepX
      ? u.data[0].map((step, j) => [step, u.data[i + 1][j]]).filter(([, v]) => v != null) // spanned, as drawn
      : chart.xy[i].pts.map(([px, py]) => [px, py]);
    const label = line.isCurrent && several ? `#${line.run.num} ${line.label}` : line.label;
    return { label, stroke: line.stroke, width: line.width, dash: line.dash, points, marks: chart.dots ? "dots" : "line" };
  });
  const current = chart.scene.history.current;
  const markers = chart.stepX && current
    ? current.controls.map((c) => ({ x: c.step, text: Object.entries(c.changes).map(([k, v]) => `${k}→${fmtValue(v)}`).join(" ") }))
    : [];
  const surface = chart.surface();
  const background = surface && chart.heat
    ? { href: chart.heat.canvas.toDataURL("image/png"), x0: surface.view[0], x1: surface.view[1], y0: surface.view[2], y1: surface.view[3] }
    : null;
  return {
    title, width: FIGURE_WIDTH, plotHeight, x, y, lines, markers, background,
    colors: { bg: theme.bg, fg: theme.fg, muted: theme.fgMuted, grid: theme.grid, marker: theme.warn },
    font: theme.fontSans,
  };
}

/** The SVG's text drawn on a canvas at `scale`: a PNG blob. */
async function svgToPng(svg, scale) {
  const image = new Image();
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(image.naturalWidth * scale);
  canvas.height = Math.round(image.naturalHeight * scale);
  canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}

const fileStem = (demo, title) => `${demo}-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")}`;

/** PNG and SVG buttons at the end of `node` (a chart's figure) for the figure that `describe()`
 * gives (null: nothing drawn yet); `report(message)` says what went wrong. */
function addButtons(node, title, describe, report) {
  const tools = el("div", "pg-figure-tools");
  for (const format of ["PNG", "SVG"]) {
    const button = el("button", "button small", format);
    button.type = "button";
    button.dataset.figure = format.toLowerCase();
    button.setAttribute("aria-label", `Download the chart “${title}” as ${format}`);
    tools.append(button);
  }
  tools.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-figure]");
    if (!button) return;
    const figure = describe();
    if (!figure) return report(`The chart “${title}” has nothing to export yet: run the playground first.`);
    const svg = chartSvg(figure);
    const stem = fileStem(demoOf(node), title);
    if (button.dataset.figure === "svg") return download(`${stem}.svg`, svg, "image/svg+xml");
    const png = await svgToPng(svg, PNG_SCALE);
    if (png) download(`${stem}.png`, png, "image/png");
    else report(`The chart “${title}” could not be drawn as a PNG.`);
  });
  node.append(tools);
}

const demoOf = (node) => (node.closest("section.playground")?.id || "playground").replace(/^playground-/, "");

/** A playground chart's PNG and SVG buttons. */
export function addFigureExport(chart) {
  const title = chart.spec.title || chart.spec.y.map(humanize).join(", ");
  addButtons(chart.figure, title, () => chartFigure(chart), chart.scene.report);
}

/** The bar chart of a summary (bars.js: singular values, largest first) as a figure. */
function barsFigure(bars, title) {
  const theme = bars.theme();
  const n = bars.values.length;
  const x = { label: "index (largest first)", min: 0.5, max: n + 0.5, log: false };
  const y = { label: "singular value", min: 0, max: (Math.max(...bars.values) || 1) * 1.05, log: false };
  const plotWidth = FIGURE_WIDTH - 110;
  x.ticks = ticks(x, plotWidth, 70).filter((t) => Number.isInteger(t.value) && t.value >= 1);
  y.ticks = ticks(y, 260, 36);
  const fill = (i) => (i < bars.highlight ? theme.accent : rgba(theme.rgb.fgMuted, 0.45));
  const legend = [{ label: `the first ${bars.highlight} (the rank)`, stroke: theme.accent, width: 8, dash: [], points: [] }];
  if (n > bars.highlight) legend.push({ label: "the rest", stroke: rgba(theme.rgb.fgMuted, 0.45), width: 8, dash: [], points: [] });
  return {
    title, width: FIGURE_WIDTH, plotHeight: 260, x, y, lines: bars.highlight ? legend : [], markers: [],
    bars: bars.values.map((value, i) => ({ x: i + 1, value, fill: fill(i) })),
    colors: { bg: theme.bg, fg: theme.fg, muted: theme.fgMuted, grid: theme.grid, marker: theme.warn },
    font: theme.fontSans,
  };
}

/** A summary's bar chart's PNG and SVG buttons, in `figure` (its caption is the title). */
export function addBarsExport(figure, bars) {
  const title = figure.querySelector("figcaption")?.textContent.trim() || "Bar chart";
  addButtons(figure, title, () => barsFigure(bars, title), () => {});
}
