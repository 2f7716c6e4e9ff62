// A panel's charts, one per chart spec of its demo (server-rendered figures), updated together,
// each with its PNG and SVG export (export.js).

import { Chart } from "./chart.js";
import { addFigureExport } from "./export.js";
import { applies } from "./state.js";

export class Charts {
  constructor(section, specs, scene) {
    this.scene = scene;
    this.list = (specs || [])
      .map((spec, i) => [spec, section.querySelector(`figure.pg-chart[data-chart="${i}"]`)])
      .filter(([, figure]) => figure)
      .map(([spec, figure]) => new Chart(scene, spec, figure));
    for (const chart of this.list) addFigureExport(chart);
  }

  /** Does any chart draw a 2-D path (which may have a surface behind it)? */
  get drawsPaths() {
    return this.list.some((c) => c.spec.x === "x");
  }

  /** The params that decide which charts mean something: the latest run's, else the form's. */
  params() {
    const run = this.scene.history.latest();
    return run && Object.keys(run.startParams).length ? run.startParams : this.scene.controls.values();
  }

  update() {
    const params = this.params();
    for (const chart of this.list) {
      chart.figure.hidden = !applies(chart.spec.only_when, params);
      if (chart.figure.hidden) continue;
      try {
        chart.update();
      } catch (error) {
        this.scene.report(`A chart could not be updated (${error.message}).`);
      }
    }
  }

  invalidate() {
    for (const chart of this.list) chart.invalidate();
  }
}
