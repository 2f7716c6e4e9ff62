// A panel's charts, one per chart spec of its demo (server-rendered figures), updated together.

import { Chart } from "./chart.js";

export class Charts {
  constructor(section, specs, scene) {
    this.scene = scene;
    this.list = (specs || [])
      .map((spec, i) => [spec, section.querySelector(`figure.pg-chart[data-chart="${i}"]`)])
      .filter(([, figure]) => figure)
      .map(([spec, figure]) => new Chart(scene, spec, figure));
  }

  /** Does any chart draw a 2-D path (which may have a surface behind it)? */
  get drawsPaths() {
    return this.list.some((c) => c.spec.x === "x");
  }

  update() {
    for (const chart of this.list) {
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
