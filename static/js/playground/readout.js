// The readout under a chart (its hover legend): on step charts every line's value at the
// cursor's step (or the latest), otherwise the point nearest the cursor with its step and run.

import { el } from "./dom.js";
import { fmtNum, humanize } from "./format.js";

const EXTRA_KEYS = ["loss", "lr"];
const NEAR_PX = 24;

/** Do all points of a step (one per series) carry the same value of `key`? */
function sharedAtEachStep(points, key) {
  const seen = new Map();
  for (const point of points) {
    if (!(key in point)) continue;
    if (seen.has(point.step) && seen.get(point.step) !== point[key]) return false;
    seen.set(point.step, point[key]);
  }
  return true;
}

export class Readout {
  constructor(figure) {
    // A chart of points (x not the step) with several series says which line is which here; a
    // step chart's readout names its lines itself.
    this.legend = el("ul", "pg-legend");
    this.legend.setAttribute("aria-label", "Lines");
    this.legend.hidden = true;
    this.node = el("div", "pg-readout");
    this.node.setAttribute("aria-hidden", "true");
    figure.append(this.legend, this.node);
    this.items = [];
    this.extra = [];
  }

  clear() {
    this.node.replaceChildren();
    this.legend.replaceChildren();
    this.legend.hidden = true;
  }

  add(label, swatch, faded) {
    const item = el("span", `pg-readout-item${faded ? " is-overlay" : ""}`);
    if (swatch) {
      const mark = el("span", "pg-swatch");
      mark.style.borderTopColor = swatch.stroke;
      mark.style.borderTopStyle = swatch.dash.length ? "dashed" : "solid";
      item.append(mark);
    }
    item.append(el("span", "pg-readout-label", label));
    const value = el("span", "pg-readout-value", "–");
    item.append(value);
    this.node.append(item);
    return value;
  }

  /** The readout's items for a chart with these lines; `x`: the chart's x key; `dots`: its
   * points are a scatter, so the legend's swatches are dots. */
  build(lines, { x, y, history, dots = false }) {
    this.clear();
    this.items = [];
    this.extra = [];
    this.stepValue = this.add("step");
    if (x !== "step") {
      this.xValue = this.add(humanize(x));
      this.yValue = this.add(y.length === 1 ? humanize(y[0]) : "y");
      for (const key of EXTRA_KEYS) if (key !== x && !y.includes(key)) this.extra.push([key, this.add(key)]);
      this.whichValue = this.add("run");
      this.buildLegend(lines, dots);
      return;
    }
    const current = history.current;
    for (const line of lines) this.items.push([line, this.add(line.label, line, !line.isCurrent && !!current)]);
    const keys = new Set(lines.map((l) => l.key));
    const oneSeries = !current || current.seriesNames.length <= 1;
    for (const key of oneSeries ? EXTRA_KEYS : ["lr"]) {
      if (keys.has(key) || !history.all().some((r) => r.points.some((p) => key in p))) continue;
      // Series that each train with their own lr (a learning-rate sweep) have no one lr to show.
      if (!oneSeries && !sharedAtEachStep(current.points, key)) continue;
      this.extra.push([key, this.add(key)]);
    }
  }

  /** The current run's lines, when it draws more than one (the scaling-law widths, the
   * frontier and the fit); lines that differ only by run are told apart by the runs list. */
  buildLegend(lines, dots) {
    const current = lines.filter((l) => l.isCurrent);
    const shown = current.length ? current : lines;
    if (shown.length < 2) return;
    for (const line of shown) {
      const item = el("li", "pg-legend-item");
      const mark = el("span", dots ? "pg-swatch is-dot" : "pg-swatch");
      if (dots) {
        // As drawn: a disc for a solid line's points, a ring for a dashed one's.
        mark.style.borderColor = line.stroke;
        mark.style.backgroundColor = line.dash.length ? "transparent" : line.stroke;
      } else {
        mark.style.borderTopColor = line.stroke;
        mark.style.borderTopStyle = line.dash.length ? "dashed" : "solid";
      }
      mark.setAttribute("aria-hidden", "true");
      item.append(mark, el("span", "", line.label));
      this.legend.append(item);
    }
    this.legend.hidden = false;
  }

  /** x = step: the values at the cursor's step, else at the current run's latest step. */
  showStep(u, run) {
    const xs = u.data[0] || [];
    let idx = u.cursor.idx;
    if (idx == null || idx < 0) idx = run && run.lastStep != null ? xs.lastIndexOf(run.lastStep) : xs.length - 1;
    if (idx == null || idx < 0 || idx >= xs.length) {
      this.stepValue.textContent = "–";
      return;
    }
    const step = xs[idx];
    this.stepValue.textContent = fmtNum(step);
    this.items.forEach(([, node], i) => {
      const value = u.data[i + 1] ? u.data[i + 1][idx] : null;
      node.textContent = value == null ? "–" : fmtNum(value);
    });
    const point = run ? run.byStep.get(step) : null;
    for (const [key, node] of this.extra) node.textContent = point && point[key] != null ? fmtNum(point[key]) : "–";
  }

  /** Any other x: the point nearest the cursor, or null when none is near. */
  static nearest(u, xy) {
    const { left, top } = u.cursor;
    if (left == null || left < 0 || top == null || top < 0) return null;
    let best = null;
    let bestDistance = NEAR_PX * NEAR_PX;
    for (const { line, pts } of xy) {
      for (const pt of pts) {
        const dx = u.valToPos(pt[0], "x") - left;
        const dy = u.valToPos(pt[1], "y") - top;
        const d = dx * dx + dy * dy;
        if (d < bestDistance) { bestDistance = d; best = { line, pt }; }
      }
    }
    return best;
  }

  /** Any other x: `best` ({line, pt}) in words, or dashes. */
  showPoint(best) {
    if (!best) {
      [this.stepValue, this.xValue, this.yValue, this.whichValue].forEach((n) => { if (n) n.textContent = "–"; });
      for (const [, node] of this.extra) node.textContent = "–";
      return;
    }
    const [x, y, point] = best.pt;
    this.stepValue.textContent = point.step != null ? fmtNum(point.step) : "–";
    this.xValue.textContent = fmtNum(x);
    this.yValue.textContent = fmtNum(y);
    for (const [key, node] of this.extra) node.textContent = point[key] != null ? fmtNum(point[key]) : "–";
    const run = best.line.isReference ? "reference" : `#${best.line.run.num}`;
    this.whichValue.textContent = `${run}${best.line.series != null ? ` ${best.line.series}` : ""}`;
  }
}
