// The SVG figure of a chart: scales, paths with gaps, ticks, labels and legend, escaped text.

import assert from "node:assert/strict";
import { test } from "node:test";

import { chartSvg, dotCentres, escapeXml, pathData, place, wrapText } from "../../static/js/playground/figure-svg.js";

const colors = { bg: "#fff", fg: "#111", muted: "#555", grid: "#ddd", marker: "#a50" };

function figure(overrides = {}) {
  return {
    title: "Loss <by> step",
    width: 600,
    plotHeight: 300,
    x: { label: "step", min: 0, max: 100, log: false, ticks: [{ value: 0, text: "0" }, { value: 50, text: "50" }, { value: 100, text: "100" }, { value: 150, text: "150" }] },
    y: { label: "loss", min: 0.01, max: 10, log: true, ticks: [{ value: 0.01, text: "0.01" }, { value: 1, text: "1" }, { value: 10, text: "10" }] },
    lines: [
      { label: "#1 loss", stroke: "rgba(1,2,3,1)", width: 2, dash: [], points: [[0, 10], [50, 1], [100, 0.01]] },
      { label: "reference", stroke: "rgba(9,9,9,0.7)", width: 2, dash: [9, 5], points: [[0, 5], [100, 0.5]] },
    ],
    markers: [{ x: 50, text: "lr→0.05" }],
    colors,
    font: "Inter, sans-serif",
    ...overrides,
  };
}

test("values are placed linearly, or by their logarithm on a log axis", () => {
  assert.equal(place(25, { min: 0, max: 100, log: false }, 10, 410), 110);
  assert.equal(place(1, { min: 0.01, max: 100, log: true }, 0, 400), 200); // 1 is halfway between 1e-2 and 1e2
  assert.equal(place(0, { min: 0.01, max: 100, log: true }, 0, 400), null); // no log of zero
  assert.equal(place(Number.NaN, { min: 0, max: 1, log: false }, 0, 1), null);
  assert.equal(place(1, { min: 0, max: 1, log: false }, 300, 100), 100); // a y axis runs upward
});

test("a path starts again after a gap and never draws through it", () => {
  const axis = { min: 0, max: 10, log: false };
  const box = { left: 0, right: 100, top: 0, bottom: 100 };
  assert.equal(pathData([[0, 0], [5, 5], [6, null], [10, 10]], axis, axis, box), "M0 100L50 50M100 0");
  assert.equal(pathData([[1, Number.POSITIVE_INFINITY]], axis, axis, box), "");
});

test("the figure has its title, axis labels, ticks inside the range, vector lines and a legend", () => {
  const svg = chartSvg(figure());
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="600" height="\d+"/);
  assert.match(svg, /class="title"[^>]*>Loss &lt;by&gt; step<\/text>/);
  assert.match(svg, /class="x-label"[^>]*>step<\/text>/);
  assert.match(svg, /class="y-label"[^>]*>loss<\/text>/);
  const xAxis = svg.slice(svg.indexOf('class="x-axis"'), svg.indexOf('class="y-axis"'));
  const xTicks = [...xAxis.matchAll(/<text x="[\d.]+" y="[\d.]+">(\d+)<\/text>/g)].map((m) => m[1]);
  assert.deepEqual(xTicks, ["0", "50", "100"]); // 150 is outside the axis: not drawn
  const paths = [...svg.matchAll(/<path d="([^"]+)" stroke="([^"]+)" stroke-width="2"( stroke-dasharray="9 5")?>/g)];
  assert.equal(paths.length, 2);
  assert.equal(paths[0][2], "rgba(1,2,3,1)");
  assert.equal(paths[0][3], undefined);
  assert.equal(paths[1][3], ' stroke-dasharray="9 5"');
  // The first line runs from the plot's top-left corner (step 0, loss 10) to its bottom-right.
  const [start, , end] = paths[0][1].split(/[ML]/).filter(Boolean).map((p) => p.split(" ").map(Number));
  const plot = svg.match(/<clipPath id="plot-area"><rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"/).slice(1).map(Number);
  assert.deepEqual(start, [plot[0], plot[1]]);
  assert.deepEqual(end, [plot[0] + plot[2], plot[1] + plot[3]]);
  assert.equal(plot[3], 300);
  const legend = svg.slice(svg.indexOf('class="legend"'));
  assert.match(legend, />#1 loss<\/text>/);
  assert.match(legend, />reference<\/text>/);
  assert.match(svg, /lr→0.05/);
  assert.doesNotMatch(svg, /<image/); // no raster unless a surface is given
});

test("a long legend wraps into rows and the figure grows to hold them", () => {
  const many = Array.from({ length: 12 }, (_, i) => ({ label: `run number ${i} with a long label`, stroke: "#000", width: 1.5, dash: [], points: [[0, 1]] }));
  const one = chartSvg(figure({ lines: many.slice(0, 1) }));
  const twelve = chartSvg(figure({ lines: many }));
  const height = (svg) => Number(svg.match(/height="(\d+)"/)[1]);
  assert.ok(height(twelve) >= height(one) + 4 * 20, `${height(one)} -> ${height(twelve)}`);
  const ys = new Set([...twelve.slice(twelve.indexOf('class="legend"')).matchAll(/<text x="[\d.]+" y="(\d+)"/g)].map((m) => m[1]));
  assert.ok(ys.size >= 5);
});

test("text that could be markup stays text", () => {
  assert.equal(escapeXml(`<a href="x">&'`), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
  const svg = chartSvg(figure({ lines: [{ label: "<script>alert(1)</script>", stroke: "#000", width: 1, dash: [], points: [[0, 1]] }] }));
  assert.doesNotMatch(svg, /<script>/);
});

test("bars stand on the axis's minimum, a unit wide around their x", () => {
  const svg = chartSvg(figure({
    x: { label: "index", min: 0.5, max: 2.5, log: false, ticks: [] },
    y: { label: "value", min: 0, max: 4, log: false, ticks: [] },
    lines: [],
    markers: [],
    bars: [{ x: 1, value: 4, fill: "#f00" }, { x: 2, value: 1, fill: "#0f0" }],
  }));
  const plot = svg.match(/<clipPath id="plot-area"><rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"/).slice(1).map(Number);
  const bars = [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="(#[0f]+)"/g)].map((m) => m.slice(1));
  assert.equal(bars.length, 2);
  const unit = plot[2] / 2; // the x axis spans two units
  const [first, second] = bars.map(([bx, by, w, h, fill]) => ({ bx: +bx, by: +by, w: +w, h: +h, fill }));
  assert.ok(Math.abs(first.w - 0.8 * unit) < 0.02 && Math.abs(first.bx - (plot[0] + 0.1 * unit)) < 0.02);
  assert.ok(Math.abs(first.by - plot[1]) < 0.02 && Math.abs(first.h - plot[3]) < 0.02); // the tallest fills the plot
  assert.ok(Math.abs(second.h - plot[3] / 4) < 0.02 && second.fill === "#0f0");
});

test("a long title wraps between words and pushes the plot down", () => {
  assert.deepEqual(wrapText("aaa bbb ccc", 10, 45), ["aaa bbb", "ccc"]); // 6 px a character
  assert.deepEqual(wrapText("averyveryverylongword b", 10, 30), ["averyveryverylongword", "b"]);
  const title = "Singular values of the update ΔW · blocks.0.attn_qkv (full) · top 4: 39.7% of the energy";
  const svg = chartSvg(figure({ title }));
  const tspans = [...svg.matchAll(/<tspan x="16" dy="(\d+)">([^<]*)<\/tspan>/g)];
  assert.equal(tspans.length, 2);
  assert.equal(tspans.map((t) => t[2]).join(" "), title);
  const top = (s) => Number(s.match(/<clipPath id="plot-area"><rect x="\d+" y="(\d+)"/)[1]);
  assert.equal(top(svg) - top(chartSvg(figure())), Number(tspans[1][1]));
});

test("a scatter is dots and no line: discs for the current run, rings for a dashed one, in the legend too", () => {
  const axis = { min: 0, max: 4, log: false };
  const box = { left: 0, right: 100, top: 0, bottom: 100 };
  // Logged out of x order (KL falls back at the third point); a point on no axis is left out.
  assert.deepEqual(dotCentres([[1, 1], [3, 2], [2, Number.NaN], [2, 4]], axis, axis, box), [[25, 75], [75, 50], [50, 0]]);
  const svg = chartSvg(figure({
    x: { label: "kl", min: 0, max: 4, log: false, ticks: [] },
    y: { label: "true reward", min: 0, max: 4, log: false, ticks: [] },
    lines: [
      { label: "#2 true reward", stroke: "rgba(1,2,3,1)", width: 2, dash: [], points: [[1, 1], [3, 2], [2, 4]], marks: "dots" },
      { label: "#1 true reward", stroke: "rgba(4,5,6,0.6)", width: 1.5, dash: [6, 4], points: [[0, 0], [4, 4]], marks: "dots" },
    ],
    markers: [],
  }));
  const plot = svg.match(/<clipPath id="plot-area"><rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"/).slice(1).map(Number);
  const drawn = svg.slice(svg.indexOf('class="lines"'), svg.indexOf('class="legend"'));
  assert.doesNotMatch(drawn, /<path/); // nothing joins the points
  const groups = [...drawn.matchAll(/<g class="dots" ([^>]*)><title>([^<]*)<\/title>((?:<circle [^>]*\/>)+)<\/g>/g)];
  assert.equal(groups.length, 2);
  assert.equal(groups[0][1], 'fill="rgba(1,2,3,1)" stroke="none"');
  assert.equal(groups[1][1], 'fill="none" stroke="rgba(4,5,6,0.6)" stroke-width="1.2"');
  const centres = [...groups[0][3].matchAll(/cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
  const at = ([vx, vy]) => [plot[0] + (vx / 4) * plot[2], plot[1] + plot[3] - (vy / 4) * plot[3]];
  assert.equal(centres.length, 3);
  centres.forEach((c, i) => {
    const want = at([[1, 1], [3, 2], [2, 4]][i]);
    assert.ok(Math.abs(c[0] - want[0]) < 0.01 && Math.abs(c[1] - want[1]) < 0.01, `${c} vs ${want}`);
  });
  const legend = svg.slice(svg.indexOf('class="legend"'));
  assert.doesNotMatch(legend, /<line /);
  assert.match(legend, /<circle [^>]*fill="rgba\(1,2,3,1\)" stroke="none"\/>/);
  assert.match(legend, /<circle [^>]*fill="none" stroke="rgba\(4,5,6,0.6\)"/);
});
