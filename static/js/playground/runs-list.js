// The list of runs on the charts: the current one, the earlier overlays and a pinned reference,
// each with its line's swatch and what it changed, with buttons to take them off the charts.

import { rgba } from "./colors.js";
import { el } from "./dom.js";
import { endTag, runLabel } from "./run.js";

export class RunList {
  constructor(node) {
    this.node = node;
  }

  hasFocus() {
    return !!(this.node && this.node.contains(document.activeElement));
  }

  /** Focus the first remaining button; false when none is left. */
  refocus() {
    const next = this.node && this.node.querySelector("button");
    if (next) next.focus();
    return !!next;
  }

  render(history, theme, { defaults = {}, permalink = false } = {}) {
    const node = this.node;
    if (!node) return;
    const focused = this.hasFocus() ? document.activeElement : null;
    const refocus = focused ? `[data-action="${focused.dataset.action}"]${focused.dataset.run ? `[data-run="${focused.dataset.run}"]` : ""}` : null;
    node.replaceChildren();
    const runs = history.all();
    if (!runs.length || (permalink && runs.length === 1)) {
      node.hidden = true;
      return;
    }
    node.hidden = false;
    const reference = history.latest();
    for (const run of [...runs].reverse()) node.append(this.item(run, run === history.current, reference, theme, defaults));
    if (history.overlays.length) {
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

  item(run, isCurrent, reference, theme, defaults) {
    if (run.isReference) return this.referenceItem(run, theme);
    const item = el("li", `pg-run${isCurrent ? " is-current" : ""}`);
    const swatch = el("span", "pg-swatch");
    swatch.style.borderTopColor = isCurrent ? theme.accent : rgba(theme.rgb.accent, 0.55);
    swatch.style.borderTopStyle = isCurrent ? "solid" : "dashed";
    swatch.setAttribute("aria-hidden", "true");
    item.append(swatch, el("span", "pg-run-label", runLabel(run, reference, defaults)));
    if (isCurrent) {
      item.append(el("span", "pg-run-tag", run.end ? endTag(run.end) : "current"));
      return item;
    }
    if (run.end && run.end.status !== "done") item.append(el("span", "pg-run-tag", endTag(run.end)));
    const remove = el("button", "pg-run-remove", "×");
    remove.type = "button";
    remove.dataset.action = "remove-run";
    remove.dataset.run = String(run.num);
    remove.setAttribute("aria-label", `Remove run #${run.num} from the charts`);
    remove.title = "Remove from the charts";
    item.append(remove);
    return item;
  }

  referenceItem(run, theme) {
    const item = el("li", "pg-run is-reference");
    const swatch = el("span", "pg-swatch");
    swatch.style.borderTopColor = theme.fg;
    swatch.style.borderTopStyle = "dashed";
    swatch.setAttribute("aria-hidden", "true");
    const link = el("a", "pg-run-label", `reference: run ${run.id}`);
    link.href = `/runs/${encodeURIComponent(run.id)}`;
    item.append(swatch, link, el("span", "pg-run-tag", run.end ? endTag(run.end) : run.status));
    const remove = el("button", "pg-run-remove", "×");
    remove.type = "button";
    remove.dataset.action = "remove-reference";
    remove.setAttribute("aria-label", `Remove the reference run ${run.id} from the charts`);
    remove.title = "Remove from the charts";
    item.append(remove);
    return item;
  }
}
