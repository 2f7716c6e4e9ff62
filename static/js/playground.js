// ModelTerms playgrounds: params form -> POST a run -> EventSource -> uPlot charts.
//
// One `Panel` per `section.playground`. The panel owns the form, the status line, the runs
// (the current one plus up to five earlier ones drawn as faded overlays) and one `Chart` per
// chart spec. Charts with x = "step" are ordinary uPlot line charts over the union of steps;
// charts with any other x (a 2-D path, KL, the learning rate) are drawn point by point in order
// on a uPlot canvas, which supplies scales, axes and the cursor. No framework, no build step;
// every server string goes into the page through textContent.

const MAX_OVERLAYS = 5;
const ACTIVE = new Set(["queued", "running", "paused"]);
const CONTROL_KEYS = new Set(["paused", "step_once"]);
const OVERLAY_DASHES = [[6, 4], [2, 3], [10, 3, 2, 3], [4, 4], [1, 3]];
const LIVE_THROTTLE_MS = 100;
const SURFACE_BANDS = 12;
const PALETTES = {
  light: ["#e8590c", "#2b8a3e", "#c2255c", "#1971c2", "#e67700", "#7048e8", "#0c8599"],
  dark: ["#ff922b", "#51cf66", "#f06595", "#4dabf7", "#fcc419", "#b197fc", "#22b8cf"],
};

// --- small helpers ---------------------------------------------------------------------------

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = String(text);
  return node;
}

function humanize(key) {
  return String(key).replace(/_/g, " ");
}

function isPlainObject(value) {
  return value != null && typeof value === "object" && !Array.isArray(value);
}

function finite(value) {
  return typeof value === "number" && Number.isFinite(value);
}

function trimZeros(text) {
  return text.includes("e")
    ? text.replace(/\.?0+e/, "e").replace("e+", "e")
    : text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

/** A number for people: integers in full with separators, others to 4 significant digits. */
function fmtNum(value, digits = 4) {
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return value.toLocaleString("en-US");
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-4)) return trimZeros(value.toExponential(digits - 1));
  return trimZeros(value.toPrecision(digits));
}

/** A param value as a slider shows it: 3 significant digits (0.0316). */
function fmtParam(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e6)) return trimZeros(value.toExponential(2));
  return String(Number(value.toPrecision(3)));
}

/** Axis tick labels: short. */
function fmtTick(value) {
  if (value == null || !Number.isFinite(value)) return "";
  const abs = Math.abs(value);
  if (abs === 0) return "0";
  if (abs >= 1e5 || abs < 1e-3) return trimZeros(value.toExponential(1)).replace("e-", "e−");
  return String(Number(value.toPrecision(4))).replace("-", "−");
}

function fmtBytes(bytes) {
  if (!finite(bytes)) return String(bytes);
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : fmtNum(value, 3)} ${units[unit]}`;
}

function fmtDuration(seconds) {
  if (!finite(seconds) || seconds < 0) return "";
  if (seconds < 1) return "<1 s";
  if (seconds < 10) return `${seconds.toFixed(1).replace(/\.0$/, "")} s`;
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

/** A value in a sentence or a run label: 0.05, sgd, on/off, a,b. */
function fmtValue(value) {
  if (typeof value === "number") return fmtParam(value);
  if (typeof value === "boolean") return value ? "on" : "off";
  if (Array.isArray(value)) return value.map(fmtValue).join(",");
  if (value == null) return "—";
  return String(value);
}

/** Never throws: resolves to {ok, status, body, headers} or {ok: false, status: 0, error}. */
async function api(url, options = {}) {
  try {
    const init = { ...options, headers: { Accept: "application/json", ...(options.headers || {}) } };
    if (options.json !== undefined) {
      init.body = JSON.stringify(options.json);
      init.headers["Content-Type"] = "application/json";
      delete init.json;
    }
    const response = await fetch(url, init);
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    return { ok: response.ok, status: response.status, body, headers: response.headers };
  } catch (error) {
    return { ok: false, status: 0, body: null, error };
  }
}

function detailText(body, status) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => (d && (d.message || d.msg)) || String(d)).join("; ");
  return status ? `The server answered ${status}.` : "The server could not be reached.";
}

function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 2000);
}

function csvCell(value) {
  if (value == null) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

// --- colours ---------------------------------------------------------------------------------

const colorContext = (() => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  return canvas.getContext("2d", { willReadFrequently: true });
})();

/** Any CSS colour -> [r, g, b, a] (a in 0..1), through the canvas, so every syntax works. */
function parseColor(css, fallback = [0, 0, 0, 1]) {
  if (!css || !colorContext) return fallback;
  colorContext.clearRect(0, 0, 1, 1);
  colorContext.fillStyle = "#000";
  colorContext.fillStyle = css.trim();
  colorContext.fillRect(0, 0, 1, 1);
  const [r, g, b, a] = colorContext.getImageData(0, 0, 1, 1).data;
  return [r, g, b, a / 255];
}

function rgba(color, alpha = 1) {
  const [r, g, b, a] = color;
  return `rgba(${r},${g},${b},${+(a * alpha).toFixed(3)})`;
}

function mix(c1, c2, t) {
  return [0, 1, 2].map((i) => Math.round(c1[i] + (c2[i] - c1[i]) * t)).concat(1);
}

function isDark() {
  const theme = document.documentElement.dataset.theme;
  if (theme) return theme === "dark";
  return matchMedia("(prefers-color-scheme: dark)").matches;
}

function readTheme(node) {
  const style = getComputedStyle(node);
  const dark = isDark();
  const read = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  const colors = {
    bg: read("--bg", dark ? "#0f1117" : "#ffffff"),
    bgSoft: read("--bg-soft", dark ? "#161922" : "#f6f7f9"),
    fg: read("--fg", dark ? "#e7e9ee" : "#16181d"),
    fgMuted: read("--fg-muted", dark ? "#a0a7b5" : "#5b6270"),
    border: read("--border", dark ? "#2a2f3c" : "#e3e6eb"),
    accent: read("--accent", dark ? "#8b85ff" : "#4f46e5"),
    accentSoft: read("--accent-soft", dark ? "#25244a" : "#eef0ff"),
    danger: read("--danger", dark ? "#ff7b7b" : "#c0262d"),
    ok: read("--ok", dark ? "#4ad49a" : "#12805c"),
    warn: read("--warn", dark ? "#f4b45f" : "#a05a00"),
  };
  const rgb = Object.fromEntries(Object.entries(colors).map(([k, v]) => [k, parseColor(v)]));
  const fontSans = read("--font-sans", "") || style.fontFamily || "system-ui, sans-serif";
  const fontMono = read("--font-mono", "ui-monospace, monospace");
  const palette = [rgb.accent, ...PALETTES[dark ? "dark" : "light"].map((c) => parseColor(c))];
  return {
    dark,
    ...colors,
    rgb,
    palette,
    fontSans,
    fontMono,
    grid: rgba(rgb.border, 1),
    token: [dark, colors.bg, colors.fg, colors.accent, colors.border].join("|"),
  };
}

// --- form fields -----------------------------------------------------------------------------

class Field {
  constructor(node, liveNames) {
    this.node = node;
    this.kind = node.dataset.kind;
    this.name = node.dataset.name;
    this.live = node.hasAttribute("data-live") || liveNames.has(this.name);
    this.inputs = [...node.querySelectorAll("input, select")];
    this.input = this.inputs[0] || null;
    this.output = node.querySelector("output");
    this.errorNode = node.querySelector(".pg-field-error");
    if (this.kind === "log" && this.input) {
      // The exact default (0.05) lives in the output; the slider only holds a rounded log10.
      const shown = parseFloat(this.output && this.output.textContent);
      this.real = finite(shown) && shown > 0 ? shown : this.fromLog(this.input.value);
    }
    this.display();
  }

  get numericOptions() {
    if (this.kind !== "select" || !this.input) return false;
    const options = [...this.input.options];
    return options.length > 0 && options.every((o) => o.value.trim() !== "" && Number.isFinite(Number(o.value)));
  }

  fromLog(position) {
    const low = parseFloat(this.input.dataset.min);
    const high = parseFloat(this.input.dataset.max);
    let value = Number((10 ** parseFloat(position)).toPrecision(3));
    if (finite(low)) value = Math.max(low, value);
    if (finite(high)) value = Math.min(high, value);
    return value;
  }

  /** Keep a range slider inside exclusive bounds (lt 1 -> max one step below 1). */
  applySchema(prop) {
    const input = this.input;
    if (this.kind !== "range" || !input) return;
    const step = parseFloat(input.step);
    if (!(step > 0)) return;
    if (finite(prop.exclusiveMaximum) && parseFloat(input.max) >= prop.exclusiveMaximum) {
      input.max = String(Number((prop.exclusiveMaximum - step).toPrecision(12)));
    }
    if (finite(prop.exclusiveMinimum) && parseFloat(input.min) <= prop.exclusiveMinimum) {
      input.min = String(Number((prop.exclusiveMinimum + step).toPrecision(12)));
    }
    this.display(); // the browser clamps the value to the new bounds
  }

  integral() {
    return this.input && (this.input.step === "1" || parseFloat(this.input.step) === 1);
  }

  /** The value to send, or undefined when the field holds none (an empty number box). */
  value() {
    const input = this.input;
    if (!input) return undefined;
    switch (this.kind) {
      case "log":
        return this.real;
      case "range":
      case "number": {
        if (input.value.trim() === "") return undefined;
        const number = Number(input.value);
        if (!Number.isFinite(number)) return undefined;
        return this.integral() ? Math.round(number) : number;
      }
      case "select":
        return this.numericOptions ? Number(input.value) : input.value;
      case "checkbox":
        return input.checked;
      case "checkboxes":
        return this.inputs.filter((i) => i.checked).map((i) => i.value);
      default:
        return input.value;
    }
  }

  /** Set from a share-link string; anything that does not fit is ignored. */
  setFromString(text) {
    const input = this.input;
    if (!input || text == null) return;
    switch (this.kind) {
      case "log": {
        const value = Number(text);
        if (!finite(value) || value <= 0) return;
        const low = parseFloat(input.dataset.min);
        const high = parseFloat(input.dataset.max);
        if ((finite(low) && value < low) || (finite(high) && value > high)) return;
        this.real = value;
        input.value = String(Math.log10(value));
        break;
      }
      case "range":
      case "number": {
        const value = Number(text);
        if (text.trim() === "" || !Number.isFinite(value)) return;
        input.value = String(value);
        break;
      }
      case "select":
        if ([...input.options].some((o) => o.value === text)) input.value = text;
        break;
      case "checkbox":
        input.checked = ["1", "true", "on", "yes"].includes(text.toLowerCase());
        break;
      case "checkboxes": {
        const wanted = new Set(text.split(",").map((s) => s.trim()).filter(Boolean));
        this.inputs.forEach((i) => { i.checked = wanted.has(i.value); });
        break;
      }
      default:
        input.value = text;
    }
    this.display();
  }

  /** The value as a share-link string. */
  toParam() {
    const value = this.value();
    if (value === undefined) return undefined;
    if (Array.isArray(value)) return value.join(",");
    return String(value);
  }

  onInput() {
    if (this.kind === "log" && this.input) this.real = this.fromLog(this.input.value);
    this.display();
    this.clearError();
  }

  display() {
    if (!this.input) return;
    if (this.input.type === "range") {
      const low = parseFloat(this.input.min);
      const high = parseFloat(this.input.max);
      const at = parseFloat(this.input.value);
      const pct = high > low && finite(at) ? ((at - low) / (high - low)) * 100 : 50;
      this.input.style.setProperty("--pg-fill", `${Math.max(0, Math.min(100, pct)).toFixed(1)}%`);
    }
    if (!this.output) return;
    if (this.kind === "log") this.output.textContent = fmtParam(this.real);
    else if (this.kind === "range") {
      const value = this.value();
      const step = parseFloat(this.input.step);
      const decimals = finite(step) && step > 0 && step < 1 ? Math.min(6, Math.ceil(-Math.log10(step))) : 0;
      this.output.textContent = finite(value) ? String(Number(value.toFixed(decimals))) : "";
    }
  }

  setDisabled(disabled) {
    this.inputs.forEach((input) => { input.disabled = disabled; });
    this.node.classList.toggle("is-locked", disabled);
  }

  showError(message) {
    if (!this.errorNode) return;
    this.errorNode.textContent = message;
    this.errorNode.hidden = false;
    this.node.classList.add("has-error");
    this.inputs.forEach((i) => i.setAttribute("aria-invalid", "true"));
    if (this.errorNode.id === "") this.errorNode.id = `${this.input ? this.input.id || this.name : this.name}-error`;
    this.inputs.forEach((i) => i.setAttribute("aria-describedby", this.errorNode.id));
  }

  clearError() {
    if (!this.errorNode || this.errorNode.hidden) return;
    this.errorNode.hidden = true;
    this.errorNode.textContent = "";
    this.node.classList.remove("has-error");
    this.inputs.forEach((i) => { i.removeAttribute("aria-invalid"); i.removeAttribute("aria-describedby"); });
  }
}

// --- runs ------------------------------------------------------------------------------------

class Run {
  constructor(id, num, params) {
    this.id = id;
    this.num = num;
    this.params = params || {};
    this.startParams = { ...this.params };
    this.status = "queued";
    this.queuePosition = null;
    this.points = [];
    this.events = [];
    this.controls = [];
    this.seriesNames = [];
    this.byStep = new Map();
    this.lastEventId = 0;
    this.lastStep = null;
    this.device = null;
    this.facts = {};
    this.end = null;
    this.startedAt = null;
    this.endedAt = null;
    this.rateWindow = [];
    this.es = null;
    this.poll = null;
  }

  get total() {
    return finite(this.params.steps) ? this.params.steps : null;
  }

  get active() {
    return ACTIVE.has(this.status) && !this.end;
  }

  addPoints(points) {
    for (const point of points) {
      if (!isPlainObject(point)) continue;
      this.points.push(point);
      const series = point.series == null ? null : String(point.series);
      if (!this.seriesNames.includes(series)) this.seriesNames.push(series);
      if (finite(point.step)) {
        if (!this.byStep.has(point.step)) this.byStep.set(point.step, point);
        if (this.lastStep == null || point.step > this.lastStep) this.lastStep = point.step;
      }
    }
    if (this.lastStep != null) {
      const now = performance.now();
      this.rateWindow.push([now, this.lastStep]);
      while (this.rateWindow.length > 2 && now - this.rateWindow[0][0] > 2500) this.rateWindow.shift();
    }
  }

  /** Steps per second over the last ~2 s of point arrivals. */
  rate() {
    const w = this.rateWindow;
    if (w.length < 2) return null;
    const [t0, s0] = w[0];
    const [t1, s1] = w[w.length - 1];
    if (t1 - t0 < 250 || s1 <= s0) return null;
    return ((s1 - s0) * 1000) / (t1 - t0);
  }

  close() {
    if (this.es) this.es.close();
    this.es = null;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
  }
}

// --- charts ----------------------------------------------------------------------------------

class Chart {
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
    const rows = surface.z.length;
    const cols = rows ? surface.z[0].length : 0;
    if (rows < 2 || cols < 2) return null;
    let zMin = Infinity;
    let zMax = -Infinity;
    for (const row of surface.z) for (const v of row) if (finite(v)) { zMin = Math.min(zMin, v); zMax = Math.max(zMax, v); }
    if (!(zMax > zMin)) return null;
    const W = Math.min(width, 720);
    const H = Math.min(height, 720);
    const canvas = document.createElement("canvas");
    canvas.width = W;
    canvas.height = H;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(W, H);
    const { bg, accent, fg, warn } = theme.rgb;
    const low = mix(bg, accent, theme.dark ? 0.42 : 0.34);
    const mid = mix(bg, accent, theme.dark ? 0.12 : 0.08);
    const high = mix(bg, warn, theme.dark ? 0.3 : 0.26);
    const colors = [];
    for (let b = 0; b < SURFACE_BANDS; b++) {
      const t = b / (SURFACE_BANDS - 1);
      colors.push(t < 0.5 ? mix(low, mid, t * 2) : mix(mid, high, (t - 0.5) * 2));
    }
    const edge = mix(bg, fg, theme.dark ? 0.32 : 0.26);
    const scale = Math.log(zMax - zMin + 1);
    const bands = new Uint8Array(W * H);
    for (let py = 0; py < H; py++) {
      const fy = (1 - py / (H - 1)) * (rows - 1); // canvas y runs down, the view's y runs up
      const j = Math.min(rows - 2, Math.floor(fy));
      const ty = fy - j;
      const r0 = surface.z[j];
      const r1 = surface.z[j + 1];
      for (let px = 0; px < W; px++) {
        const fx = (px / (W - 1)) * (cols - 1);
        const i = Math.min(cols - 2, Math.floor(fx));
        const tx = fx - i;
        const z = (r0[i] * (1 - tx) + r0[i + 1] * tx) * (1 - ty) + (r1[i] * (1 - tx) + r1[i + 1] * tx) * ty;
        const t = Math.log(Math.max(0, z - zMin) + 1) / scale;
        bands[py * W + px] = Math.max(0, Math.min(SURFACE_BANDS - 1, Math.floor(t * SURFACE_BANDS)));
      }
    }
    const data = image.data;
    for (let py = 0; py < H; py++) {
      for (let px = 0; px < W; px++) {
        const at = py * W + px;
        const band = bands[at];
        const border = (px + 1 < W && bands[at + 1] !== band) || (py + 1 < H && bands[at + W] !== band);
        const color = border ? edge : colors[band];
        data[at * 4] = color[0];
        data[at * 4 + 1] = color[1];
        data[at * 4 + 2] = color[2];
        data[at * 4 + 3] = 255;
      }
    }
    ctx.putImageData(image, 0, 0);
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

/** Tick positions for a linear axis: about `count` round numbers; never more than 100. */
function linearSplits(min, max, count) {
  if (!finite(min) || !finite(max)) return [];
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const splits = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9 && splits.length < 100; v += step) {
    splits.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  }
  return splits;
}

/** Tick positions for a log10 axis: decades (every k-th when many), or 1-2-5 (1..9) within few. */
function logSplits(min, max, count) {
  if (!(min > 0) || !(max > min)) return min > 0 ? [min] : [];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const span = Math.log10(max) - Math.log10(min);
  const inside = (v) => v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9);
  const splits = [];
  if (span <= 2.3) {
    const mults = span <= 0.8 ? [1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9] : span <= 1.4 ? [1, 2, 3, 5] : [1, 2, 5];
    for (let e = lo; e <= hi; e++) {
      for (const m of mults) {
        const v = Number((m * 10 ** e).toPrecision(6));
        if (inside(v)) splits.push(v);
      }
    }
    if (splits.length >= 2 && splits.length <= count * 2) return splits;
    if (splits.length < 2) return linearSplits(min, max, Math.min(count, 4)).filter((v) => v > 0);
  }
  splits.length = 0;
  const want = (hi - lo) / Math.max(2, count * 1.5);
  const stride = [1, 2, 3, 4, 5, 10, 15, 20, 25, 50, 100, 200].find((k) => k >= want) || Math.ceil(want);
  for (let e = Math.ceil(lo / stride) * stride; e <= hi && splits.length < 100; e += stride) {
    const v = Number((10 ** e).toPrecision(6));
    if (inside(v)) splits.push(v);
  }
  return splits;
}

/** A log scale's range: the data's, widened to whole decades when they span several. */
function logRange(min, max) {
  if (!(min > 0) || !(max > 0)) return [0.1, 10];
  let lo = Math.log10(min);
  let hi = Math.log10(max);
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  const pad = (hi - lo) * 0.05;
  return [10 ** (lo - pad), 10 ** (hi + pad)];
}

function padRange(values, log) {
  const good = values.filter((v) => finite(v) && (!log || v > 0));
  if (!good.length) return log ? [0.1, 10] : [0, 1];
  let min = Math.min(...good);
  let max = Math.max(...good);
  if (log) {
    const lo = Math.log10(min);
    const hi = Math.log10(max);
    const pad = Math.max(0.05, (hi - lo) * 0.05);
    return [10 ** (lo - pad), 10 ** (hi + pad)];
  }
  if (min === max) {
    const pad = Math.abs(min) * 0.1 || 1;
    return [min - pad, max + pad];
  }
  const pad = (max - min) * 0.06;
  min -= pad;
  max += pad;
  return [min, max];
}

// --- a small bar chart for singular values ---------------------------------------------------

class Bars {
  constructor(panel, values, highlight, label) {
    this.panel = panel;
    this.values = values.filter(finite).slice(0, 96);
    this.highlight = highlight;
    this.canvas = el("canvas", "pg-bars");
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", label);
    this.observer = new ResizeObserver(() => this.draw());
    this.observer.observe(this.canvas);
  }

  draw() {
    const canvas = this.canvas;
    const width = Math.floor(canvas.clientWidth);
    const height = Math.floor(canvas.clientHeight) || 120;
    if (!width || !this.values.length) return;
    const pr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * pr);
    canvas.height = Math.round(height * pr);
    const ctx = canvas.getContext("2d");
    const theme = this.panel.theme;
    ctx.setTransform(pr, 0, 0, pr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const max = Math.max(...this.values) || 1;
    const n = this.values.length;
    const pad = 4;
    const slot = (width - pad * 2) / n;
    const gap = Math.min(3, slot * 0.25);
    ctx.strokeStyle = theme.border;
    ctx.beginPath();
    ctx.moveTo(0, height - 0.5);
    ctx.lineTo(width, height - 0.5);
    ctx.stroke();
    this.values.forEach((v, i) => {
      const h = Math.max(1, (v / max) * (height - 6));
      ctx.fillStyle = i < this.highlight ? theme.accent : rgba(theme.rgb.fgMuted, 0.45);
      ctx.fillRect(pad + i * slot + gap / 2, height - h, Math.max(1, slot - gap), h);
    });
  }

  dispose() {
    this.observer.disconnect();
  }
}

// --- the panel -------------------------------------------------------------------------------

class Panel {
  constructor(section, index, query) {
    this.section = section;
    try {
      this.config = JSON.parse(section.dataset.playground || "{}") || {};
    } catch {
      this.config = {};
    }
    this.name = this.config.name || section.id.replace(/^playground-/, "");
    this.runId = this.config.runId || null;
    this.liveNames = new Set(this.config.live || []);
    this.form = section.querySelector(".pg-controls");
    this.statusNode = section.querySelector(".pg-status");
    this.errorsNode = section.querySelector(".pg-errors");
    this.factsNode = section.querySelector(".pg-facts");
    this.summaryNode = section.querySelector(".pg-summary");
    this.runsNode = section.querySelector(".pg-runs");
    this.permalink = section.querySelector(".pg-permalink");
    this.buttons = {};
    section.querySelectorAll("[data-action]").forEach((b) => { this.buttons[b.dataset.action] = b; });
    this.fields = this.form ? [...this.form.querySelectorAll(".pg-field[data-name]")].map((n) => new Field(n, this.liveNames)) : [];
    this.theme = readTheme(section);
    this.current = null;
    this.overlays = [];
    this.runCount = 0;
    this.starting = false;
    this.pendingLive = {};
    this.liveInFlight = false;
    this.liveTimer = null;
    this.lastLiveSent = 0;
    this.frame = 0;
    this.statusText = "";
    this.statusTone = "";
    this.flashUntil = 0;
    this.lastStatusAt = 0;
    this.extras = null;
    this.bars = null;
    if (this.runId) section.classList.add("is-permalink");

    this.changesNode = el("ol", "pg-changes");
    this.changesNode.setAttribute("aria-label", "Live changes");
    this.changesNode.hidden = true;
    if (this.statusNode) this.statusNode.after(this.changesNode);

    const specs = Array.isArray(this.config.charts) ? this.config.charts : [];
    this.charts = [];
    specs.forEach((spec, i) => {
      const figure = section.querySelector(`figure.pg-chart[data-chart="${i}"]`);
      if (figure) this.charts.push(new Chart(this, spec, figure));
    });

    if (typeof uPlot === "undefined") this.showErrors(["The chart library did not load, so curves cannot be drawn."]);
    this.defaults = this.params();
    this.applyQuery(index, query);
    this.bind();
    this.loadDemo();
    this.render();
    if (this.runId) this.openPermalink();
    else this.syncControls();
  }

  // --- set-up ---

  applyQuery(index, query) {
    if (!query || this.runId) return;
    const target = query.get("demo");
    if (target ? target !== this.name : index !== 0) return;
    for (const field of this.fields) {
      if (query.has(field.name)) field.setFromString(query.get(field.name));
    }
  }

  bind() {
    if (this.form) {
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.start();
      });
      // "input" while a slider moves, "change" when it is let go (selects and checkboxes fire both).
      this.form.addEventListener("input", (event) => this.onFieldEvent(event));
      this.form.addEventListener("change", (event) => this.onFieldEvent(event));
    }
    this.section.addEventListener("click", (event) => {
      const button = event.target.closest("[data-action]");
      if (!button || !this.section.contains(button) || button.disabled) return;
      const action = button.dataset.action;
      if (action === "run") return; // the form's submit handles it
      event.preventDefault();
      if (action === "pause") this.togglePause();
      else if (action === "step") this.stepOnce();
      else if (action === "reset") this.reset();
      else if (action === "csv") this.exportCsv();
      else if (action === "json") this.exportJson();
      else if (action === "share") this.share();
      else if (action === "remove-run") this.removeOverlay(Number(button.dataset.run));
      else if (action === "clear-runs") this.clearOverlays();
    });
  }

  fieldFor(target) {
    const node = target.closest && target.closest(".pg-field[data-name]");
    return node ? this.fields.find((f) => f.node === node) : null;
  }

  onFieldEvent(event) {
    const field = this.fieldFor(event.target);
    if (!field) return;
    field.onInput();
    if (field.name === "function") this.schedule();
    if (["x0", "y0"].includes(field.name)) {
      for (const chart of this.charts) if (chart.u && chart.isSurface()) chart.u.redraw(false, false);
    }
    const run = this.current;
    if (field.live && run && run.active) {
      const value = field.value();
      if (value === undefined) return;
      const sent = run.liveSent || (run.liveSent = {});
      if (!(field.name in this.pendingLive) && JSON.stringify(sent[field.name]) === JSON.stringify(value)) return;
      this.pendingLive[field.name] = value;
      this.flushLive();
    }
  }

  /** The demo's details: extras (the surfaces to draw) and the params schema, whose exclusive
   * bounds the sliders respect, so that dragging to the end never asks for a rejected value. */
  async loadDemo() {
    const result = await api(`/api/demos/${encodeURIComponent(this.name)}`);
    if (!result.ok || !isPlainObject(result.body)) return;
    if (isPlainObject(result.body.extras)) this.extras = result.body.extras;
    const properties = isPlainObject(result.body.params_schema) ? result.body.params_schema.properties : null;
    if (isPlainObject(properties)) {
      for (const field of this.fields) {
        if (isPlainObject(properties[field.name])) field.applySchema(properties[field.name]);
      }
    }
    this.schedule();
  }

  surfaceName() {
    const run = this.current || this.allRuns().slice(-1)[0];
    if (this.runId && run && run.params.function) return run.params.function;
    const field = this.fields.find((f) => f.name === "function");
    if (field) return String(field.value());
    return run ? run.params.function : null;
  }

  surface() {
    const surfaces = this.extras && this.extras.surfaces;
    if (!isPlainObject(surfaces)) return null;
    const surface = surfaces[this.surfaceName()];
    if (!surface || !Array.isArray(surface.view) || surface.view.length !== 4 || !Array.isArray(surface.z)) return null;
    return surface;
  }

  allRuns() {
    return this.current ? [...this.overlays, this.current] : [...this.overlays];
  }

  // --- rendering ---

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render() {
    for (const chart of this.charts) {
      try {
        chart.update();
      } catch (error) {
        this.showErrors([`A chart could not be updated (${error.message}).`]);
      }
    }
    this.updateStatus();
  }

  onTheme() {
    this.theme = readTheme(this.section);
    for (const chart of this.charts) chart.key = "";
    if (this.bars) this.bars.draw();
    this.render();
  }

  // --- status line ---

  setStatus(text, tone = "") {
    this.statusText = text;
    this.statusTone = tone;
    if (performance.now() < this.flashUntil) return;
    this.paintStatus(text, tone);
  }

  paintStatus(text, tone) {
    if (!this.statusNode) return;
    if (this.statusNode.textContent !== text) this.statusNode.textContent = text;
    if ((this.statusNode.dataset.tone || "") !== tone) {
      if (tone) this.statusNode.dataset.tone = tone;
      else delete this.statusNode.dataset.tone;
    }
  }

  flash(text, tone = "ok") {
    this.flashUntil = performance.now() + 2500;
    this.paintStatus(text, tone);
    setTimeout(() => {
      if (performance.now() >= this.flashUntil) {
        this.flashUntil = 0;
        this.updateStatus(true);
      }
    }, 2600);
  }

  updateStatus(force = false) {
    const run = this.current;
    if (!run || (!run.active && !run.end)) {
      if (force) this.paintStatus(this.statusText, this.statusTone);
      return;
    }
    const now = performance.now();
    if (!force && run.active && now - this.lastStatusAt < 250) return;
    this.lastStatusAt = now;
    const [text, tone] = this.describe(run);
    this.setStatus(text, tone);
    if (force) this.paintStatus(this.statusText, this.statusTone);
  }

  describe(run) {
    const step = run.lastStep;
    if (run.end) {
      const e = run.end;
      const at = finite(e.step) ? e.step : step;
      // Messages may already start with the status ("Diverged at step 57: ..."): say it once.
      const said = e.message ? String(e.message).replace(/^(diverged|stopped|failed|cancelled)\b[^:]*:\s*/i, "") : "";
      const message = said ? `: ${said}` : "";
      switch (e.status) {
        case "done": {
          const count = at != null ? ` · ${fmtNum(at + 1)} steps` : "";
          if (this.runId || run.startedAt == null) return [`Done${count}`, "ok"];
          return [`Done in ${fmtDuration((run.endedAt - run.startedAt) / 1000)}${count}`, "ok"];
        }
        case "diverged":
          return [`Diverged at step ${at ?? "?"}${message}`, "warn"];
        case "cancelled":
          if (/^cancelled/i.test(said)) return [said, ""];
          return [`Cancelled${at != null ? ` at step ${at}` : ""}${message}`, ""];
        case "timeout":
          return [`Stopped at step ${at ?? "?"}${message}`, "warn"];
        case "failed":
          return [`Failed${message}`, "danger"];
        default:
          return [`${e.status}${message}`, ""];
      }
    }
    const again = run.reconnecting ? " · reconnecting…" : "";
    if (run.status === "queued") {
      return [run.queuePosition ? `Queued — position ${run.queuePosition}${again}` : `Starting…${again}`, ""];
    }
    if (run.status === "paused") return [`Paused at step ${step ?? 0}${again}`, ""];
    if (!run.device && step == null) return [`Starting…${again}`, ""];
    const parts = [`Running on ${run.device || "the server"}`];
    const rate = run.rate();
    if (rate) parts.push(`${fmtNum(rate, rate >= 100 ? 3 : 2)} steps/s`);
    const total = run.total;
    if (step != null) parts.push(total ? `step ${step + 1}/${total}` : `step ${step + 1}`);
    if (rate && total && step != null && total - 1 - step > 0) parts.push(`~${fmtDuration((total - 1 - step) / rate)} left`);
    return [parts.join(" · ") + again, ""];
  }

  // --- errors ---

  showErrors(messages) {
    if (!this.errorsNode) return;
    for (const message of messages) this.errorsNode.append(el("li", "", message));
  }

  clearErrors() {
    if (this.errorsNode) this.errorsNode.replaceChildren();
    this.fields.forEach((f) => f.clearError());
  }

  showFieldErrors(detail) {
    const general = [];
    for (const issue of Array.isArray(detail) ? detail : []) {
      const fieldName = String((issue && issue.field) || "").split(".")[0];
      const message = (issue && (issue.message || issue.msg)) || "Invalid value.";
      const field = this.fields.find((f) => f.name === fieldName);
      if (field) field.showError(message);
      general.push(message);
    }
    if (!general.length) general.push(detailText({ detail }, 422));
    this.showErrors(general);
  }

  // --- params ---

  params() {
    const params = {};
    for (const field of this.fields) {
      const value = field.value();
      if (value !== undefined) params[field.name] = value;
    }
    return params;
  }

  // --- starting a run ---

  async start() {
    if (this.starting || (this.current && this.current.active) || this.runId) return;
    this.clearErrors();
    const params = this.params();
    this.starting = true;
    this.syncControls();
    this.setStatus("Starting…");
    const result = await api(`/api/demos/${encodeURIComponent(this.name)}/runs`, { method: "POST", json: params });
    this.starting = false;
    this.syncControls();
    if (result.status === 201 && result.body && result.body.id) {
      this.begin(result.body, params);
    } else if (result.status === 422) {
      this.showFieldErrors(result.body && result.body.detail);
      this.setStatus("Some parameters need fixing.", "danger");
      const first = this.fields.find((f) => f.node.classList.contains("has-error"));
      if (first && first.input && !first.input.disabled) first.input.focus();
    } else if (result.status === 429) {
      const retry = result.headers && result.headers.get("Retry-After");
      const detail = detailText(result.body, 429);
      const wait = retry && /^\d+$/.test(retry) && !detail.includes(`${retry} s`) ? ` Retry in ${retry} s.` : "";
      this.setStatus(`${detail}${wait}`, "warn");
    } else if (result.status === 0) {
      this.setStatus("Could not start the run.", "danger");
      this.showErrors([`The server could not be reached${result.error && result.error.message ? ` (${result.error.message})` : ""}.`]);
    } else {
      this.setStatus("Could not start the run.", "danger");
      this.showErrors([detailText(result.body, result.status)]);
    }
    this.syncControls();
  }

  begin(body, params) {
    const previous = this.current;
    if (previous) {
      previous.close();
      if (previous.points.length) {
        this.overlays.push(previous);
        while (this.overlays.length > MAX_OVERLAYS) this.overlays.shift();
      }
    }
    const run = new Run(body.id, ++this.runCount, params);
    run.status = body.status || "queued";
    run.queuePosition = body.queue_position ?? null;
    this.current = run;
    this.clearRunViews();
    if (run.status === "queued") this.pollQueue(run);
    this.openStream(run, body.events_url || `/api/runs/${encodeURIComponent(run.id)}/events`);
    this.renderRuns();
    this.syncControls();
    this.updateStatus(true);
    this.schedule();
  }

  openPermalink() {
    const run = new Run(this.runId, ++this.runCount, {});
    run.status = "running";
    this.current = run;
    this.openStream(run, `/api/runs/${encodeURIComponent(this.runId)}/events?after=0`);
    this.syncControls();
  }

  pollQueue(run) {
    run.poll = setInterval(async () => {
      if (run !== this.current || run.status !== "queued") {
        clearInterval(run.poll);
        run.poll = null;
        return;
      }
      const result = await api(`/api/runs/${encodeURIComponent(run.id)}`);
      if (!result.ok || !result.body || run !== this.current) return;
      if (run.status === "queued") {
        run.queuePosition = result.body.queue_position ?? run.queuePosition;
        if (result.body.status && result.body.status !== "queued" && !ACTIVE.has(result.body.status)) {
          clearInterval(run.poll); // finished while queued: the end event says how
          run.poll = null;
        }
        this.updateStatus(true);
      }
    }, 1000);
  }

  openStream(run, url) {
    let es;
    try {
      es = new EventSource(url);
    } catch (error) {
      this.showErrors([`Could not follow the run (${error.message}).`]);
      return;
    }
    run.es = es;
    for (const type of ["start", "metrics", "control", "end"]) {
      es.addEventListener(type, (event) => this.onEvent(run, type, event));
    }
    es.addEventListener("open", () => {
      if (run.reconnecting) {
        run.reconnecting = false;
        this.updateStatus(true);
      }
    });
    es.addEventListener("error", () => {
      if (run.end || run.es !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        run.close();
        this.setStatus("Lost the connection to this run. Reload the page to see it again.", "danger");
      } else {
        run.reconnecting = true;
        this.updateStatus(true);
      }
    });
  }

  onEvent(run, type, event) {
    if (run.es == null) return; // closed (reset, or replaced by a newer run)
    const id = Number(event.lastEventId);
    if (Number.isFinite(id) && id > 0) {
      if (id <= run.lastEventId) return; // a replay after a reconnect: applied already
      run.lastEventId = id;
    }
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!isPlainObject(data)) return;
    run.events.push({ id: Number.isFinite(id) ? id : null, event: type, data });
    run.reconnecting = false;
    if (type === "start") this.onStart(run, data);
    else if (type === "metrics") this.onMetrics(run, data);
    else if (type === "control") this.onControl(run, data);
    else if (type === "end") this.onEnd(run, data);
  }

  onStart(run, data) {
    if (isPlainObject(data.params)) {
      run.params = { ...data.params };
      run.startParams = { ...data.params };
    }
    run.device = data.device || null;
    run.status = "running";
    run.startedAt = performance.now();
    if (run.poll) clearInterval(run.poll);
    run.poll = null;
    const facts = {};
    for (const [key, value] of Object.entries(data)) {
      if (!["params", "device", "demo"].includes(key)) facts[key] = value;
    }
    run.facts = facts;
    if (run === this.current) {
      this.renderFacts(run);
      this.renderRuns();
      this.syncControls();
      this.updateStatus(true);
      this.schedule();
    }
  }

  onMetrics(run, data) {
    if (!Array.isArray(data.points)) return;
    if (run.status === "queued") run.status = "running";
    run.addPoints(data.points);
    this.schedule();
  }

  onControl(run, data) {
    const changes = isPlainObject(data.changes) ? data.changes : {};
    if ("paused" in changes && !run.end) {
      run.status = changes.paused ? "paused" : "running";
      if (!changes.paused) run.rateWindow = [];
      this.syncControls();
      this.updateStatus(true);
    }
    const params = Object.fromEntries(Object.entries(changes).filter(([k]) => !CONTROL_KEYS.has(k)));
    if (Object.keys(params).length && finite(data.step)) {
      run.controls.push({ step: data.step, changes: params });
      Object.assign(run.params, params);
      if (run === this.current) {
        this.renderRuns();
        const text = `${Object.entries(params).map(([k, v]) => `${k} → ${fmtValue(v)}`).join(", ")} at step ${data.step}`;
        this.changesNode.append(el("li", "", text));
        this.changesNode.hidden = false;
      }
      this.schedule();
    }
  }

  onEnd(run, data) {
    run.end = data;
    run.status = data.status || "done";
    run.endedAt = performance.now();
    run.close();
    if (run !== this.current) return;
    this.renderSummary(isPlainObject(data.summary) ? data.summary : {}, run);
    if (this.permalink) {
      this.permalink.href = `/runs/${encodeURIComponent(run.id)}`;
      this.permalink.hidden = false;
    }
    this.renderRuns();
    this.syncControls();
    this.updateStatus(true);
    this.schedule();
  }

  // --- live changes ---

  flushLive() {
    const run = this.current;
    if (!run || !run.active) {
      this.pendingLive = {};
      return;
    }
    if (this.liveInFlight || this.liveTimer) return; // the pending value goes out next
    const wait = LIVE_THROTTLE_MS - (performance.now() - this.lastLiveSent);
    if (wait > 0) {
      this.liveTimer = setTimeout(() => {
        this.liveTimer = null;
        this.flushLive();
      }, wait);
      return;
    }
    const sent = run.liveSent || (run.liveSent = {});
    const changes = Object.fromEntries(Object.entries(this.pendingLive)
      .filter(([k, v]) => JSON.stringify(sent[k] ?? run.params[k]) !== JSON.stringify(v)));
    this.pendingLive = {};
    if (!Object.keys(changes).length) return;
    Object.assign(sent, changes);
    this.liveInFlight = true;
    this.lastLiveSent = performance.now();
    this.patch(run, changes).then((result) => {
      this.liveInFlight = false;
      if (result.status === 422) {
        for (const name of Object.keys(changes)) delete sent[name];
        this.showFieldErrors(result.body && result.body.detail);
      } else if (result.ok) {
        for (const name of Object.keys(changes)) {
          const field = this.fields.find((f) => f.name === name);
          if (field) field.clearError();
        }
      } // 409: the run has finished; nothing to do.
      if (Object.keys(this.pendingLive).length) this.flushLive();
    });
  }

  patch(run, changes) {
    return api(`/api/runs/${encodeURIComponent(run.id)}`, { method: "PATCH", json: changes });
  }

  async togglePause() {
    const run = this.current;
    if (!run || !run.active || run.status === "queued") return;
    const pause = run.status !== "paused";
    this.buttons.pause.disabled = true;
    const result = await this.patch(run, { paused: pause });
    if (result.ok && run === this.current && !run.end) {
      run.status = result.body && ACTIVE.has(result.body.status) ? result.body.status : pause ? "paused" : "running";
      if (!pause) run.rateWindow = [];
    } else if (result.status !== 409 && !result.ok) {
      this.showErrors([detailText(result.body, result.status)]);
    }
    this.syncControls();
    this.updateStatus(true);
  }

  async stepOnce() {
    const run = this.current;
    if (!run || run.status !== "paused") return;
    const result = await this.patch(run, { step_once: true });
    if (!result.ok && result.status !== 409) this.showErrors([detailText(result.body, result.status)]);
  }

  // --- reset, overlays ---

  reset() {
    const run = this.current;
    if (run) {
      if (run.active) api(`/api/runs/${encodeURIComponent(run.id)}`, { method: "DELETE" });
      run.close();
    }
    this.current = null;
    this.pendingLive = {};
    this.clearRunViews();
    this.clearErrors();
    this.setStatus("Ready. Press Run to train on the server.");
    this.paintStatus(this.statusText, this.statusTone);
    this.renderRuns();
    this.syncControls();
    this.schedule();
  }

  clearRunViews() {
    if (this.factsNode) this.factsNode.replaceChildren();
    if (this.bars) this.bars.dispose();
    this.bars = null;
    if (this.summaryNode) this.summaryNode.replaceChildren();
    this.changesNode.replaceChildren();
    this.changesNode.hidden = true;
    if (this.permalink) this.permalink.hidden = true;
  }

  removeOverlay(num) {
    const at = this.overlays.findIndex((r) => r.num === num);
    if (at < 0) return;
    const hadFocus = this.runsNode && this.runsNode.contains(document.activeElement);
    this.overlays.splice(at, 1);
    this.renderRuns();
    if (hadFocus) this.refocusRuns();
    this.schedule();
  }

  clearOverlays() {
    this.overlays = [];
    this.renderRuns();
    this.focusFallback();
    this.schedule();
  }

  refocusRuns() {
    const next = this.runsNode && this.runsNode.querySelector("button");
    if (next) next.focus();
    else this.focusFallback();
  }

  focusFallback() {
    const target = [this.buttons.run, this.buttons.reset, this.buttons.share].find((b) => b && !b.disabled && b.offsetParent);
    if (target) target.focus();
  }

  /** The label of a run: its number, then the params where it differs from the reference run
   * (as they were when it started, with any live change shown as start→end). */
  runLabel(run, reference) {
    const show = (key) => {
      const first = run.startParams[key];
      const last = run.params[key];
      const text = typeof first === "string" ? first : `${key}=${fmtValue(first)}`;
      return JSON.stringify(first) === JSON.stringify(last) || last === undefined ? text : `${text}→${fmtValue(last)}`;
    };
    const keys = new Set([...Object.keys(run.startParams), ...Object.keys(run.params)]);
    keys.delete("pace");
    let parts = [];
    if (reference && reference !== run) {
      for (const key of keys) {
        const same = JSON.stringify(run.startParams[key]) === JSON.stringify(reference.startParams[key])
          && JSON.stringify(run.params[key]) === JSON.stringify(reference.params[key]);
        if (!same) parts.push(show(key));
      }
      if (!parts.length) return `#${run.num} same params`;
    } else {
      // The current run: what differs from the form's defaults.
      const defaults = this.defaults || {};
      const differs = (k) => [run.startParams[k], run.params[k]].some((v) => v !== undefined && JSON.stringify(v) !== JSON.stringify(defaults[k]));
      parts = [...keys].filter((k) => k in defaults && differs(k)).map(show);
      if (!parts.length) parts = ["lr", "optimizer", "function", "mode", "beta", "rank"].filter((k) => keys.has(k)).map(show);
    }
    const more = parts.length > 4 ? " …" : "";
    return `#${run.num}${parts.length ? ` ${parts.slice(0, 4).join(" ")}` : ""}${more}`;
  }

  renderRuns() {
    const node = this.runsNode;
    if (!node) return;
    const focused = node.contains(document.activeElement) ? document.activeElement : null;
    const refocus = focused ? `[data-action="${focused.dataset.action}"]${focused.dataset.run ? `[data-run="${focused.dataset.run}"]` : ""}` : null;
    node.replaceChildren();
    const runs = this.allRuns();
    if (!runs.length || (this.runId && runs.length === 1)) {
      node.hidden = true;
      return;
    }
    node.hidden = false;
    const reference = this.current || this.overlays[this.overlays.length - 1];
    const theme = this.theme;
    for (const run of [...runs].reverse()) {
      const isCurrent = run === this.current;
      const item = el("li", `pg-run${isCurrent ? " is-current" : ""}`);
      const swatch = el("span", "pg-swatch");
      swatch.style.borderTopColor = isCurrent ? theme.accent : rgba(theme.rgb.accent, 0.55);
      swatch.style.borderTopStyle = isCurrent ? "solid" : "dashed";
      swatch.setAttribute("aria-hidden", "true");
      item.append(swatch, el("span", "pg-run-label", this.runLabel(run, reference)));
      if (isCurrent) {
        item.append(el("span", "pg-run-tag", run.end ? run.end.status : "current"));
      } else {
        if (run.end && run.end.status !== "done") item.append(el("span", "pg-run-tag", run.end.status));
        const remove = el("button", "pg-run-remove", "×");
        remove.type = "button";
        remove.dataset.action = "remove-run";
        remove.dataset.run = String(run.num);
        remove.setAttribute("aria-label", `Remove run #${run.num} from the charts`);
        remove.title = "Remove from the charts";
        item.append(remove);
      }
      node.append(item);
    }
    if (this.overlays.length) {
      const item = el("li", "pg-runs-clear");
      const clear = el("button", "button small", "Clear all");
      clear.type = "button";
      clear.dataset.action = "clear-runs";
      clear.setAttribute("aria-label", "Remove all earlier runs from the charts");
      item.append(clear);
      node.append(item);
    }
    if (refocus) {
      const again = node.querySelector(refocus);
      if (again) again.focus();
    }
  }

  // --- controls state ---

  syncControls() {
    const run = this.current;
    const active = !!(run && run.active);
    const had = document.activeElement;
    for (const field of this.fields) field.setDisabled((active && !field.live) || this.starting);
    const b = this.buttons;
    if (b.run) {
      b.run.disabled = active || this.starting;
      b.run.textContent = this.starting ? "Starting…" : active ? "Running…" : run && run.end ? "Run again" : "Run";
    }
    if (b.pause) {
      b.pause.disabled = !active || run.status === "queued";
      b.pause.textContent = run && run.status === "paused" ? "Resume" : "Pause";
      b.pause.classList.toggle("is-paused", !!(run && run.status === "paused"));
    }
    if (b.step) b.step.disabled = !(run && run.status === "paused" && !run.end);
    const finished = !!(run && run.end);
    if (b.csv) b.csv.disabled = !finished || !run.points.length;
    if (b.json) b.json.disabled = !finished;
    this.section.classList.toggle("is-running", active);
    // Keep focus somewhere useful when the focused button was just disabled.
    if (had && had !== document.body && this.section.contains(had) && had.disabled) {
      const next = [b.pause, b.run, b.reset].find((x) => x && !x.disabled);
      if (next) next.focus();
    }
  }

  // --- facts and summary ---

  renderFacts(run) {
    const node = this.factsNode;
    if (!node) return;
    node.replaceChildren();
    const add = (key, value) => {
      const long = (typeof value === "string" && value.length > 36)
        || (Array.isArray(value) && value.some((v) => !scalar(v)))
        || (Array.isArray(value) && value.join(", ").length > 36)
        || (isPlainObject(value) && Object.keys(value).length > 3);
      const wrap = el("div", `pg-fact${long ? " is-wide" : ""}`);
      wrap.append(el("dt", "", humanize(key)));
      const dd = el("dd");
      dd.append(renderValue(value, key, 1, true));
      wrap.append(dd);
      node.append(wrap);
    };
    if (run.device) add("device", run.device);
    for (const [key, value] of Object.entries(run.facts)) add(key, value);
  }

  renderSummary(summary, run) {
    const node = this.summaryNode;
    if (!node) return;
    node.replaceChildren();
    if (this.bars) this.bars.dispose();
    this.bars = null;
    const rest = { ...summary };
    if (!Object.keys(rest).length) return;
    node.append(el("h3", "pg-summary-title", "Summary"));

    if (finite(rest.suggested_lr)) {
      const box = el("div", "pg-callout");
      const head = el("p", "pg-callout-head");
      head.append(el("span", "", "Suggested learning rate "), el("strong", "pg-num", fmtParam(rest.suggested_lr)));
      box.append(head);
      if (rest.suggestion_method != null) box.append(el("p", "pg-callout-body", String(rest.suggestion_method)));
      node.append(box);
      delete rest.suggested_lr;
      delete rest.suggestion_method;
    }

    if (isPlainObject(rest.samples)) {
      node.append(renderSamples(rest.samples));
      delete rest.samples;
    }

    const sv = rest.singular_values;
    const values = Array.isArray(sv) ? sv : isPlainObject(sv) && Array.isArray(sv.values) ? sv.values : null;
    if (values && values.length && values.every(finite)) {
      const meta = isPlainObject(sv) ? { ...sv } : {};
      delete meta.values;
      const rank = finite(run.params.rank) ? run.params.rank : 0;
      const figure = el("figure", "pg-sv");
      const energy = finite(meta.energy_top_r) ? ` The first ${rank} hold ${fmtNum(meta.energy_top_r * 100, 3)}% of the energy.` : "";
      const bars = new Bars(this, values, rank, `Bar chart of ${values.length} singular values, largest first.${energy}`);
      const caption = el("figcaption");
      const where = [meta.layer, meta.of ? `(${meta.of})` : ""].filter(Boolean).join(" ");
      caption.append(el("strong", "", "Singular values of the update ΔW"), document.createTextNode(where ? ` · ${where}` : ""));
      if (finite(meta.energy_top_r) && rank) {
        caption.append(document.createTextNode(` · top ${rank}: `), el("span", "pg-num", `${fmtNum(meta.energy_top_r * 100, 3)}% of the energy`));
      }
      figure.append(caption, bars.canvas);
      delete meta.layer;
      delete meta.of;
      delete meta.energy_top_r;
      if (Object.keys(meta).length) figure.append(renderValue(meta, "singular_values", 1));
      node.append(figure);
      this.bars = bars;
      requestAnimationFrame(() => bars.draw());
      delete rest.singular_values;
    }

    if (Object.keys(rest).length) node.append(renderValue(rest, "", 0));
  }

  // --- export, share ---

  exportCsv() {
    const run = this.current;
    if (!run || !run.points.length) return;
    const columns = ["step"];
    if (run.points.some((p) => p.series != null)) columns.push("series");
    for (const p of run.points) for (const key of Object.keys(p)) if (!columns.includes(key)) columns.push(key);
    const lines = [columns.join(",")];
    for (const p of run.points) lines.push(columns.map((c) => csvCell(p[c])).join(","));
    download(`${this.name}-${run.id}.csv`, `${lines.join("\n")}\n`, "text/csv");
  }

  exportJson() {
    const run = this.current;
    if (!run) return;
    download(`${this.name}-${run.id}.json`, `${JSON.stringify(run.events, null, 1)}\n`, "application/json");
  }

  async share() {
    let url;
    if (this.runId) url = `${location.origin}${location.pathname}`;
    else {
      const query = new URLSearchParams();
      query.set("demo", this.name);
      for (const field of this.fields) {
        const value = field.toParam();
        if (value !== undefined) query.set(field.name, value);
      }
      url = `${location.origin}${location.pathname}?${query}#${this.section.id || `playground-${this.name}`}`;
    }
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard");
      await navigator.clipboard.writeText(url);
      this.flash("Link copied");
    } catch {
      try {
        history.replaceState(history.state, "", url);
        this.flash("Link is in the address bar — copy it from there");
      } catch {
        this.flash("Could not copy the link", "danger");
      }
    }
  }
}

// --- generic rendering of facts and summaries ------------------------------------------------

function renderSamples(samples) {
  const wrap = el("div", "pg-samples");
  if (samples.prompt != null) {
    const prompt = el("p", "pg-sample-prompt");
    prompt.append(el("span", "", "Prompt "), el("code", "", String(samples.prompt)));
    wrap.append(prompt);
  }
  const grid = el("div", "pg-sample-grid");
  const box = (title, text, kind) => {
    const card = el("div", `pg-sample ${kind}`);
    card.append(el("p", "pg-sample-title", title), el("pre", "", text == null ? "—" : String(text)));
    grid.append(card);
  };
  const each = (label, value, kind) => {
    if (isPlainObject(value)) for (const [series, text] of Object.entries(value)) box(`${label} · ${series}`, text, kind);
    else if (value !== undefined) box(label, value, kind);
  };
  // before, after, and any variants such as before_nf4, in that order.
  const keys = Object.keys(samples).filter((k) => /^(before|after)/.test(k));
  keys.sort((a, b) => (a.startsWith("after") - b.startsWith("after")) || (a.length - b.length));
  for (const key of keys) {
    const label = humanize(key).replace(/^./, (c) => c.toUpperCase());
    each(label, samples[key], key.startsWith("after") ? "is-after" : "is-before");
  }
  wrap.append(grid);
  const rest = Object.fromEntries(Object.entries(samples).filter(([k]) => k !== "prompt" && !keys.includes(k)));
  if (Object.keys(rest).length) wrap.append(renderValue(rest, "samples", 1));
  return wrap;
}

function scalar(value) {
  return value == null || ["number", "string", "boolean"].includes(typeof value);
}

/** Any JSON value as readable DOM: numbers to 4 digits, objects as definition lists, ... */
function renderValue(value, key = "", depth = 0, compact = false) {
  if (value == null) return el("span", "pg-muted", "—");
  if (typeof value === "number") {
    let text = fmtNum(value);
    if (/bytes$/.test(key) && finite(value)) text = fmtBytes(value);
    else if (/fraction$/.test(key) && finite(value) && value <= 1) text = `${fmtNum(value * 100, 3)}%`;
    return el("span", "pg-num", text);
  }
  if (typeof value === "boolean") return el("span", "", value ? "yes" : "no");
  if (typeof value === "string") {
    if (value.includes("\n")) return el("pre", "pg-pre", value);
    return el("span", "", value);
  }
  if (depth > 5) return el("code", "", JSON.stringify(value));
  if (Array.isArray(value)) {
    if (!value.length) return el("span", "pg-muted", "none");
    if (value.every((v) => typeof v === "number")) {
      const shown = value.slice(0, 64).map((v) => fmtNum(v, 3)).join(", ");
      return el("span", "pg-num pg-numbers", value.length > 64 ? `${shown}, … (${value.length} values)` : shown);
    }
    if (value.every((v) => typeof v === "string")) {
      if (compact && value.join(", ").length < 80 && !value.some((v) => v.includes("\n"))) return el("span", "", value.join(", "));
      const list = el("ul", "pg-list");
      value.forEach((v) => {
        const li = el("li");
        li.append(renderValue(v, key, depth + 1));
        list.append(li);
      });
      return list;
    }
    if (value.every((v) => isPlainObject(v) && Object.values(v).every(scalar))) {
      const keys = [];
      value.forEach((v) => Object.keys(v).forEach((k) => { if (!keys.includes(k)) keys.push(k); }));
      if (keys.length <= 8) {
        const table = renderTable(value, keys);
        if (compact && value.length > 3) {
          const details = el("details", "pg-details");
          details.append(el("summary", "", `${value.length} ${humanize(key) || "items"}`), table);
          return details;
        }
        return table;
      }
    }
    const list = el("ol", "pg-list");
    value.forEach((v) => {
      const li = el("li");
      li.append(renderValue(v, key, depth + 1, compact));
      list.append(li);
    });
    return list;
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (!entries.length) return el("span", "pg-muted", "—");
    if (compact && entries.length <= 6 && entries.every(([, v]) => scalar(v))) {
      const line = el("span", "pg-inline");
      entries.forEach(([k, v]) => {
        const part = el("span", "pg-inline-item");
        part.append(el("span", "pg-inline-key", humanize(k)), renderValue(v, key || k, depth + 1));
        line.append(part);
      });
      return line;
    }
    const dl = el("dl", `pg-dl${depth ? " pg-dl-nested" : ""}`);
    for (const [k, v] of entries) {
      const row = el("div", "pg-dl-row");
      row.append(el("dt", "", humanize(k)));
      const dd = el("dd");
      dd.append(renderValue(v, k, depth + 1, compact));
      row.append(dd);
      dl.append(row);
    }
    return dl;
  }
  return el("span", "", String(value));
}

function renderTable(rows, keys) {
  const wrap = el("div", "pg-table-wrap");
  const table = el("table", "pg-table");
  const head = el("tr");
  keys.forEach((k) => head.append(el("th", "", humanize(k))));
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  rows.forEach((row) => {
    const tr = el("tr");
    keys.forEach((k) => {
      const td = el("td");
      td.append(renderValue(row[k], k, 3));
      if (typeof row[k] === "number") td.className = "is-num";
      tr.append(td);
    });
    tbody.append(tr);
  });
  table.append(thead, tbody);
  wrap.append(table);
  return wrap;
}

// --- start-up --------------------------------------------------------------------------------

const panels = [];

function init() {
  const query = new URLSearchParams(location.search);
  document.querySelectorAll("section.playground").forEach((section, index) => {
    if (section.dataset.pgReady) return;
    section.dataset.pgReady = "1";
    try {
      panels.push(new Panel(section, index, query));
    } catch (error) {
      const errors = section.querySelector(".pg-errors");
      if (errors) errors.append(el("li", "", `This playground could not start (${error.message}).`));
    }
  });
  const retheme = () => panels.forEach((p) => p.onTheme());
  new MutationObserver(retheme).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    if (!document.documentElement.dataset.theme) retheme();
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init, { once: true });
else init();
