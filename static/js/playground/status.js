// The status line (what the run is doing, repainted at most 4 times a second while it trains,
// with short flashes such as "Link copied") and the panel's list of errors.

import { el } from "./dom.js";
import { describeRun } from "./run.js";

const FLASH_MS = 2500;
const REPAINT_MS = 250;

export class StatusLine {
  constructor(node) {
    this.node = node;
    this.text = node ? node.textContent : "";
    this.tone = "";
    this.flashUntil = 0;
    this.lastAt = 0;
  }

  set(text, tone = "") {
    this.text = text;
    this.tone = tone;
    if (performance.now() >= this.flashUntil) this.paint(text, tone);
  }

  paint(text, tone) {
    const node = this.node;
    if (!node) return;
    if (node.textContent !== text) node.textContent = text;
    if ((node.dataset.tone || "") !== tone) {
      if (tone) node.dataset.tone = tone;
      else delete node.dataset.tone;
    }
  }

  /** A short message over the status, which comes back afterwards. */
  flash(text, tone = "ok") {
    this.flashUntil = performance.now() + FLASH_MS;
    this.paint(text, tone);
    setTimeout(() => {
      if (performance.now() < this.flashUntil) return;
      this.flashUntil = 0;
      this.paint(this.text, this.tone);
    }, FLASH_MS + 100);
  }

  /** The run in words; `force` repaints now (else at most every 250 ms while it trains). */
  show(run, { permalink = false, force = false } = {}) {
    if (!run || (!run.active && !run.end)) return;
    const now = performance.now();
    if (!force && run.active && now - this.lastAt < REPAINT_MS) return;
    this.lastAt = now;
    if (run.lost && !run.end) {
      this.set("Lost the connection to this run. Reload the page to see it again.", "danger");
      return;
    }
    const [text, tone] = describeRun(run, permalink);
    this.set(text, tone);
  }
}

export class ErrorList {
  constructor(node) {
    this.node = node;
  }

  show(messages) {
    if (this.node) for (const message of messages) this.node.append(el("li", "", message));
  }

  clear() {
    if (this.node) this.node.replaceChildren();
  }
}
