// The panel's controls: the params form (one Field per schema property), its buttons and the
// export/share buttons, their enabled state for a run, and errors shown on the fields.

import { Field } from "./field.js";
import { plainIssues } from "./issues.js";
import { applies } from "./state.js";

export class Controls {
  constructor(section, specs) {
    this.section = section;
    this.form = section.querySelector(".pg-controls");
    const byName = new Map(specs.map((s) => [s.name, s]));
    const nodes = this.form ? [...this.form.querySelectorAll(".pg-field[data-name]")] : [];
    this.fields = nodes.map((node) => new Field(node, byName.get(node.dataset.name)));
    this.runLock = { active: false, starting: false }; // set by sync
    this.held = new Set(); // buttons whose request is in flight (see hold)
    this.buttons = {};
    section.querySelectorAll("[data-action]").forEach((b) => { this.buttons[b.dataset.action] = b; });
  }

  field(name) {
    return this.fields.find((f) => f.name === name) || null;
  }

  value(name) {
    const field = this.field(name);
    return field ? field.value() : undefined;
  }

  /** The params the form holds (fields without a value are left to the server's default). */
  values() {
    const params = {};
    for (const field of this.fields) {
      const value = field.value();
      if (value !== undefined) params[field.name] = value;
    }
    return params;
  }

  setValues(params) {
    for (const [name, value] of Object.entries(params)) {
      const field = this.field(name);
      if (field) field.setValue(value);
    }
  }

  /** onSubmit(); onEdit(field, final): `input` while a slider moves, `final` on `change` when
   * it is let go (selects and checkboxes fire both). */
  bind({ onSubmit, onEdit }) {
    if (!this.form) return;
    const edited = (event, final) => {
      const node = event.target.closest && event.target.closest(".pg-field[data-name]");
      const field = node ? this.fields.find((f) => f.node === node) : null;
      if (!field) return;
      field.onInput(event.target);
      if (final) this.syncChoices();
      onEdit(field, final);
    };
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      // A field locked by the run may still hold focus: Enter there asks for nothing.
      if (document.activeElement && document.activeElement.disabled) return;
      // Enter in a typed value commits it, also to a running run (where Run does nothing).
      if (this.form.contains(document.activeElement)) edited({ target: document.activeElement }, true);
      onSubmit();
    });
    this.form.addEventListener("input", (event) => edited(event, false));
    this.form.addEventListener("change", (event) => edited(event, true));
  }

  /** Enabled state and wording for the current run (or none). Run is never `disabled` while a
   * run trains, only marked so: a disabled button drops keyboard focus onto the next one, and
   * Enter pressed again must land on something harmless, not on Stop. */
  sync(run, { starting = false } = {}) {
    const active = !!(run && run.active);
    const busy = active || starting;
    const had = document.activeElement;
    this.runLock = { active, starting };
    this.syncChoices();
    const b = this.buttons;
    const status = run ? run.status : null;
    if (b.run) {
      b.run.setAttribute("aria-disabled", String(busy));
      b.run.classList.toggle("is-busy", busy);
      b.run.textContent = starting ? "Starting…" : !active ? (run && run.end ? "Run again" : "Run")
        : status === "paused" ? "Paused" : status === "queued" ? "Queued…" : "Running…";
    }
    const paused = status === "paused" && active;
    if (!active) this.held.clear();
    for (const name of ["pause", "stop"]) if (b[name]) b[name].setAttribute("aria-disabled", String(this.held.has(name)));
    if (b.pause) {
      b.pause.disabled = !active || status === "queued";
      b.pause.textContent = paused ? "Resume" : "Pause";
      b.pause.classList.toggle("is-paused", paused);
    }
    if (b.step) b.step.disabled = !paused;
    if (b.stop) b.stop.disabled = !active;
    if (b.defaults) b.defaults.disabled = busy;
    if (b.clear) b.clear.disabled = busy || !run;
    const finished = !!(run && run.end);
    if (b.csv) b.csv.disabled = !finished || !run.points.length;
    if (b.json) b.json.disabled = !finished;
    this.section.classList.toggle("is-running", active);
    // Keep focus somewhere useful when the focused button was just disabled.
    if (had && had !== document.body && this.section.contains(had) && had.disabled) {
      const next = [b.pause, b.run].find((x) => x && !x.disabled);
      if (next) next.focus();
    }
  }

  /** Mark a button as asked (its request in flight) without disabling it: a disabled button
   * would drop keyboard focus to the page, and Space would then scroll it. Clicks on it are
   * ignored until `release` (dom.js onActions skips aria-disabled buttons). */
  hold(name) {
    this.held.add(name);
    this.buttons[name]?.setAttribute("aria-disabled", "true");
  }

  release(name) {
    this.held.delete(name);
    this.buttons[name]?.setAttribute("aria-disabled", "false");
  }

  /** A run that trains locks all but its live fields; one that is starting locks them all. */
  locked(field) {
    return (this.runLock.active && !field.live) || this.runLock.starting;
  }

  /** Fields that mean nothing under the current choices (momentum with plain SGD) are off. */
  syncChoices() {
    const values = this.values();
    for (const field of this.fields) {
      const inapplicable = !!field.spec && !applies(field.spec.onlyWhen, values);
      field.setDisabled(this.locked(field) || inapplicable);
      field.node.classList.toggle("is-inapplicable", inapplicable);
    }
  }

  /** Every field back to the schema's default. */
  restore(defaults) {
    this.setValues(defaults);
    this.clearIssues();
  }

  /** Issues as the server's 422 lists them ([{field, message}]), in plain words, onto the
   * fields they are about; returns every message, for the panel's list at the top. */
  showIssues(issues) {
    const specs = this.fields.map((f) => f.spec).filter(Boolean);
    return plainIssues(specs, issues, this.values()).map(({ fields, message }) => {
      for (const name of fields) this.field(name)?.showError(message);
      return message;
    });
  }

  clearIssues(names) {
    for (const field of this.fields) if (!names || names.includes(field.name)) field.clearError();
  }

  focusFirstIssue() {
    const first = this.fields.find((f) => f.node.classList.contains("has-error"));
    if (first && first.input && !first.input.disabled) first.input.focus();
  }

  /** Focus after the focused control went away: Run, else Share. */
  focusFallback() {
    const b = this.buttons;
    const target = [b.run, b.share].find((x) => x && !x.disabled && x.offsetParent);
    if (target) target.focus();
  }
}
