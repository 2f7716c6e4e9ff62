// One chart of a playground on uPlot: x = step charts as line charts over the union of steps,
// any other x (a 2-D path, KL, the LR) drawn point by point, plus the hover readout below it.

import { rgba } from "./colors.js";
import { el } from "./dom.js";
import { finite, fmtNum, fmtParam, fmtTick, fmtValue, humanize } from "./format.js";
import { linearSplits, logRange, logSplits, padRange } from "./scales.js";
import { contourImage } from "./surface.js";

// `uPlot` is the global from /static/vendor/uPlot.iife.min.js, loaded before this module.

const OVERLAY_DASHES = [[6, 4], [2, 3], [10, 3, 2, 3], [4, 4], [1, 3]];

export class Chart {
  constructor(panel, spec, figure) {
    this.panel = panel;
    this.spec = { title: "", y: ["loss"], x: "step", log_y: false, log_x: false, ...spec };
    this.figure = figure;
    this.plot = figure.querySelector(".pg-plot") || figure.appendChild(el("div", "pg-plot"));
    this.plot.setAttribute("role", "img");
    this.stepX = this.spec.x === "step";
    this.surfaceCapable = this.spec.x === "x" && this.spec.y.length === 1 && this.spec.y[0] === "y";
    this.readout = el("div", "pg-readout");
    this.readout.setAttribute("aria-hidden", "true");
    this.figure.append(this.readout);
    this.u = null;
    this.key = "";
    this.width = 0;
    this.lines = [];
    this.xy = [];
    this.xRange = [0, 1];
    this.yRange = [0, 1];
    this.readoutItems = [];
    this.colorSlots = new Map();
    this.heat = null;
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(this.plot);
  }

  colorIndex(key, series) {
    const slot = `${key}|${series}`;
    if (!this.colorSlots.has(slot)) this.colorSlots.set(slot, this.colorSlots.size);
    return this.colorSlots.get(slot);
  }

  measure() {
    const width = Math.max(160, Math.floor(this.plot.clientWidth || this.figure.clientWidth || 300));
    const ratio = this.isSurface() ? 0.78 : 0.58;
    const height = Math.round(Math.min(this.isSurface() ? 440 : 300, Math.max(190, width * ratio)));
    return { width, height };
  }

  isSurface() {
    return this.surfaceCapable && this.panel.surface() != null;
  }

  resize() {
    const { width, height } = this.measure();
    if (Math.abs(width - this.width) < 1) return;
    this.width = width;
    if (this.u) this.u.setSize({ width, height });
    else this.plot.style.minHeight = `${height}px`;
  }

  /** Runs drawn on this chart, oldest first, the current one last (on top). */
  runs() {
    let runs = this.panel.allRuns();
    if (this.isSurface()) {
      const name = this.panel.surfaceName();
      runs = runs.filter((r) => r.params.function == null || r.params.function === name);
    }
    return runs;
  }

  buildLines(runs) {
    const theme = this.panel.theme;
    const lines = [];
    const current = this.panel.current;
    const overlays = runs.filter((r) => r !== current);
    for (const run of runs) {
      const isCurrent = run === current;
      const age = isCurrent ? 0 : overlays.length - overlays.indexOf(run); // 1 = newest overlay
      const names = run.seriesNames;
      if (!names.length) continue; // no points yet: its series are unknown
      const multiple = this.spec.y.length > 1 || names.length > 1 || names[0] != null;
      for (const key of this.spec.y) {
        for (const series of names) {
          const index = this.colorIndex(key, series);
          let base = theme.palette[index % theme.palette.length];
          if (this.isSurface()) base = theme.rgb.fg;
          const alpha = isCurrent ? 1 : Math.max(0.22, 0.6 - 0.08 * (age - 1));
          let label = humanize(key);
          if (multiple && series != null) label = this.spec.y.length > 1 ? `${label} · ${series}` : String(series);
          lines.push({
            id: `${run.num}:${key}:${series}`,
            run,
            key,
            series,
            isCurrent,
            color: base,
            stroke: rgba(base, alpha),
            width: isCurrent ? 2 : 1.5,
            dash: isCurrent ? [] : OVERLAY_DASHES[(run.num - 1) % OVERLAY_DASHES.length],
            label: isCurrent || runs.length === 1 ? label : `#${run.num} ${label}`,
          });
        }
      }
    }
    return lines;
  }

  /** Called at most once per animation frame. */
  update() {
    if (typeof uPlot === "undefined") return;
    const runs = this.runs();
    const lines = this.buildLines(runs);
    const surface = this.isSurface() ? this.panel.surface() : null;
    const hasData = lines.some((l) => l.run.points.length > 0);
    this.updateLabel(runs);
    if (!hasData && !surface) {
      this.destroy();
      this.key = "";
      this.plot.dataset.empty = this.panel.runId ? "Loading…" : "Press Run to train";
      this.plot.style.minHeight = `${this.measure().height}px`;
      this.readout.replaceChildren();
      return;
    }
    delete this.plot.dataset.empty;
    this.plot.style.minHeight = "";
    let data;
    let logY = this.spec.log_y;
    let logX = this.spec.log_x;
    if (this.stepX) {
      data = this.alignedData(lines);
      if (logY && data.slice(1).some((col) => col.some((v) => v != null && v <= 0))) logY = false;
    } else {
      this.xy = this.xyData(lines);
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
    const key = [this.panel.theme.token, logX, logY, surface ? this.panel.surfaceName() : "",
      lines.map((l) => l.id).join(",")].join(";");
    if (!this.u || key !== this.key) {
      this.key = key;
      this.build(lines, data, logX, logY);
    } else {
      this.u.setData(data, true);
    }
    this.updateReadout();
  }

  updateLabel(runs) {
    const what = this.spec.title || this.spec.y.map(humanize).join(", ");
    const xName = humanize(this.spec.x).toLowerCase();
    const said = new RegExp(`\\b(by|against|vs\\.?)\\s+${xName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`, "i").test(what);
    const by = said ? "" : this.stepX ? " by step" : ` against ${xName}`;
    const count = runs.length === 1 ? "1 run" : `${runs.length} runs`;
    const base = this.isSurface() ? `${what}: the ${this.panel.surfaceName()} surface as a contour map` : `${what}${by}`;
    this.plot.setAttribute("aria-label", runs.length ? `${base}, ${count}` : `${base}, no runs yet`);
  }

  alignedData(lines) {
    const steps = new Set();
    const runs = [...new Set(lines.map((l) => l.run))];
    for (const run of runs) for (const p of run.points) if (finite(p.step)) steps.add(p.step);
    const xs = [...steps].sort((a, b) => a - b);
    const index = new Map(xs.map((s, i) => [s, i]));
    const columns = lines.map((line) => {
      const column = new Array(xs.length).fill(null);
      for (const p of line.run.points) {
        const series = p.series == null ? null : String(p.series);
        if (series !== line.series) continue;
        const value = p[line.key];
        if (finite(value) && finite(p.step)) column[index.get(p.step)] = value;
      }
      return column;
    });
    return [xs, ...columns];
  }

  xyData(lines) {
    const xKey = this.spec.x;
    return lines.map((line) => {
      const pts = [];
      for (const p of line.run.points) {
        const series = p.series == null ? null : String(p.series);
        if (series !== line.series) continue;
        if (finite(p[xKey]) && finite(p[line.key])) pts.push([p[xKey], p[line.key], p]);
      }
      return { line, pts };
    });
  }

  build(lines, data, logX, logY) {
    this.destroy();
    const theme = this.panel.theme;
    const { width, height } = this.measure();
    this.width = width;
    const axis = (label) => ({
      stroke: theme.fgMuted,
      font: `11px ${theme.fontSans}`,
      labelFont: `600 11px ${theme.fontSans}`,
      label,
      labelSize: label ? 18 : 0,
      labelGap: 0,
      grid: { stroke: theme.grid, width: 1 },
      ticks: { stroke: theme.grid, width: 1, size: 4 },
      values: (u, splits) => splits.map((v) => (v == null ? "" : fmtTick(v))),
    });
    const xAxis = axis(this.stepX ? "" : humanize(this.spec.x));
    xAxis.space = 48;
    xAxis.size = 30;
    const yAxis = axis(this.spec.y.length === 1 && !this.stepX ? humanize(this.spec.y[0]) : "");
    yAxis.space = 28;
    yAxis.size = (u, values) => {
      const longest = values ? Math.max(0, ...values.map((v) => String(v || "").length)) : 4;
      return Math.ceil(14 + longest * 6.6);
    };
    if (this.isSurface()) {
      xAxis.grid = { show: false };
      yAxis.grid = { show: false };
    }
    // Our own splits and log ranges: uPlot's log splits never end below ~1e-16 (tiny losses),
    // and its linear ones can run to millions of ticks on a diverging 1e30 loss.
    const ticks = (log, horizontal) => (u, axisIdx, min, max) => {
      const room = horizontal ? u.bbox.width / (window.devicePixelRatio || 1) / 60 : u.bbox.height / (window.devicePixelRatio || 1) / 30;
      const count = Math.max(2, Math.min(12, Math.floor(room)));
      return log ? logSplits(min, max, count) : linearSplits(min, max, count);
    };
    xAxis.splits = ticks(logX, true);
    yAxis.splits = ticks(logY, false);
    xAxis.filter = yAxis.filter = (u, splits) => splits;
    const scale = (log, range) => {
      const s = { distr: log ? 3 : 1, log: 10 };
      if (range) s.range = range;
      else if (log) s.range = (u, min, max) => logRange(min, max);
      return s;
    };
    const series = [{ label: humanize(this.spec.x) }];
    if (this.stepX) {
      for (const line of lines) {
        series.push({
          label: line.label,
          stroke: line.stroke,
          width: line.width,
          dash: line.dash,
          spanGaps: true,
          points: { show: false },
        });
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
      axes: [xAxis, yAxis],
      series,
      hooks: {
        drawClear: [(u) => this.drawSurface(u)],
        draw: [(u) => (this.stepX ? this.drawMarkers(u) : this.drawPaths(u))],
        setCursor: [() => this.updateReadout()],
      },
    };
    this.plot.replaceChildren();
    try {
      this.u = new uPlot(opts, data, this.plot);
    } catch (error) {
      this.u = null;
      this.panel.showErrors([`The chart “${this.spec.title}” could not be drawn (${error.message}).`]);
      return;
    }
    this.buildReadout(lines);
  }

  destroy() {
    if (this.u) this.u.destroy();
    this.u = null;
  }

  // --- drawing on the uPlot canvas ---

  drawSurface(u) {
    const surface = this.isSurface() ? this.panel.surface() : null;
    if (!surface) return;
    const [x0, x1, y0, y1] = surface.view;
    const left = u.valToPos(x0, "x", true);
    const right = u.valToPos(x1, "x", true);
    const top = u.valToPos(y1, "y", true);
    const bottom = u.valToPos(y0, "y", true);
    const w = Math.round(right - left);
    const h = Math.round(bottom - top);
    if (!(w > 2 && h > 2)) return;
    const image = this.heatmap(surface, w, h);
    if (!image) return;
    const ctx = u.ctx;
    ctx.save();
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(image, left, top, w, h);
    ctx.restore();
  }

  /** The surface as banded colours with darker band edges (contour lines), cached per size. */
  heatmap(surface, width, height) {
    const theme = this.panel.theme;
    const key = `${this.panel.surfaceName()}|${width}x${height}|${theme.token}`;
    if (this.heat && this.heat.key === key) return this.heat.canvas;
    const canvas = contourImage(surface, width, height, theme);
    if (!canvas) return null;
    this.heat = { key, canvas };
    return canvas;
  }

  /** Vertical markers at the steps where live changes applied (current run only). */
  drawMarkers(u) {
    const run = this.panel.current;
    if (!run || !run.controls.length) return;
    const theme = this.panel.theme;
    const pr = window.devicePixelRatio || 1;
    const { left, top, width, height } = u.bbox;
    const ctx = u.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.textAlign = "left";
    ctx.font = `600 ${Math.round(10.5 * pr)}px ${theme.fontSans}`;
    ctx.textBaseline = "top";
    let lastLabelEnd = -Infinity;
    let row = 0;
    for (const control of run.controls) {
      const x = Math.round(u.valToPos(control.step, "x", true)) + 0.5;
      if (!(x >= left && x <= left + width)) continue;
      ctx.strokeStyle = rgba(theme.rgb.warn, 0.9);
      ctx.lineWidth = Math.max(1, pr);
      ctx.setLineDash([4 * pr, 3 * pr]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      ctx.setLineDash([]);
      const text = Object.entries(control.changes).map(([k, v]) => `${k}→${fmtValue(v)}`).join(" ");
      const textWidth = ctx.measureText(text).width + 8 * pr;
      let tx = x + 3 * pr;
      if (tx + textWidth > left + width) tx = x - 3 * pr - textWidth;
      row = tx < lastLabelEnd ? (row + 1) % 3 : 0;
      const ty = top + (4 + row * 16) * pr;
      ctx.fillStyle = rgba(theme.rgb.bg, 0.85);
      ctx.fillRect(tx, ty - 1 * pr, textWidth, 14 * pr);
      ctx.fillStyle = theme.warn;
      ctx.fillText(text, tx + 4 * pr, ty);
      lastLabelEnd = Math.max(lastLabelEnd, tx + textWidth);
    }
    ctx.restore();
  }

  /** Lines in point order, for charts whose x is not the step (a path, KL, the LR). */
  drawPaths(u) {
    const theme = this.panel.theme;
    const pr = window.devicePixelRatio || 1;
    const { left, top, width, height } = u.bbox;
    const ctx = u.ctx;
    const surface = this.isSurface();
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.textAlign = "left";
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
    // A suggested learning rate (LR range test) as a vertical line on x = lr charts.
    const suggested = this.panel.current && this.panel.current.end && this.panel.current.end.summary
      ? this.panel.current.end.summary.suggested_lr : null;
    if (this.spec.x === "lr" && finite(suggested)) {
      const x = u.valToPos(suggested, "x", true);
      if (finite(x)) {
        ctx.strokeStyle = theme.ok;
        ctx.lineWidth = 1.5 * pr;
        ctx.setLineDash([5 * pr, 4 * pr]);
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.font = `600 ${Math.round(10.5 * pr)}px ${theme.fontSans}`;
        ctx.fillStyle = theme.ok;
        ctx.textBaseline = "top";
        const label = `suggested ${fmtParam(suggested)}`;
        const w = ctx.measureText(label).width;
        ctx.fillText(label, x + 4 * pr + w > left + width ? x - 4 * pr - w : x + 4 * pr, top + 4 * pr);
      }
    }
    for (const { line, pts } of this.xy) {
      if (!pts.length) continue;
      const coords = pts.map(([x, y]) => [u.valToPos(x, "x", true), u.valToPos(y, "y", true)]);
      ctx.strokeStyle = line.stroke;
      ctx.lineWidth = line.width * pr;
      ctx.setLineDash(line.dash.map((d) => d * pr));
      ctx.beginPath();
      let pen = false;
      for (const [x, y] of coords) {
        if (!finite(x) || !finite(y)) { pen = false; continue; }
        if (pen) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
        pen = true;
      }
      ctx.stroke();
      ctx.setLineDash([]);
      const dot = (x, y, r, fill, stroke) => {
        if (!finite(x) || !finite(y)) return;
        ctx.beginPath();
        ctx.arc(x, y, r * pr, 0, Math.PI * 2);
        if (fill) { ctx.fillStyle = fill; ctx.fill(); }
        if (stroke) { ctx.strokeStyle = stroke; ctx.lineWidth = 1.5 * pr; ctx.stroke(); }
      };
      if (line.isCurrent && coords.length <= 600) {
        const color = surface ? rgba(line.color, 0.85) : line.stroke;
        for (const [x, y] of coords) dot(x, y, surface ? 1.9 : 1.6, color);
      }
      const [sx, sy] = coords[0];
      const [ex, ey] = coords[coords.length - 1];
      if (surface) dot(sx, sy, line.isCurrent ? 4.5 : 3.5, theme.bg, line.stroke); // start: a ring
      if (line.isCurrent) {
        dot(ex, ey, 7.5, rgba(theme.rgb.bg, 0.75));
        dot(ex, ey, 5, surface ? theme.accent : line.stroke, theme.bg);
      } else {
        dot(ex, ey, 3, line.stroke);
      }
    }
    // Before a run: where the point will start, from the form.
    if (surface && !this.xy.some((l) => l.line.isCurrent && l.pts.length) && !this.panel.runId) {
      const field = (name) => this.panel.fields.find((f) => f.name === name);
      const fx = field("x0");
      const fy = field("y0");
      const x = fx ? fx.value() : undefined;
      const y = fy ? fy.value() : undefined;
      if (finite(x) && finite(y)) {
        const px = u.valToPos(x, "x", true);
        const py = u.valToPos(y, "y", true);
        ctx.beginPath();
        ctx.arc(px, py, 5 * pr, 0, Math.PI * 2);
        ctx.fillStyle = theme.bg;
        ctx.fill();
        ctx.strokeStyle = theme.fg;
        ctx.lineWidth = 2 * pr;
        ctx.stroke();
        ctx.font = `600 ${Math.round(10.5 * pr)}px ${theme.fontSans}`;
        ctx.fillStyle = theme.fg;
        ctx.textBaseline = "middle";
        ctx.fillText("start", px + 8 * pr, py);
      }
    }
    if (this.hover) {
      const { x, y } = this.hover;
      const px = u.valToPos(x, "x", true);
      const py = u.valToPos(y, "y", true);
      if (finite(px) && finite(py)) {
        ctx.beginPath();
        ctx.arc(px, py, 6 * pr, 0, Math.PI * 2);
        ctx.strokeStyle = theme.fg;
        ctx.lineWidth = 2 * pr;
        ctx.stroke();
      }
    }
    ctx.restore();
  }

  // --- the readout under each chart (the hover legend) ---

  buildReadout(lines) {
    this.readout.replaceChildren();
    this.readoutItems = [];
    const add = (label, swatch) => {
      const item = el("span", `pg-readout-item${swatch && !swatch.isCurrent && this.panel.current ? " is-overlay" : ""}`);
      if (swatch) {
        const mark = el("span", "pg-swatch");
        mark.style.borderTopColor = swatch.stroke;
        mark.style.borderTopStyle = swatch.dash.length ? "dashed" : "solid";
        item.append(mark);
      }
      item.append(el("span", "pg-readout-label", label));
      const value = el("span", "pg-readout-value", "–");
      item.append(value);
      this.readout.append(item);
      return value;
    };
    this.stepValue = add("step");
    if (!this.stepX) {
      this.xValue = add(humanize(this.spec.x));
      this.yValue = add(this.spec.y.length === 1 ? humanize(this.spec.y[0]) : "y");
      this.extra = [];
      for (const key of ["loss", "lr"]) {
        if (key !== this.spec.x && !this.spec.y.includes(key)) this.extra.push([key, add(key)]);
      }
      this.whichValue = add("run");
      return;
    }
    for (const line of lines) this.readoutItems.push([line, add(line.label, line)]);
    this.extra = [];
    const keys = new Set(lines.map((l) => l.key));
    const current = this.panel.current;
    const oneSeries = !current || current.seriesNames.length <= 1;
    for (const key of oneSeries ? ["loss", "lr"] : ["lr"]) {
      if (!keys.has(key) && this.panel.allRuns().some((r) => r.points.some((p) => key in p))) {
        this.extra.push([key, add(key)]);
      }
    }
  }

  updateReadout() {
    const u = this.u;
    if (!u) return;
    this.readout.hidden = !this.lines.some((l) => l.run.points.length);
    const current = this.panel.current || this.panel.allRuns().slice(-1)[0];
    if (this.stepX) {
      const xs = u.data[0] || [];
      let idx = u.cursor.idx;
      if (idx == null || idx < 0) {
        // No cursor: show the latest step of the current run.
        idx = current && current.lastStep != null ? xs.lastIndexOf(current.lastStep) : xs.length - 1;
      }
      if (idx == null || idx < 0 || idx >= xs.length) {
        this.stepValue.textContent = "–";
        return;
      }
      const step = xs[idx];
      this.stepValue.textContent = fmtNum(step);
      this.readoutItems.forEach(([line, node], i) => {
        const value = u.data[i + 1] ? u.data[i + 1][idx] : null;
        node.textContent = value == null ? "–" : fmtNum(value);
      });
      const point = current ? current.byStep.get(step) : null;
      for (const [key, node] of this.extra || []) {
        node.textContent = point && point[key] != null ? fmtNum(point[key]) : "–";
      }
      return;
    }
    // x is not the step: the point nearest the cursor (or the current run's last point).
    let best = null;
    const left = u.cursor.left;
    const top = u.cursor.top;
    if (left != null && left >= 0 && top != null && top >= 0) {
      let bestDistance = 24 * 24;
      for (const { line, pts } of this.xy) {
        for (const pt of pts) {
          const dx = u.valToPos(pt[0], "x") - left;
          const dy = u.valToPos(pt[1], "y") - top;
          const d = dx * dx + dy * dy;
          if (d < bestDistance) { bestDistance = d; best = { line, pt }; }
        }
      }
    }
    const hover = best ? { x: best.pt[0], y: best.pt[1] } : null;
    const changed = (hover && (!this.hover || hover.x !== this.hover.x || hover.y !== this.hover.y)) || (!hover && this.hover);
    this.hover = hover;
    if (changed) u.redraw(false, false);
    if (!best) {
      const mine = this.xy.filter((l) => l.line.isCurrent && l.pts.length);
      const lastLine = mine[mine.length - 1] || this.xy.filter((l) => l.pts.length).slice(-1)[0];
      if (lastLine) best = { line: lastLine.line, pt: lastLine.pts[lastLine.pts.length - 1] };
    }
    if (!best) {
      [this.stepValue, this.xValue, this.yValue, this.whichValue].forEach((n) => { if (n) n.textContent = "–"; });
      for (const [, node] of this.extra || []) node.textContent = "–";
      return;
    }
    const [x, y, point] = best.pt;
    this.stepValue.textContent = point.step != null ? fmtNum(point.step) : "–";
    this.xValue.textContent = fmtNum(x);
    this.yValue.textContent = fmtNum(y);
    for (const [key, node] of this.extra || []) node.textContent = point[key] != null ? fmtNum(point[key]) : "–";
    const run = best.line.run;
    this.whichValue.textContent = `#${run.num}${best.line.series != null ? ` ${best.line.series}` : ""}`;
  }
}
