// Export a run (CSV of its points, JSON of its events), copy a share link, set a URL's parameter.

import { download } from "./dom.js";
import { csvCell } from "./format.js";

/** The run's points as CSV: step (and series) first, then every key in order of appearance. */
export function pointsCsv(points) {
  const columns = ["step"];
  if (points.some((p) => p.series != null)) columns.push("series");
  for (const p of points) for (const key of Object.keys(p)) if (!columns.includes(key)) columns.push(key);
  const lines = [columns.join(",")];
  for (const p of points) lines.push(columns.map((c) => csvCell(p[c])).join(","));
  return `${lines.join("\n")}\n`;
}

export function exportCsv(name, run) {
  if (run && run.points.length) download(`${name}-${run.id}.csv`, pointsCsv(run.points), "text/csv");
}

export function exportJson(name, run) {
  if (run) download(`${name}-${run.id}.json`, `${JSON.stringify(run.events, null, 1)}\n`, "application/json");
}

/** The link to a panel's state (`query`) on this page, or on `page` (an embed's glossary page);
 * without a query, to the page alone (a stored run). */
export function shareUrl(query, anchor, page = null) {
  const here = `${location.origin}${page || location.pathname}`;
  return query ? `${here}?${query}#${anchor}` : here;
}

/** `href` with query parameter `name` set to `value` (removed when it is empty), the rest kept:
 * how a panel writes a view (a reference run, the presenter layout) into the page's URL. */
export function withParam(href, name, value) {
  const url = new URL(href);
  if (value) url.searchParams.set(name, value);
  else url.searchParams.delete(name);
  return url.toString();
}

/** Copies the link; where the clipboard is out of reach (an embed's frame, plain http), shows
 * it selected in `box` (a .pg-share) to copy by hand. Resolves to the [text, tone] to flash. */
export async function copyLink(url, box) {
  try {
    if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard");
    await navigator.clipboard.writeText(url);
    if (box) box.hidden = true;
    return ["Link copied", "ok"];
  } catch {
    const field = box && box.querySelector("input");
    if (!field) return ["Could not copy the link", "danger"];
    box.hidden = false;
    field.value = url;
    field.focus();
    field.select();
    return ["The link is selected below: press Ctrl+C (⌘C on a Mac) to copy it", "ok"];
  }
}
