// One playground panel per `section.playground`: the form, status line, current run plus up to
// five earlier ones as faded overlays, one Chart per chart spec, live changes, export and share.

import { api, detailText } from "./api.js";
import { Chart } from "./chart.js";
import { readTheme, rgba } from "./colors.js";
import { download, el } from "./dom.js";
import { Field } from "./field.js";
import { csvCell, finite, fmtValue, isPlainObject } from "./format.js";
import { ACTIVE, Run, describeRun, runLabel } from "./run.js";
import { renderExamples, renderFacts, renderSummary } from "./summary.js";

// `uPlot` is the global from /static/vendor/uPlot.iife.min.js, loaded before this module.

const MAX_OVERLAYS = 5;
const CONTROL_KEYS = new Set(["paused", "step_once"]);
const LIVE_THROTTLE_MS = 100;

export class Panel {
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
    this.examplesNode = el("div", "pg-examples");
    this.examplesNode.hidden = true;
    this.summaryNode?.before(this.examplesNode);
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
    const [text, tone] = describeRun(run, this.runId);
    this.setStatus(text, tone);
    if (force) this.paintStatus(this.statusText, this.statusTone);
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
    run.controlToken = body.control_token || null;
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
      renderFacts(this, run);
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
    if (run === this.current) renderExamples(this.examplesNode, data.points);
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
    renderSummary(this, isPlainObject(data.summary) ? data.summary : {}, run);
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
    return api(`/api/runs/${encodeURIComponent(run.id)}`, { method: "PATCH", json: changes, headers: run.authorization });
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
      if (run.active) api(`/api/runs/${encodeURIComponent(run.id)}`, { method: "DELETE", headers: run.authorization });
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
    this.examplesNode.replaceChildren();
    this.examplesNode.hidden = true;
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
      item.append(swatch, el("span", "pg-run-label", runLabel(run, reference, this.defaults)));
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
