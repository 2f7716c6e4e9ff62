// One playground panel per `section.playground`: wires the state (schema, share link), the run
// session (the server) and the views (controls, status, charts, runs, run views) together.
// Rules live in those modules; this one only connects them.

import { describeFailure } from "./api.js";
import { Charts } from "./charts.js";
import { onActions } from "./dom.js";
import { Controls } from "./controls.js";
import { EmbedCode } from "./embed-code.js";
import { RunHistory } from "./history.js";
import { LiveDock } from "./live-dock.js";
import { RunList } from "./runs-list.js";
import { RunViews } from "./run-views.js";
import { Presenter } from "./presenter.js";
import { REF_PARAM, ReferenceRun } from "./reference.js";
import { Scene } from "./scene.js";
import { RunMemory, frameIndex, instanceKey } from "./resume.js";
import { RunSession } from "./session.js";
import { addresses, defaults, fieldSpecs, fromQuery, suggestion, toQuery, validate } from "./state.js";
import { ErrorList, StatusLine } from "./status.js";
import { copyLink, exportCsv, exportJson, shareUrl } from "./tools.js";

export class Panel {
  /** `sitePage`: set on an embed page, the glossary page its share links lead to. */
  constructor(section, index, query, { sitePage = null } = {}) {
    const config = JSON.parse(section.dataset.playground || "{}") || {};
    this.section = section;
    this.name = config.name || section.id.replace(/^playground-/, "");
    this.runId = config.runId || null;
    this.specs = fieldSpecs(config.schema, config.live || []);
    this.defaults = defaults(this.specs);
    this.controls = new Controls(section, this.specs);
    this.dock = new LiveDock(section, this.controls.fields);
    this.status = new StatusLine(section.querySelector(".pg-status"));
    this.errors = new ErrorList(section.querySelector(".pg-errors"));
    this.history = new RunHistory();
    this.runList = new RunList(section.querySelector(".pg-runs"));
    this.views = new RunViews(section, config.feeds || [], { labels: config.labels || {}, notes: config.summaryNotes || {} });
    this.scene = new Scene(section, { history: this.history, controls: this.controls, permalink: !!this.runId, report: (m) => this.errors.show([m]) });
    this.charts = new Charts(section, config.charts, this.scene);
    this.embedCode = new EmbedCode(section);
    this.reference = new ReferenceRun(this);
    this.session = null;
    this.sitePage = sitePage;
    this.memory = new RunMemory(instanceKey(location, section.id, frameIndex(window)));
    this.starting = false;
    this.frame = 0;
    if (this.runId) section.classList.add("is-permalink");
    if (typeof uPlot === "undefined") this.errors.show(["The chart library did not load, so curves cannot be drawn."]);
    if (query && !this.runId && addresses(query, this.name, index)) this.applyLink(fromQuery(this.specs, query));
    this.controls.bind({ onSubmit: () => this.start(), onEdit: (field, final) => this.edited(field, final) });
    onActions(section, {
      pause: () => {
        this.controls.hold("pause"); // until the answer: a double click is one pause
        this.session.pause(this.run.status !== "paused").then((r) => this.answered(r, "pause"));
      },
      step: () => this.session.step().then((r) => this.answered(r)),
      stop: () => {
        this.controls.hold("stop"); // until the end event: one press, one DELETE
        this.session.stop().then((r) => this.answered(r, r && r.ok ? null : "stop"));
      },
      clear: () => this.clear(),
      defaults: () => { this.controls.restore(this.defaults); this.schedule(); },
      csv: () => exportCsv(this.name, this.run),
      json: () => exportJson(this.name, this.run),
      share: () => this.share(),
      embed: (button) => this.embedCode.toggle(button, this.embedState()),
      "copy-embed": async () => this.status.flash(...(await this.embedCode.copy())),
      "remove-run": (button) => this.removeOverlay(Number(button.dataset.run)),
      "clear-runs": () => this.removeOverlay(null),
      "remove-reference": () => this.reference.set(null).then(() => this.controls.focusFallback()),
      present: () => this.presenter.toggle(),
    });
    section.addEventListener("pg:preset", (event) => this.loadPreset(event.detail));
    // A class board (or any page script) pins a reference run: see reference.js.
    section.addEventListener("pg:reference", (event) => this.reference.set(event.detail ? event.detail.runId : null));
    const ref = query ? new URLSearchParams(query).get(REF_PARAM) : null;
    if (ref && addresses(query, this.name, index)) this.reference.set(ref, { keepUrl: true });
    this.presenter = new Presenter(this, query, !query || addresses(query, this.name, index));
    // Without storage (an embed's frame where the browser blocks third-party storage) no reload
    // can reattach to the run: leaving the page stops it. A page kept for Back keeps it.
    addEventListener("pagehide", (event) => {
      if (!event.persisted && !this.memory.persistent && this.session) this.session.abandon();
    });
    if (this.charts.drawsPaths) this.scene.loadExtras(this.name).then(() => this.schedule());
    this.render();
    if (this.runId) this.follow(RunSession.attach(this.runId, this.history.nextNum));
    // Settles once this instance knows its run (or that it has none): embed.js autoplays then.
    this.ready = this.runId ? Promise.resolve() : this.memory.claim().then(() => this.resume());
  }

  /** After a reload or Back: follow the run this instance started, with its control token.
   * Tells the page (`pg:ready`, `data-pg-resumed`) whether there was one. */
  resume() {
    const kept = this.memory.recall();
    if (kept) this.follow(RunSession.attach(kept.id, kept.num, { token: kept.token }), { resumed: true });
    else this.controls.sync(null);
    this.section.dataset.pgResumed = kept ? "1" : "0";
    this.section.dispatchEvent(new CustomEvent("pg:ready", { detail: { resumed: !!kept } }));
  }

  /** A share link's params into the form; what it held that the bounds reject is said, not hidden.
   * In an embed they are its defaults too: "Restore defaults" goes back to the teacher's values. */
  applyLink({ params, rejected }) {
    this.controls.setValues(params);
    if (this.sitePage) this.defaults = { ...this.defaults, ...params };
    this.errors.show(rejected.map((r) => `The link's ${r.field}=${r.text} was not used (the default stays): ${r.message}`));
  }

  get run() {
    return this.session ? this.session.run : null;
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  render() {
    this.charts.update();
    if (this.run) this.status.show(this.run, { permalink: !!this.runId });
  }

  refresh() {
    this.runList.render(this.history, this.scene.theme, { defaults: this.defaults, permalink: !!this.runId });
    // The dock first: a button that ends the run goes back to its place before focus moves on.
    this.dock.sync(!!(this.run && this.run.active));
    this.controls.sync(this.run, { starting: this.starting });
    if (this.run) this.status.show(this.run, { permalink: !!this.runId, force: true });
    this.schedule();
  }

  onTheme() {
    this.scene.retheme();
    this.charts.invalidate();
    this.views.retheme();
    this.render();
  }

  /** A field moved; a live one reaches the run when let go (`final`): one drag, one change. */
  edited(field, final) {
    const run = this.run;
    const suggested = final && !(run && run.active) ? suggestion(this.specs, field.spec, this.controls.values()) : null;
    if (suggested) {
      this.controls.setValues(suggested.changes);
      this.status.flash(suggested.text, "ok");
    }
    this.schedule(); // the surface picked, or the start point, may have moved
    if (!final || !field.live || !run || !run.active) return;
    const problem = field.problem();
    if (problem) field.showError(problem);
    else if (field.value() !== undefined) this.session.change({ [field.name]: field.value() });
  }

  /** Is a run still followed, whatever its status says? Then Run (or Enter) starts nothing:
   * a second run would orphan the first, training on unwatched. */
  get following() {
    return !!(this.session && !this.session.closed);
  }

  async start() {
    await this.ready; // a run kept from before the reload is followed, not doubled
    if (this.starting || this.following || this.runId) return;
    this.errors.clear();
    this.controls.clearIssues();
    const params = this.controls.values();
    const issues = validate(this.specs, params); // the server's bounds, checked before asking it
    let failure = { status: 422, body: { detail: issues } };
    if (!issues.length) {
      this.starting = true;
      this.controls.sync(this.run, { starting: true });
      this.status.set("Starting…");
      const started = await RunSession.start(this.name, params, this.history.nextNum);
      this.starting = false;
      if (started.session) return this.follow(started.session);
      failure = started.failure;
    }
    const { status, errors, issues: fields } = describeFailure(failure);
    this.status.set(...status);
    this.errors.show([...this.controls.showIssues(fields), ...errors]);
    this.controls.focusFirstIssue();
    this.controls.sync(this.run);
  }

  /** Show this session's run as the current one, its views following its events. A `resumed`
   * run (see resume) puts its params, and its live changes, back into the form. */
  follow(session, { resumed = false } = {}) {
    if (this.session) this.session.close();
    this.session = session;
    if (!this.runId) this.memory.remember(session.run);
    const restore = (params) => { if (resumed) this.controls.setValues(params); };
    this.history.begin(session.run);
    this.views.clear();
    // A closed session emits nothing more, so an earlier run's events cannot reach these views.
    session
      .on("start", () => { restore(session.run.params); this.views.started(session.run); this.refresh(); })
      .on("metrics", ({ data }) => { this.views.points(data.points || []); this.schedule(); })
      .on("control", ({ data, changes }) => { if (changes) { restore(changes); this.views.changed(data.step, changes); } this.refresh(); })
      .on("end", () => { this.views.ended(session.run, () => this.scene.theme); this.refresh(); })
      .on("live", ({ changes, result }) => {
        if (result.status === 422) this.errors.show(this.controls.showIssues(result.body && result.body.detail));
        else if (result.ok) this.controls.clearIssues(Object.keys(changes));
      }); // 409: the run has finished; its end event says how
    // A kept run the server no longer knows: forget it, so the next reload starts clean.
    session.on("connection", ({ state }) => { if (resumed && state === "lost" && !session.run.events.length) this.memory.forget(); });
    for (const type of ["connection", "queue", "status"]) session.on(type, () => this.refresh());
    this.refresh();
  }

  /** The answer to pause, step or stop: anything but success (or "already finished") is shown;
   * `release` names the button held while it was asked. */
  answered(result, release = null) {
    if (release) this.controls.release(release);
    if (result && !result.ok && result.status !== 409) this.errors.show(describeFailure(result).errors);
    this.refresh();
  }

  /** The current run off the charts; a finished curve goes only when the reader confirms. */
  clear() {
    const run = this.run;
    const keep = `Clear run #${run ? run.num : ""} from the charts? Its permalink keeps it on the server.`;
    if (run && run.end && run.points.length && !window.confirm(keep)) return;
    this.detach();
    this.errors.clear();
    this.controls.clearIssues();
    this.status.set("Ready. Press Run to train on the server.");
    this.refresh();
  }

  /** Cancel the current run (if still active), stop following it and take it off the charts. */
  detach() {
    if (this.session) this.session.cancel();
    this.session = null;
    this.memory.forget();
    this.history.dropCurrent();
    this.views.clear();
  }

  /** An exercise's preset: every other field back to its default, then a fresh run of it. */
  loadPreset(preset) {
    if (this.runId) return;
    const issues = validate(this.specs, preset);
    if (issues.length) return this.errors.show(issues.map((issue) => issue.message));
    if (this.following) this.detach(); // the run it replaces is cancelled
    this.controls.setValues({ ...this.defaults, ...preset });
    this.section.scrollIntoView({ block: "start" });
    this.start();
  }

  /** One earlier run off the charts, or all of them (num = null). */
  removeOverlay(num) {
    const hadFocus = this.runList.hasFocus();
    if (num == null) this.history.clearOverlays();
    else if (!this.history.remove(num)) return;
    this.refresh();
    if (num == null || (hadFocus && !this.runList.refocus())) this.controls.focusFallback();
  }

  embedState() {
    const query = this.runId ? "" : toQuery(this.specs, this.controls.values(), this.name);
    const heading = this.section.querySelector(".pg-head h2").cloneNode(true);
    heading.querySelector(".pg-kicker")?.remove(); // "Playground", a label, not the title
    const title = heading.textContent.trim();
    return { name: this.name, query, runId: this.runId, title };
  }

  async share() {
    const values = this.controls.values();
    const query = this.runId ? null : toQuery(this.specs, values, this.name);
    const [text, tone] = await copyLink(shareUrl(query, this.section.id, this.sitePage), this.section.querySelector(".pg-share"));
    const left = !this.runId && this.specs.some((s) => s.private && values[s.name] !== undefined);
    this.status.flash(left ? `${text} (without your own text: a link cannot carry it)` : text, tone);
  }
}
