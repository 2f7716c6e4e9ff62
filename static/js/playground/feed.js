// The feed: text a run streams (generated samples, completions) under the point keys its demo
// declares in `feeds`, newest first, each entry labelled with its step (and series, and the
// label when the value is an object of label -> text).

import { el } from "./dom.js";
import { humanize, isPlainObject } from "./format.js";

const MAX_ENTRIES = 60; // older entries fall off the end: the CSV export keeps them all

export class Feed {
  constructor(node, keys) {
    this.node = node;
    this.keys = keys;
    this.list = node ? node.querySelector(".pg-feed-list") : null;
  }

  add(points) {
    if (!this.list || !this.keys.length) return;
    for (const point of points) {
      for (const key of this.keys) {
        const value = point[key];
        if (typeof value === "string") this.entry(point, key, null, value);
        else if (isPlainObject(value)) {
          for (const [label, text] of Object.entries(value)) if (typeof text === "string") this.entry(point, key, label, text);
        }
      }
    }
    while (this.list.children.length > MAX_ENTRIES) this.list.lastElementChild.remove();
  }

  entry(point, key, label, text) {
    const item = el("li", "pg-feed-item");
    item.dataset.step = String(point.step);
    item.dataset.key = key;
    if (point.series != null) item.dataset.series = String(point.series);
    if (label != null) item.dataset.label = label;
    const meta = el("p", "pg-feed-meta");
    meta.append(el("span", "pg-feed-step", `step ${point.step}`));
    for (const part of [this.keys.length > 1 ? humanize(key) : null, point.series, label]) {
      if (part != null) meta.append(el("span", "pg-feed-tag", String(part)));
    }
    item.append(meta, el("pre", "", text));
    this.list.prepend(item);
    this.node.classList.add("has-entries");
  }

  clear() {
    if (!this.list) return;
    this.list.replaceChildren();
    this.node.classList.remove("has-entries");
  }
}
