// What an embed page's URL asks for (see app/playground/http/embed.py): `hide=steps,seed` hides those
// controls, `controls=lr` shows only those, `autoplay=1` starts a run at once. Pure, no DOM.

const list = (text) => (text || "").split(",").map((s) => s.trim()).filter(Boolean);
const TRUE = ["", "1", "true", "on", "yes"];

/** {hidden: the field names to hide, autoplay} for the panel's `names` and a query string. */
export function embedOptions(names, query) {
  const search = new URLSearchParams(query);
  const shown = search.has("controls") ? new Set(list(search.get("controls"))) : null;
  const hide = new Set(list(search.get("hide")));
  const hidden = names.filter((name) => hide.has(name) || (shown && !shown.has(name)));
  const autoplay = search.has("autoplay") && TRUE.includes(search.get("autoplay").toLowerCase());
  return { hidden, autoplay };
}

/** The embed URL of a demo with the share link's query (without `demo=`), or of a stored run. */
export function embedUrl(origin, name, query, runId) {
  if (runId) return `${origin}/embed/runs/${encodeURIComponent(runId)}`;
  const search = new URLSearchParams(query);
  search.delete("demo");
  const rest = search.toString();
  return `${origin}/embed/${encodeURIComponent(name)}${rest ? `?${rest}` : ""}`;
}

const escapeAttr = (text) => String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/** The <iframe> snippet a teacher pastes into a course page. `clipboard-write` lets the
 * frame's "Copy share link" reach the clipboard (a frame is refused it otherwise). */
export function iframeSnippet(url, title, height) {
  return `<iframe src="${escapeAttr(url)}" title="${escapeAttr(title)}" width="100%" height="${height}" style="border:0" loading="lazy" allow="clipboard-write"></iframe>`;
}
