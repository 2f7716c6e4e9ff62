// One training run as the page sees it (params, points, events, status), built by applying its
// events in order, and how a run is put into words: the status line and its label in the list
// of runs. No DOM.

import { finite, fmtDuration, fmtNum, fmtValue, isPlainObject } from "./format.js";

export const ACTIVE = new Set(["queued", "running", "paused"]);
const CONTROL_KEYS = new Set(["paused", "step_once"]);
// Live params that change how fast a run goes, not what its curve means: no marker on the charts.
const UNMARKED = new Set(["pace"]);

export class Run {
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
    this.seriesKeys = new Map(); // series -> every point key it has carried
    this.byStep = new Map();
    this.lastStep = null;
    this.device = null;
    this.facts = {};
    this.preparing = null; // the latest `prepare` message while an artifact is built for it
    this.end = null;
    this.startedAt = null;
    this.endedAt = null;
    this.rateWindow = [];
    this.reconnecting = false;
    this.controlToken = null; // from the POST answer: only the run's creator may change or cancel it
    this.attached = false; // followed from a replay of its events (a reload), not started here
  }

  /** Headers for PATCH and DELETE: the control token, when this page started the run. */
  get authorization() {
    return this.controlToken ? { Authorization: `Bearer ${this.controlToken}` } : {};
  }

  get total() {
    return finite(this.params.steps) ? this.params.steps : null;
  }

  get active() {
    return ACTIVE.has(this.status) && !this.end;
  }

  /** One event of the run's stream, in order. Returns the live param changes of a `control`
   * event (the rest return null). */
  apply(type, data, id = null, now = performance.now()) {
    this.events.push({ id, event: type, data });
    this.reconnecting = false;
    if (type === "start") {
      if (isPlainObject(data.params)) {
        this.params = { ...data.params };
        this.startParams = { ...data.params };
      }
      this.device = data.device || null;
      this.status = "running";
      this.startedAt = now;
      this.facts = Object.fromEntries(Object.entries(data).filter(([k]) => !["params", "device", "demo"].includes(k)));
    } else if (type === "metrics" && Array.isArray(data.points)) {
      if (this.status === "queued") this.status = "running";
      this.addPoints(data.points, now);
    } else if (type === "control") {
      const changes = isPlainObject(data.changes) ? data.changes : {};
      if ("paused" in changes && !this.end) this.setPaused(changes.paused);
      const params = Object.fromEntries(Object.entries(changes).filter(([k]) => !CONTROL_KEYS.has(k)));
      if (Object.keys(params).length && finite(data.step)) {
        const marked = Object.fromEntries(Object.entries(params).filter(([k]) => !UNMARKED.has(k)));
        if (Object.keys(marked).length) this.controls.push({ step: data.step, changes: marked });
        Object.assign(this.params, params);
        return params;
      }
    } else if (type === "prepare") {
      // A missing artifact (a base model) is being built once, before this run can start.
      this.preparing = typeof data.message === "string" ? data.message : "Preparing…";
    } else if (type === "end") {
      this.end = data;
      this.status = data.status || "done";
      this.endedAt = now;
    }
    return null;
  }

  /** Has any point of this series carried `key`? A chart names no line that never gets a value
   * (the layers a shallow network lacks, the tasks a run did not pick). */
  carries(key, series) {
    const keys = this.seriesKeys.get(series);
    return !!keys && keys.has(key);
  }

  setPaused(paused) {
    this.status = paused ? "paused" : "running";
    if (!paused) this.rateWindow = []; // the pause is not part of the speed
  }

  addPoints(points, now = performance.now()) {
    for (const point of points) {
      if (!isPlainObject(point)) continue;
      this.points.push(point);
      const series = point.series == null ? null : String(point.series);
      if (!this.seriesNames.includes(series)) this.seriesNames.push(series);
      if (!this.seriesKeys.has(series)) this.seriesKeys.set(series, new Set());
      for (const key of Object.keys(point)) this.seriesKeys.get(series).add(key);
      if (finite(point.step)) {
        if (!this.byStep.has(point.step)) this.byStep.set(point.step, point);
        if (this.lastStep == null || point.step > this.lastStep) this.lastStep = point.step;
      }
    }
    if (this.lastStep != null) {
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
}

/** A finished run's tag in the run list: its status, or what ended it where the status alone would
 * mislead (a run the server stopped as it shut down is no reader's cancel). */
export function endTag(end) {
  return end.reason === "server_stopped" ? "server restarted" : end.status;
}

/** The status line for a run: [text, tone]. `permalink`: the page shows a stored run. */
export function describeRun(run, permalink) {
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
        if (permalink || run.attached || run.startedAt == null) return [`Done${count}`, "ok"];
        return [`Done in ${fmtDuration((run.endedAt - run.startedAt) / 1000)}${count}`, "ok"];
      }
      case "diverged":
        return [`Diverged at step ${at ?? "?"}${message}`, "warn"];
      case "cancelled":
        // The server stopped it as it shut down (a restart): not the reader's cancel, so not "Cancelled".
        if (e.reason === "server_stopped") return [`Stopped at step ${at ?? "?"}: ${said}`, "warn"];
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
  if (run.status === "queued" && run.preparing) return [`${run.preparing}${again}`, ""];
  if (run.status === "queued") {
    // Position 1 has nobody ahead: it waits for a worker (one starting up, or one to free up).
    const ahead = run.queuePosition ? run.queuePosition - 1 : null;
    if (ahead === 0) return [`Waiting for a worker — yours is the next run${again}`, ""];
    return [ahead ? `Queued — ${fmtNum(ahead)} run${ahead === 1 ? "" : "s"} ahead${again}` : `Starting…${again}`, ""];
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

/** Params as a label reads them: a reader's own text as its size, never the text (kept with the
 * run it is in `text`; withheld, the server sends only its fingerprint, `text_withheld`), and
 * no other object (nothing reads well in a chip). */
function labelParams(params) {
  const { text, text_withheld: withheld, ...rest } = params;
  const chars = typeof text === "string" ? [...text].length : isPlainObject(withheld) ? withheld.chars : null;
  const shown = Object.fromEntries(Object.entries(rest).filter(([, v]) => !isPlainObject(v)));
  return chars == null ? shown : { ...shown, text: `own text (${fmtNum(chars)} chars)` };
}

/** The label of a run: its number, then the params where it differs from the reference run
 * (as they were when it started, with any live change shown as start→end). */
export function runLabel(run, reference, defaults) {
  const params = (r) => [labelParams(r.startParams), labelParams(r.params)];
  const [start, now] = params(run);
  const show = (key) => {
    const first = start[key];
    const last = now[key];
    if (key === "text" && first === undefined) return "built-in text";
    const text = typeof first === "string" ? first : `${key}=${fmtValue(first)}`;
    return JSON.stringify(first) === JSON.stringify(last) || last === undefined ? text : `${text}→${fmtValue(last)}`;
  };
  const keys = new Set([...Object.keys(start), ...Object.keys(now)]);
  keys.delete("pace");
  let parts = [];
  if (reference && reference !== run) {
    const [refStart, refNow] = params(reference);
    for (const key of new Set([...keys, ...Object.keys(refStart)].filter((k) => k !== "pace"))) {
      const same = JSON.stringify(start[key]) === JSON.stringify(refStart[key]) && JSON.stringify(now[key]) === JSON.stringify(refNow[key]);
      if (!same) parts.push(show(key));
    }
    if (!parts.length) return `#${run.num} same settings as #${reference.num}`;
  } else {
    // The current run: what differs from the form's defaults.
    defaults = defaults || {};
    const differs = (k) => [start[k], now[k]].some((v) => v !== undefined && JSON.stringify(v) !== JSON.stringify(defaults[k]));
    parts = [...keys].filter((k) => k in defaults && differs(k)).map(show);
    if (!parts.length) parts = ["lr", "optimizer", "function", "mode", "beta", "rank"].filter((k) => keys.has(k)).map(show);
  }
  const more = parts.length > 4 ? " …" : "";
  return `#${run.num}${parts.length ? ` ${parts.slice(0, 4).join(" ")}` : ""}${more}`;
}
