// JSON requests to the ModelTerms API that never throw, and the server's error text.

/** Never throws: resolves to {ok, status, body, headers} or {ok: false, status: 0, error}. */
export async function api(url, options = {}) {
  try {
    const init = { ...options, headers: { Accept: "application/json", ...(options.headers || {}) } };
    if (options.json !== undefined) {
      init.body = JSON.stringify(options.json);
      init.headers["Content-Type"] = "application/json";
      delete init.json;
    }
    const response = await fetch(url, init);
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    return { ok: response.ok, status: response.status, body, headers: response.headers };
  } catch (error) {
    return { ok: false, status: 0, body: null, error };
  }
}

export function detailText(body, status) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => (d && (d.message || d.msg)) || String(d)).join("; ");
  return status ? `The server answered ${status}.` : "The server could not be reached.";
}

/** A failed POST of a run in words: {status: [text, tone], errors: [...], issues: [...]}
 * (issues: the 422's fields, to show on the form). */
export function describeFailure(result) {
  if (result.status === 422) {
    const issues = result.body && Array.isArray(result.body.detail) ? result.body.detail : [];
    return { status: ["Some settings need fixing: see the marked fields.", "danger"], errors: issues.length ? [] : [detailText(result.body, 422)], issues };
  }
  if (result.status === 429) {
    const retry = result.headers && result.headers.get("Retry-After");
    const detail = detailText(result.body, 429);
    const wait = retry && /^\d+$/.test(retry) && !detail.includes(`${retry} s`) ? ` Retry in ${retry} s.` : "";
    return { status: [`${detail}${wait}`, "warn"], errors: [], issues: [] };
  }
  const reason = result.status === 0
    ? `The server could not be reached${result.error && result.error.message ? ` (${result.error.message})` : ""}.`
    : detailText(result.body, result.status);
  return { status: ["Could not start the run.", "danger"], errors: [reason], issues: [] };
}
