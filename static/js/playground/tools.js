// Export a run (CSV of its points, JSON of its events) and copy a share link.

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

/** The link to this page with a panel's state (`query`), or to the page alone (a stored run). */
export function shareUrl(query, anchor) {
  const here = `${location.origin}${location.pathname}`;
  return query ? `${here}?${query}#${anchor}` : here;
}

/** Copies the link, or puts it in the address bar where the clipboard is out of reach;
 * resolves to the [text, tone] to flash. */
export async function copyLink(url) {
  try {
    if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard");
    await navigator.clipboard.writeText(url);
    return ["Link copied", "ok"];
  } catch {
    try {
      history.replaceState(history.state, "", url);
      return ["Link is in the address bar — copy it from there", "ok"];
    } catch {
      return ["Could not copy the link", "danger"];
    }
  }
}
