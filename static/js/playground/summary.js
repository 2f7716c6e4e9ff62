// A run's facts and end-of-run summary as DOM: a suggested LR, text samples, singular values,
// and any other JSON value as definition lists, lists and tables (all text via textContent).

import { Bars } from "./bars.js";
import { el } from "./dom.js";
import { finite, fmtBytes, fmtNum, fmtParam, humanize, isPlainObject } from "./format.js";

/** A key as a label: the demo's own label for it if it declares one, else the key in words (a
 * count says what it counts: "n_params" reads "params", beside its number). */
function keyLabel(key, words = {}) {
  const labels = words.labels || {};
  if (Object.hasOwn(labels, key)) return labels[key];
  return humanize(String(key).replace(/^n_(?=[a-z])/, ""));
}

/** The facts from a run's start event (and its device) into the panel's facts list. `words`: the
 * demo's labels for keys ({labels}, see renderSummary). */
export function renderFacts(node, run, words = {}) {
  if (!node) return;
  node.replaceChildren();
  const add = (key, value) => {
    const long = (typeof value === "string" && value.length > 36)
      || (Array.isArray(value) && value.some((v) => !scalar(v)))
      || (Array.isArray(value) && value.join(", ").length > 36)
      || (isPlainObject(value) && (Object.keys(value).length > 3 || !Object.values(value).every(scalar)));
    const wrap = el("div", `pg-fact${long ? " is-wide" : ""}`);
    wrap.append(el("dt", "", keyLabel(key, words)));
    const dd = el("dd");
    dd.append(renderValue(value, key, 1, true, words));
    wrap.append(dd);
    node.append(wrap);
  };
  if (run.device) add("device", run.device);
  for (const [key, value] of Object.entries(run.facts)) add(key, value);
}

/** The summary from a run's end event into the panel's summary box. Returns the bar chart it
 * drew (singular values), which redraws on a new theme, or null. `theme()`: the current theme.
 * `words`: the demo's {labels} for keys and {notes}, what a figure is by its key (its summary_notes),
 * printed beside it. */
export function renderSummary(node, summary, run, theme, words = {}) {
  if (!node) return null;
  node.replaceChildren();
  let bars = null;
  const rest = { ...summary };
  if (!Object.keys(rest).length) return null;
  node.append(el("h3", "pg-summary-title", "Summary"));

  if (finite(rest.suggested_lr)) {
    const box = el("div", "pg-callout");
    const head = el("p", "pg-callout-head");
    head.append(el("span", "", "Suggested learning rate "), el("strong", "pg-num", fmtParam(rest.suggested_lr)));
    box.append(head);
    if (rest.suggestion_method != null) box.append(el("p", "pg-callout-body", String(rest.suggestion_method)));
    node.append(box);
    delete rest.suggested_lr;
    delete rest.suggestion_method;
  }

  if (isPlainObject(rest.samples)) {
    node.append(renderSamples(rest.samples));
    delete rest.samples;
  }

  const sv = rest.singular_values;
  const values = Array.isArray(sv) ? sv : isPlainObject(sv) && Array.isArray(sv.values) ? sv.values : null;
  if (values && values.length && values.every(finite)) {
    const meta = isPlainObject(sv) ? { ...sv } : {};
    delete meta.values;
    const rank = finite(run.params.rank) ? run.params.rank : 0;
    const figure = el("figure", "pg-sv");
    const energy = finite(meta.energy_top_r) ? ` The first ${rank} hold ${fmtNum(meta.energy_top_r * 100, 3)}% of the energy.` : "";
    bars = new Bars(theme, values, rank, `Bar chart of ${values.length} singular values, largest first.${energy}`);
    const caption = el("figcaption");
    const where = [meta.layer, meta.of ? `(${meta.of})` : ""].filter(Boolean).join(" ");
    caption.append(el("strong", "", "Singular values of the update ΔW"), document.createTextNode(where ? ` · ${where}` : ""));
    if (finite(meta.energy_top_r) && rank) {
      caption.append(document.createTextNode(` · top ${rank}: `), el("span", "pg-num", `${fmtNum(meta.energy_top_r * 100, 3)}% of the energy`));
    }
    figure.append(caption, bars.canvas);
    delete meta.layer;
    delete meta.of;
    delete meta.energy_top_r;
    if (Object.keys(meta).length) figure.append(renderValue(meta, "singular_values", 1));
    node.append(figure);
    requestAnimationFrame(() => bars.draw());
    delete rest.singular_values;
  }

  if (Object.keys(rest).length) node.append(renderValue(rest, "", 0, false, words));
  return bars;
}

function renderSamples(samples) {
  const wrap = el("div", "pg-samples");
  if (samples.prompt != null) {
    const prompt = el("p", "pg-sample-prompt");
    prompt.append(el("span", "", "Prompt "), el("code", "", String(samples.prompt)));
    wrap.append(prompt);
  }
  const grid = el("div", "pg-sample-grid");
  const box = (title, text, kind) => {
    const card = el("div", `pg-sample ${kind}`);
    card.append(el("p", "pg-sample-title", title), el("pre", "", text == null ? "—" : String(text)));
    grid.append(card);
  };
  const each = (label, value, kind) => {
    if (isPlainObject(value)) for (const [series, text] of Object.entries(value)) box(`${label} · ${series}`, text, kind);
    else if (value !== undefined) box(label, value, kind);
  };
  // before, after, and any variants such as before_nf4, in that order.
  const keys = Object.keys(samples).filter((k) => /^(before|after)/.test(k));
  keys.sort((a, b) => (a.startsWith("after") - b.startsWith("after")) || (a.length - b.length));
  for (const key of keys) {
    const label = humanize(key).replace(/^./, (c) => c.toUpperCase());
    each(label, samples[key], key.startsWith("after") ? "is-after" : "is-before");
  }
  wrap.append(grid);
  const rest = Object.fromEntries(Object.entries(samples).filter(([k]) => k !== "prompt" && !keys.includes(k)));
  if (Object.keys(rest).length) wrap.append(renderValue(rest, "samples", 1));
  return wrap;
}

function scalar(value) {
  return value == null || ["number", "string", "boolean"].includes(typeof value);
}

/** Rows of an object of equally long columns of scalars (at least 2 columns and 9 rows), or null. */
function columnRows(value) {
  const columns = Object.values(value);
  const length = Array.isArray(columns[0]) ? columns[0].length : 0;
  const fits = columns.length >= 2 && length > 8 && columns.every((c) => Array.isArray(c) && c.length === length && c.every(scalar));
  if (!fits) return null;
  const keys = Object.keys(value);
  return columns[0].map((_, i) => Object.fromEntries(keys.map((k) => [k, value[k][i]])));
}

/** Any JSON value as readable DOM: numbers to 4 digits, objects as definition lists, ...
 * `words`: {labels, notes} by key, at any depth (see renderSummary). */
function renderValue(value, key = "", depth = 0, compact = false, words = {}) {
  if (value == null) return el("span", "pg-muted", "—");
  if (typeof value === "number") {
    let text = fmtNum(value);
    if (/bytes$/.test(key) && finite(value)) text = fmtBytes(value);
    else if (/fraction$/.test(key) && finite(value) && value <= 1) text = `${fmtNum(value * 100, 3)}%`;
    return el("span", "pg-num", text);
  }
  if (typeof value === "boolean") return el("span", "", value ? "yes" : "no");
  if (typeof value === "string") {
    if (value.includes("\n")) return el("pre", "pg-pre", value);
    return el("span", "", value);
  }
  if (depth > 5) return el("code", "", JSON.stringify(value));
  if (Array.isArray(value)) {
    if (!value.length) return el("span", "pg-muted", "none");
    if (value.every((v) => typeof v === "number")) {
      const shown = value.slice(0, 64).map((v) => fmtNum(v, 3)).join(", ");
      return el("span", "pg-num pg-numbers", value.length > 64 ? `${shown}, … (${value.length} values)` : shown);
    }
    if (value.every((v) => typeof v === "string")) {
      if (compact && value.join(", ").length < 80 && !value.some((v) => v.includes("\n"))) return el("span", "", value.join(", "));
      const list = el("ul", "pg-list");
      value.forEach((v) => {
        const li = el("li");
        li.append(renderValue(v, key, depth + 1, false, words));
        list.append(li);
      });
      return list;
    }
    if (value.every((v) => isPlainObject(v) && Object.values(v).every(scalar))) {
      const keys = [];
      value.forEach((v) => Object.keys(v).forEach((k) => { if (!keys.includes(k)) keys.push(k); }));
      if (keys.length <= 8) {
        const table = renderTable(value, keys, words);
        if ((compact && value.length > 3) || value.length > 12) { // a long table folds away
          const details = el("details", "pg-details");
          details.append(el("summary", "", `${value.length} ${humanize(key) || "items"}`), table);
          return details;
        }
        return table;
      }
    }
    const list = el("ol", "pg-list");
    value.forEach((v) => {
      const li = el("li");
      li.append(renderValue(v, key, depth + 1, compact, words));
      list.append(li);
    });
    return list;
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (!entries.length) return el("span", "pg-muted", "—");
    const rows = columnRows(value);
    if (rows) {
      // A data set sent as columns (x, y, outlier): a table, folded away, not lists of numbers.
      const details = el("details", "pg-details");
      details.append(el("summary", "", `${rows.length} rows: ${Object.keys(value).map(humanize).join(", ")}`), renderTable(rows, Object.keys(value), words));
      return details;
    }
    if (compact && entries.length <= 6 && entries.every(([, v]) => scalar(v))) {
      const line = el("span", "pg-inline");
      entries.forEach(([k, v]) => {
        const part = el("span", "pg-inline-item");
        part.append(el("span", "pg-inline-key", keyLabel(k, words)), renderValue(v, key || k, depth + 1, false, words));
        line.append(part);
      });
      return line;
    }
    const dl = el("dl", `pg-dl${depth ? " pg-dl-nested" : ""}`);
    for (const [k, v] of entries) {
      const row = el("div", "pg-dl-row");
      row.append(el("dt", "", keyLabel(k, words)));
      const dd = el("dd");
      dd.append(renderValue(v, k, depth + 1, compact, words));
      const notes = words.notes || {};
      if (Object.hasOwn(notes, k)) dd.append(el("span", "pg-note", notes[k]));
      row.append(dd);
      dl.append(row);
    }
    return dl;
  }
  return el("span", "", String(value));
}

/**
 * Records that a point carries as a list of objects (a few preference pairs, say), from the
 * newest point that has any: shown as a table under the charts while the run trains.
 */
export function renderExamples(node, points) {
  for (let i = points.length - 1; i >= 0; i--) {
    for (const [key, value] of Object.entries(points[i])) {
      if (Array.isArray(value) && value.length && value.every(isPlainObject)) {
        const caption = el("p", "pg-summary-title", `Latest ${humanize(key)} (step ${points[i].step})`);
        node.replaceChildren(caption, renderTable(value, Object.keys(value[0])));
        node.hidden = false;
        return;
      }
    }
  }
}

function renderTable(rows, keys, words = {}) {
  const wrap = el("div", "pg-table-wrap scroll-x");
  const table = el("table", "pg-table");
  const head = el("tr");
  keys.forEach((k) => head.append(el("th", "", keyLabel(k, words))));
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  rows.forEach((row) => {
    const tr = el("tr");
    keys.forEach((k) => {
      const td = el("td");
      td.append(renderValue(row[k], k, 3, false, words));
      if (typeof row[k] === "number") td.className = "is-num";
      tr.append(td);
    });
    tbody.append(tr);
  });
  table.append(thead, tbody);
  wrap.append(table);
  return wrap;
}
