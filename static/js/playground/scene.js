// What the charts draw from, besides their own spec: the panel's runs, the page theme, the loss
// surface of the demo (when it has one) and where the next run will start on it.

import { api } from "./api.js";
import { readTheme } from "./colors.js";
import { isPlainObject } from "./format.js";

export class Scene {
  /** controls: the form (for the surface picked and the start point); report(message). */
  constructor(section, { history, controls, permalink, report }) {
    this.section = section;
    this.history = history;
    this.controls = controls;
    this.permalink = permalink;
    this.report = report;
    this.extras = null;
    this.theme = readTheme(section);
  }

  /** The demo's extras: the surfaces a 2-D path is drawn on. */
  async loadExtras(name) {
    const result = await api(`/api/demos/${encodeURIComponent(name)}`);
    if (result.ok && isPlainObject(result.body) && isPlainObject(result.body.extras)) this.extras = result.body.extras;
  }

  retheme() {
    this.theme = readTheme(this.section);
  }

  /** The surface to draw: the stored run's on a permalink, else the form's choice. */
  surfaceName() {
    const run = this.history.latest();
    if (this.permalink && run && run.params.function) return run.params.function;
    const picked = this.controls.value("function");
    if (picked !== undefined) return String(picked);
    return run ? run.params.function : null;
  }

  surface() {
    const surfaces = this.extras && this.extras.surfaces;
    if (!isPlainObject(surfaces)) return null;
    const surface = surfaces[this.surfaceName()];
    if (!surface || !Array.isArray(surface.view) || surface.view.length !== 4 || !Array.isArray(surface.z)) return null;
    return surface;
  }

  /** Where a run would start (before one has drawn): the form's x0, y0. */
  startPoint() {
    return this.permalink ? null : { x: this.controls.value("x0"), y: this.controls.value("y0") };
  }
}
