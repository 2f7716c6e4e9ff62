// A run's event stream with resume by event id. The browser's EventSource resumes a dropped
// connection by itself (it sends Last-Event-ID); when it gives up (CLOSED: the server answered
// with an error, or restarted), we reopen with ?after=N a few times, waiting longer each time.
// Events at or below the last id seen are replays and are dropped. No DOM.

import { realClock } from "./clock.js";

export const EVENT_TYPES = ["start", "metrics", "control", "end"];
const RETRY_MS = [500, 1000, 2000, 4000, 8000];

/** Which events are new: ids grow by one per event of a run, from 1. */
export class EventCursor {
  constructor(after = 0) {
    this.lastId = after;
  }

  /** True when the event is new (and remembered as the last one), false for a replay. */
  accept(id) {
    if (!Number.isFinite(id) || id <= 0) return true; // unnumbered: cannot be a replay
    if (id <= this.lastId) return false;
    this.lastId = id;
    return true;
  }

  url(base) {
    return `${base}${base.includes("?") ? "&" : "?"}after=${this.lastId}`;
  }
}

export class EventStream {
  /**
   * onEvent(type, data, id) for each new event; onState("open" | "reconnecting" | "lost").
   * open(url) makes the EventSource (tests pass a fake).
   */
  constructor(base, { after = 0, onEvent, onState = () => {}, open = (url) => new EventSource(url), clock = realClock } = {}) {
    this.base = base;
    this.cursor = new EventCursor(after);
    this.onEvent = onEvent;
    this.onState = onState;
    this.open = open;
    this.clock = clock;
    this.source = null;
    this.retries = 0;
    this.timer = null;
    this.closed = false;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    let source;
    try {
      source = this.open(this.cursor.url(this.base));
    } catch {
      this.retry();
      return;
    }
    this.source = source;
    for (const type of EVENT_TYPES) source.addEventListener(type, (event) => this.receive(source, type, event));
    source.addEventListener("open", () => {
      if (source === this.source) this.onState("open");
    });
    source.addEventListener("error", () => {
      if (source !== this.source || this.closed) return;
      if (source.readyState === 2) { // CLOSED: the browser will not try again
        source.close();
        this.retry();
      } else {
        this.onState("reconnecting");
      }
    });
  }

  receive(source, type, event) {
    if (source !== this.source || this.closed) return;
    const id = Number(event.lastEventId);
    if (!this.cursor.accept(id)) return;
    this.retries = 0;
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    if (data == null || typeof data !== "object" || Array.isArray(data)) return;
    this.onEvent(type, data, Number.isFinite(id) && id > 0 ? id : null);
  }

  retry() {
    this.source = null;
    if (this.retries >= RETRY_MS.length) {
      this.onState("lost");
      return;
    }
    this.onState("reconnecting");
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.connect();
    }, RETRY_MS[this.retries++]);
  }

  close() {
    this.closed = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.source) this.source.close();
    this.source = null;
  }
}
