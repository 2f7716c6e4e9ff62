// On a narrow panel (one column: the controls above the charts) a live slider can sit more than
// a screen above the curve it steers, so "drag the learning rate and watch" cannot be done. While
// a run trains there, and the charts are on screen but a live field's own place is not, the live
// fields move into a dock pinned to the bottom of the screen. The dock is inside the form, so the
// form still hears them (and Enter still commits a typed value); a spacer of the same height
// keeps each field's place, so nothing below it jumps. They go back when the run ends or their
// places scroll into view. The run's buttons (Pause, Step, Stop) come along.

import { el } from "./dom.js";

const ONE_COLUMN_PX = 680; // playground.css: @container pg (max-width: 680px)

export class LiveDock {
  constructor(section, fields) {
    this.section = section;
    this.form = section.querySelector(".pg-controls");
    this.output = section.querySelector(".pg-output");
    this.fields = fields.filter((f) => f.live);
    this.buttons = section.querySelector(".pg-buttons");
    this.spacers = new Map(); // a docked node (a field's, or the buttons) -> the spacer in its place
    this.seen = new Map(); // element -> is it on screen
    this.active = false;
    this.node = el("div", "pg-dock");
    this.node.hidden = true;
    this.node.setAttribute("role", "group");
    this.node.setAttribute("aria-label", "Live controls, kept beside the charts");
    if (!this.form || !this.output || !this.fields.length || typeof IntersectionObserver === "undefined") return;
    this.form.append(this.node);
    this.observer = new IntersectionObserver((entries) => {
      for (const entry of entries) this.seen.set(entry.target, entry.isIntersecting);
      this.update();
    });
    this.observer.observe(this.output);
    this.watched = new Set(this.fields.map((f) => f.node)); // the live fields' places
    for (const node of this.watched) this.observer.observe(node);
    addEventListener("resize", () => this.update());
  }

  get docked() {
    return this.spacers.size > 0;
  }

  /** Called with each refresh of the panel: is a run training? */
  sync(active) {
    this.active = active;
    this.update();
  }

  update() {
    if (!this.observer) return;
    const places = this.fields.map((f) => this.spacers.get(f.node) || f.node);
    const want = this.active && this.section.clientWidth <= ONE_COLUMN_PX && this.seen.get(this.output)
      && !places.some((place) => this.seen.get(place));
    if (want && !this.docked) this.dock();
    else if (!want && this.docked) this.undock();
  }

  dock() {
    const focused = document.activeElement;
    const nodes = [...this.fields.map((f) => f.node), ...(this.buttons ? [this.buttons] : [])];
    for (const node of nodes) {
      const spacer = el("div", "pg-dock-spacer");
      spacer.style.height = `${node.offsetHeight}px`;
      node.replaceWith(spacer);
      this.node.append(node);
      this.spacers.set(node, spacer);
      this.swapWatch(node, spacer);
    }
    this.node.hidden = false;
    this.section.classList.add("has-dock");
    this.section.style.setProperty("--pg-dock-height", `${this.node.offsetHeight}px`);
    if (focused && this.node.contains(focused)) focused.focus({ preventScroll: true });
  }

  undock() {
    const focused = document.activeElement;
    for (const [node, spacer] of this.spacers) {
      spacer.replaceWith(node);
      this.swapWatch(spacer, node);
    }
    this.spacers.clear();
    this.node.hidden = true;
    this.section.classList.remove("has-dock");
    if (focused && this.form.contains(focused)) focused.focus({ preventScroll: true });
  }

  /** Watch the element now holding a field's place instead of the one that left it. */
  swapWatch(gone, now) {
    if (!this.watched.has(gone)) return; // the buttons' place is not watched
    this.observer.unobserve(gone);
    this.watched.delete(gone);
    this.seen.set(now, this.seen.get(gone)); // same place, same size: seen alike until told
    this.seen.delete(gone);
    this.watched.add(now);
    this.observer.observe(now);
  }
}
