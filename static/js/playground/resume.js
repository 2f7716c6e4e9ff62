// Which run a panel follows, kept per browser tab (sessionStorage) with its control token, so a
// reload or Back finds the run again and can still steer it, instead of leaving it to train on
// unseen. One entry per page and panel. No DOM: the storage is injected.

/** sessionStorage when the browser lets us use it (private modes may refuse), else null. */
function tabStorage() {
  try {
    return globalThis.sessionStorage || null;
  } catch {
    return null;
  }
}

export class RunMemory {
  constructor(path, panelId, storage = tabStorage()) {
    this.key = `modelterms:run:${path}#${panelId}`;
    this.storage = storage;
  }

  /** The run to reattach to: {id, token, num}, or null. */
  recall() {
    try {
      const kept = JSON.parse(this.storage?.getItem(this.key) || "null");
      return kept && typeof kept.id === "string" ? { id: kept.id, token: kept.token || null, num: Number(kept.num) || 1 } : null;
    } catch {
      return null;
    }
  }

  remember(run) {
    this.write(JSON.stringify({ id: run.id, token: run.controlToken, num: run.num }));
  }

  forget() {
    this.write(null);
  }

  write(text) {
    try {
      if (text === null) this.storage?.removeItem(this.key);
      else this.storage?.setItem(this.key, text);
    } catch {
      // A full or refused storage only costs the reattach after a reload.
    }
  }
}
