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
