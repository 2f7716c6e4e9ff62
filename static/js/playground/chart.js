// One chart of a playground on uPlot: x = step charts as line charts over the union of steps,
// any other x (a 2-D path, KL, the LR, tokens) drawn point by point, as a line or as a scatter of
// dots, as the demo declares; the reader may switch x
// among the spec's `x_choices`. It draws from a scene (the runs, the theme, the surface) and
// knows nothing of the panel.

import { alignedData, buildLines, xyData } from "./chart-data.js";
import { paintMarkers, paintPaths, paintReferenceLabels, paintSurface } from "./chart-paint.js";
import { ChartTable } from "./chart-table.js";
import { el } from "./dom.js";
import { fmtTick, humanize } from "./format.js";
import { Readout } from "./readout.js";
import { linearSplits, logRange, logSplits, padRange } from "./scales.js";

// `uPlot` is the global from /static/vendor/uPlot.iife.min.js, loaded before this module.

export class Chart {
  constructor(scene, spec, figure) {
    this.scene = scene;
    this.spec = { title: "", y: ["loss"], x: "step", log_y: false, log_x: false, x_choices: [], marks: "line", ...spec };
    this.figure = figure;
    this.plot = figure.querySelector(".pg-plot") || figure.appendChild(el("div", "pg-plot"));
    this.plot.setAttribute("role", "img");
    this.xKey = this.spec.x;
    this.switchable = this.spec.x_choices.length > 0;
    this.readout = new Readout(figure);
    this.table = new ChartTable(figure, this.spec.title || this.spec.y.map(humanize).join(", "));
    this.u = null;
    this.key = "";
    this.width = 0;
    this.lines = [];
    this.xy = [];
    this.xRange = [0, 1];
    this.yRange = [0, 1];
    this.colorSlots = new Map();
    this.heat = null;
    this.hover = null;
    const choice = figure.querySelector(".pg-x-choice select");
    if (choice) choice.addEventListener("change", () => this.switchX(choice.value));
    new ResizeObserver(() => this.resize()).observe(this.plot);
  }

  get stepX() {
    return this.xKey === "step";
  }

  /** Are the points drawn as a scatter (the demo's chart says "dots"), not joined in order? */
  get dots() {
    return !this.stepX && this.spec.marks === "dots";
  }

  switchX(key) {
    if (key !== this.spec.x && !this.spec.x_choices.includes(key)) return;
    this.xKey = key;
    this.figure.dataset.x = key;
    this.hover = null;
    this.update();
  }

  /** The surface behind a 2-D path (x and y of the point), when the demo has one to draw. */
  surface() {
    const capable = this.xKey === "x" && this.spec.y.length === 1 && this.spec.y[0] === "y";
    return capable ? this.scene.surface() : null;
  }

  colorIndex(key, series) {
    const slot = `${key}|${series}`;
    if (!this.colorSlots.has(slot)) this.colorSlots.set(slot, this.colorSlots.size);
    return this.colorSlots.get(slot);
  }

  measure() {
    const width = Math.max(160, Math.floor(this.plot.clientWidth || this.figure.clientWidth || 300));
    const surface = !!this.surface();
    const tallest = (surface ? 440 : 300) * this.scene.theme.chartScale;
    const height = Math.round(Math.min(tallest, Math.max(190, width * (surface ? 0.78 : 0.58))));
    return { width, height };
  }

  resize() {
    const { width, height } = this.measure();
    if (Math.abs(width - this.width) < 1) return;
    this.width = width;
    if (this.u) this.u.setSize({ width, height });
    else this.plot.style.minHeight = `${height}px`;
  }

  /** Runs drawn on this chart, oldest first, the current one last (on top); on a surface,
   * only those that ran on the surface shown. */
  runs() {
    const runs = this.scene.history.all();
    if (!this.surface()) return runs;
    const name = this.scene.surfaceName();
    return runs.filter((r) => r.params.function == null || r.params.function === name);
  }

  /** Called at most once per animation frame. */
  update() {
    if (typeof uPlot === "undefined") return;
    const runs = this.runs();
    const surface = this.surface();
    const theme = this.scene.theme;
    const lines = buildLines({
      yKeys: this.spec.y, runs, current: this.scene.history.current, theme, surface,
      colorIndex: (key, series) => this.colorIndex(key, series),
    });
    this.updateLabel(runs, surface);
    this.table.update(lines, this.xKey);
    if (!lines.some((l) => l.run.points.length > 0) && !surface) {
      this.destroy();
      this.key = "";
      this.plot.dataset.empty = this.emptyText(runs);
      this.plot.style.minHeight = `${this.measure().height}px`;
      this.readout.clear();
      return;
    }
    delete this.plot.dataset.empty;
    this.plot.style.minHeight = "";
    let data;
    let logY = this.spec.log_y;
    let logX = this.spec.log_x;
    if (this.stepX) {
      data = alignedData(lines);
      if (logY && data.slice(1).some((col) => col.some((v) => v != null && v <= 0))) logY = false;
    } else {
      this.xy = xyData(lines, this.xKey);
      const xs = this.xy.flatMap((l) => l.pts.map((p) => p[0]));
      const ys = this.xy.flatMap((l) => l.pts.map((p) => p[1]));
      if (logX && xs.some((v) => v <= 0)) logX = false;
      if (logY && ys.some((v) => v <= 0)) logY = false;
      if (surface) {
        const [x0, x1, y0, y1] = surface.view;
        this.xRange = [x0, x1];
        this.yRange = [y0, y1];
        logX = logY = false;
      } else {
        this.xRange = padRange(xs, logX);
        this.yRange = padRange(ys, logY);
      }
      data = [this.xRange.slice(), [null, null]];
    }
    this.lines = lines;
    const key = [theme.token, this.xKey, logX, logY, surface ? this.scene.surfaceName() : "", lines.map((l) => l.id).join(",")].join(";");
    if (!this.u || key !== this.key) {
      this.key = key;
      this.build(lines, data, logX, logY);
    } else {
      this.u.setData(data, true);
    }
    this.updateReadout();
  }

  /** What an empty chart says: a run that has points but none for this chart (a regression
   * run on the accuracy chart) says so, rather than asking for a run. */
  emptyText(runs) {
    const current = this.scene.history.current;
    const waiting = current && current.active && !current.points.length;
    if (waiting && !this.scene.permalink) return "Waiting for the first step…";
    if (runs.some((r) => r.points.length)) return `This run logs no ${this.spec.y.map(humanize).join(" or ")}`;
    return this.scene.permalink ? "Loading…" : "Press Run to train";
  }

  updateLabel(runs, surface) {
    const what = this.spec.title || this.spec.y.map(humanize).join(", ");
    const xName = humanize(this.xKey).toLowerCase();
    const said = new RegExp(`\\b(by|against|vs\\.?)\\s+${xName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`, "i").test(what);
    const by = said ? "" : this.stepX ? " by step" : ` against ${xName}`;
    const count = runs.length === 1 ? "1 run" : `${runs.length} runs`;
    const base = surface ? `${what}: the ${this.scene.surfaceName()} surface as a contour map` : `${what}${by}`;
    this.plot.setAttribute("aria-label", runs.length ? `${base}, ${count}` : `${base}, no runs yet`);
  }

  axes(logX, logY, surface) {
    const theme = this.scene.theme;
    const px = Math.round(11 * theme.chartScale);
    const axis = (label) => ({
      stroke: theme.fgMuted,
      font: `${px}px ${theme.fontSans}`,
      labelFont: `600 ${px}px ${theme.fontSans}`,
      label,
      labelSize: label ? px + 7 : 0,
      labelGap: 0,
      grid: { stroke: theme.grid, width: 1 },
      ticks: { stroke: theme.grid, width: 1, size: 4 },
      values: (u, splits) => splits.map((v) => (v == null ? "" : fmtTick(v))),
    });
    // A switchable x always says which key it shows; a plain step axis needs no title.
    const xAxis = axis(this.stepX && !this.switchable ? "" : humanize(this.xKey));
    xAxis.space = 48;
    xAxis.size = (this.switchable ? 36 : 30) + 2 * (px - 11);
    const yAxis = axis(this.spec.y.length === 1 && !this.stepX ? humanize(this.spec.y[0]) : "");
    yAxis.space = 28;
    yAxis.size = (u, values) => Math.ceil(14 + (values ? Math.max(0, ...values.map((v) => String(v || "").length)) : 4) * 0.6 * px);
    if (surface) xAxis.grid = yAxis.grid = { show: false };
    // Our own splits: uPlot's log splits never end below ~1e-16 (tiny losses), and its linear
    // ones can run to millions of ticks on a diverging 1e30 loss.
    const ticks = (log, horizontal) => (u, axisIdx, min, max) => {
      const pixels = (horizontal ? u.bbox.width : u.bbox.height) / (window.devicePixelRatio || 1);
      const count = Math.max(2, Math.min(12, Math.floor(pixels / (horizontal ? 60 : 30))));
      return log ? logSplits(min, max, count) : linearSplits(min, max, count);
    };
    xAxis.splits = ticks(logX, true);
    yAxis.splits = ticks(logY, false);
    xAxis.filter = yAxis.filter = (u, splits) => splits;
    return [xAxis, yAxis];
  }

  build(lines, data, logX, logY) {
    this.destroy();
    const theme = this.scene.theme;
    const surface = this.surface();
    const { width, height } = this.measure();
    this.width = width;
    const scale = (log, range) => {
      const s = { distr: log ? 3 : 1, log: 10 };
      if (range) s.range = range;
      else if (log) s.range = (u, min, max) => logRange(min, max);
      return s;
    };
    const series = [{ label: humanize(this.xKey) }];
    if (this.stepX) {
      for (const line of lines) {
        series.push({ label: line.label, stroke: line.stroke, width: line.width, dash: line.dash, spanGaps: true, points: { show: false } });
      }
    } else {
      series.push({ label: "", stroke: "transparent", width: 0, paths: () => null, points: { show: false } });
    }
    const opts = {
      width,
      height,
      legend: { show: false },
      cursor: {
        y: !this.stepX,
        drag: { x: false, y: false, setScale: false },
        points: this.stepX ? { size: 7, width: 2, fill: theme.bg } : { show: false },
      },
      scales: {
        x: { time: false, ...scale(logX, this.stepX ? undefined : () => this.xRange.slice()) },
        y: scale(logY, this.stepX ? undefined : () => this.yRange.slice()),
      },
      axes: this.axes(logX, logY, surface),
      series,
      hooks: {
        drawClear: [(u) => paintSurface(this, u)],
        draw: [(u) => (this.stepX ? paintMarkers(this, u) : paintPaths(this, u)), (u) => paintReferenceLabels(this, u)],
        setCursor: [() => this.updateReadout()],
      },
    };
    this.plot.replaceChildren();
    try {
      this.u = new uPlot(opts, data, this.plot);
    } catch (error) {
      this.u = null;
      this.scene.report(`The chart “${this.spec.title}” could not be drawn (${error.message}).`);
      return;
    }
    this.readout.build(lines, { x: this.xKey, y: this.spec.y, history: this.scene.history, dots: this.dots });
  }

  destroy() {
    if (this.u) this.u.destroy();
    this.u = null;
  }

  /** Forget the drawn chart, so that the next update builds it anew (a new theme). */
  invalidate() {
    this.key = "";
  }

  updateReadout() {
    const u = this.u;
    if (!u) return;
    const readout = this.readout;
    readout.node.hidden = !this.lines.some((l) => l.run.points.length);
    const history = this.scene.history;
    if (this.stepX) {
      readout.showStep(u, history.latest());
      return;
    }
    let best = Readout.nearest(u, this.xy);
    const hover = best ? { x: best.pt[0], y: best.pt[1] } : null;
    const changed = (hover && (!this.hover || hover.x !== this.hover.x || hover.y !== this.hover.y)) || (!hover && this.hover);
    this.hover = hover;
    if (changed) u.redraw(false, false);
    if (!best) {
      // No point near the cursor: the current run's last point (or the newest run's).
      const mine = this.xy.filter((l) => l.line.isCurrent && l.pts.length);
      const last = mine[mine.length - 1] || this.xy.filter((l) => l.pts.length).slice(-1)[0];
      if (last) best = { line: last.line, pt: last.pts[last.pts.length - 1] };
    }
    readout.showPoint(best);
  }
}
