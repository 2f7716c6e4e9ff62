// A chart's data as a table, for readers who cannot see the curves (or want the numbers): a
// closed <details> under the chart, filled when opened and kept current, at most once a second,
// while it stays open. A long run shows evenly spaced rows, always with the first and the last;
// Export CSV holds every point.

import { alignedData, xyData } from "./chart-data.js";
import { el } from "./dom.js";
import { fmtNum, humanize } from "./format.js";

export const MAX_ROWS = 200;
const REFRESH_MS = 1000;

/** Indexes of at most `max` rows out of `count`, evenly spaced, first and last included. */
export function thinRows(count, max = MAX_ROWS) {
  if (count <= max) return [...Array(count).keys()];
  const picked = new Set();
  for (let i = 0; i < max; i += 1) picked.add(Math.round((i * (count - 1)) / (max - 1)));
  return [...picked];
}

/** {head: [column names], rows: [[cells]]} of a chart's lines; `x`: its x key. */
export function tableData(lines, x) {
  if (x === "step") {
    const [steps, ...columns] = alignedData(lines);
    return {
      head: ["step", ...lines.map((l) => l.label)],
      rows: steps.map((step, i) => [step, ...columns.map((c) => c[i])]),
    };
  }
  const several = lines.length > 1;
  const rows = [];
  for (const { line, pts } of xyData(lines, x)) {
    for (const [px, py, point] of pts) rows.push([...(several ? [line.label] : []), point.step ?? null, px, py]);
  }
  const y = lines.length ? humanize(lines[0].key) : "y";
  return { head: [...(several ? ["line"] : []), "step", humanize(x), y], rows };
}

const cell = (value) => (value == null ? "–" : typeof value === "number" ? fmtNum(value) : String(value));

export class ChartTable {
  constructor(figure, title) {
    this.node = el("details", "pg-data");
    const summary = el("summary", "", "Data table");
    summary.setAttribute("aria-label", `Data table: ${title}`);
    this.body = el("div", "pg-data-body scroll-x");
    this.node.append(summary, this.body);
    figure.append(this.node);
    this.source = null;
    this.shownAt = 0;
    this.node.addEventListener("toggle", () => { if (this.node.open) this.render(); });
  }

  /** The chart's current lines and x key; re-rendered now if open and not just shown. */
  update(lines, x) {
    this.source = { lines, x };
    if (this.node.open && performance.now() - this.shownAt >= REFRESH_MS) this.render();
  }

  render() {
    this.shownAt = performance.now();
    const { lines, x } = this.source || { lines: [], x: "step" };
    const { head, rows } = tableData(lines, x);
    if (!rows.length) {
      this.body.replaceChildren(el("p", "pg-help", "No points yet: press Run to train."));
      return;
    }
    const keep = thinRows(rows.length);
    const table = el("table", "pg-table");
    const caption = keep.length < rows.length
      ? `${fmtNum(keep.length)} of ${fmtNum(rows.length)} rows, evenly spaced; Export CSV has every point.`
      : `${fmtNum(rows.length)} rows.`;
    table.append(el("caption", "", caption));
    const headRow = el("tr");
    for (const name of head) {
      const th = el("th", name === "line" ? "" : "is-num", name); // every column but the line's name holds numbers
      th.scope = "col";
      headRow.append(th);
    }
    const thead = el("thead");
    thead.append(headRow);
    const tbody = el("tbody");
    for (const i of keep) {
      const tr = el("tr");
      for (const value of rows[i]) tr.append(el("td", typeof value === "number" ? "is-num" : "", cell(value)));
      tbody.append(tr);
    }
    table.append(thead, tbody);
    this.body.replaceChildren(table);
  }
}
