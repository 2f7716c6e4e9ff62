// A small canvas bar chart (the singular values of a LoRA update), redrawn on resize, with its
// PNG and SVG export (export.js).

import { rgba } from "./colors.js";
import { el } from "./dom.js";
import { addBarsExport } from "./export.js";
import { finite } from "./format.js";

export class Bars {
  constructor(theme, values, highlight, label) {
    this.theme = theme; // () -> the page theme, read when drawing
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
    // Drawn once it is in its figure (summary.js builds the figure around the canvas): then the
    // figure gets its PNG and SVG buttons.
    if (!this.exported && canvas.parentElement) {
      this.exported = true;
      addBarsExport(canvas.parentElement, this);
    }
    const pr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * pr);
    canvas.height = Math.round(height * pr);
    const ctx = canvas.getContext("2d");
    const theme = this.theme();
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
