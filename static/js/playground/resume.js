// Which run a panel follows, kept per browser tab (sessionStorage) with its control token, so a
// reload or Back finds the run again and can still steer it, instead of leaving it to train on
// unseen. One entry per panel instance: a page's panel, or an embed's frame on its host page
// (two frames of one demo on a course page each keep their own run and settings). No DOM: the
// storage, the window and the lock manager are injected.

const CLAIM_WAIT_MS = 400; // how long a reload waits for its previous document's claim to go
const MAX_SLOTS = 8;

/** sessionStorage when the browser lets us use it (private modes may refuse), else null. */
function tabStorage() {
  try {
    return globalThis.sessionStorage || null;
  } catch {
    return null;
  }
}

/** This window's place among its parent's frames (the same after the host page reloads), or
 * null at the top. Comparing window proxies and counting frames is allowed across origins. */
export function frameIndex(win) {
  try {
    if (!win || win.parent === win) return null;
    for (let i = 0; i < win.parent.frames.length; i += 1) if (win.parent.frames[i] === win) return i;
  } catch {
    // A browser that refuses even this: the frame is told apart by its URL alone.
  }
  return null;
}

/** The storage key of a panel instance. A page keeps one entry per path and panel (a share
 * link's query, which the page may rewrite, does not change it). An embed's frame adds its own
 * query (its settings), the page that frames it and its place among that page's frames. */
export function instanceKey({ pathname, search = "", referrer = "" }, panelId, frame = null) {
  const base = `modelterms:run:${pathname}#${panelId}`;
  return frame == null ? base : `${base}|frame ${frame}${search}|in ${referrer}`;
}

export class RunMemory {
  constructor(key, { storage = tabStorage(), locks = globalThis.navigator?.locks } = {}) {
    this.base = key;
    this.key = key;
    this.storage = storage;
    this.locks = locks || null;
  }

  /** Claim this key for as long as the document lives. A second live instance with the same
   * key (a duplicated tab, which copies sessionStorage) takes the next free slot instead, so
   * two tabs never follow, or steer, one run. A reload waits briefly for the previous document
   * to let go. Without the Web Locks API (plain http on a LAN address) the key stays shared. */
  async claim() {
    if (!this.locks) return this.key;
    for (let slot = 1; slot <= MAX_SLOTS; slot += 1) {
      const name = slot === 1 ? this.base : `${this.base}~${slot}`;
      if (await this.hold(name)) {
        this.key = name;
        return name;
      }
    }
    return this.key;
  }

  /** Resolves true once `name` is held (until the page goes), false if another keeps it. */
  hold(name) {
    return new Promise((resolve) => {
      const options = { signal: AbortSignal.timeout(CLAIM_WAIT_MS) };
      this.locks
        .request(name, options, () => {
          resolve(true);
          return new Promise(() => {}); // never settles: released when the document goes
        })
        .catch(() => resolve(false));
    });
  }

  /** Can this instance find its run again after a reload? Not where storage is refused. */
  get persistent() {
    return !!this.storage;
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
