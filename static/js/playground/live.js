// Live changes to a running run, coalesced: a change waits until the control has been still for
// `settle` ms (arrow keys held on a slider are one change, not one per repeat), then at most one
// PATCH is in flight and at most one goes per `interval`; values that arrive meanwhile collapse
// to the latest per field, and a value equal to what the run already has is never sent. So one
// gesture is one change, never a stale value last. No DOM: the sender and the clock are injected.

import { realClock } from "./clock.js";

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

export class LiveChanges {
  /**
   * send(changes) -> Promise<{ok, status, body}>; known(name): the run's value before any
   * change from here; onResult(changes, result) after each answer.
   */
  constructor(send, { interval = 100, settle = 0, clock = realClock, known = () => undefined, onResult = () => {} } = {}) {
    this.send = send;
    this.interval = interval;
    this.settle = settle;
    this.quiet = null; // the settle timer
    this.clock = clock;
    this.known = known;
    this.onResult = onResult;
    this.pending = {};
    this.sent = {};
    this.inFlight = false;
    this.timer = null;
    this.lastSent = -Infinity;
    this.closed = false;
  }

  current(name) {
    return name in this.sent ? this.sent[name] : this.known(name);
  }

  push(changes) {
    if (this.closed) return;
    for (const [name, value] of Object.entries(changes)) {
      if (!(name in this.pending) && same(this.current(name), value)) continue;
      this.pending[name] = value;
    }
    if (!(this.settle > 0)) return this.flush();
    if (this.quiet) this.clock.clearTimeout(this.quiet);
    this.quiet = this.clock.setTimeout(() => {
      this.quiet = null;
      this.flush();
    }, this.settle);
  }

  get idle() {
    return !this.inFlight && !this.timer && !this.quiet && !Object.keys(this.pending).length;
  }

  flush() {
    if (this.closed || this.inFlight || this.timer || this.quiet) return; // what is pending goes out next
    const wait = this.interval - (this.clock.now() - this.lastSent);
    if (wait > 0 && Object.keys(this.pending).length) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        this.flush();
      }, wait);
      return;
    }
    const changes = Object.fromEntries(Object.entries(this.pending).filter(([k, v]) => !same(this.current(k), v)));
    this.pending = {};
    if (!Object.keys(changes).length) return;
    Object.assign(this.sent, changes);
    this.inFlight = true;
    this.lastSent = this.clock.now();
    this.send(changes).then((result) => {
      this.inFlight = false;
      if (result.status === 422) for (const name of Object.keys(changes)) delete this.sent[name];
      if (!this.closed) this.onResult(changes, result);
      this.flush();
    });
  }

  close() {
    this.closed = true;
    this.pending = {};
    if (this.timer) this.clock.clearTimeout(this.timer);
    if (this.quiet) this.clock.clearTimeout(this.quiet);
    this.timer = null;
    this.quiet = null;
  }
}
