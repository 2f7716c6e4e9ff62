// One run's life on the server, as the page drives it: POST (keeping the control token the
// answer carries), the event stream with resume by id, the queue position while queued, live
// changes (coalesced), pause, step, cancel, and the end. It emits events and never touches the
// DOM: the views listen. Events: start, metrics, control, end ({data, changes}), connection
// ({state}), queue, status (paused or resumed), live ({changes, result}).

import { api } from "./api.js";
import { realClock } from "./clock.js";
import { LiveChanges } from "./live.js";
import { ACTIVE, Run } from "./run.js";
import { EventStream } from "./stream.js";

const QUEUE_POLL_MS = 1000;
const LIVE_SETTLE_MS = 250; // a slider's value has to stay this long before it goes to the run
const runUrl = (id) => `/api/runs/${encodeURIComponent(id)}`;

export class RunSession {
  /** deps: request (api), open (url -> EventSource), clock; after: the last event already seen. */
  constructor(run, eventsUrl, { after = 0, request = api, open, clock = realClock } = {}) {
    this.run = run;
    this.request = request;
    this.clock = clock;
    this.handlers = {};
    this.poll = null;
    this.closed = false;
    this.live = new LiveChanges((changes) => this.patch(changes), {
      settle: LIVE_SETTLE_MS,
      clock,
      known: (name) => run.params[name],
      onResult: (changes, result) => this.emit("live", { changes, result }),
    });
    this.stream = new EventStream(eventsUrl, {
      after,
      open,
      clock,
      onEvent: (type, data, id) => this.receive(type, data, id),
      onState: (state) => this.connection(state),
    });
    if (run.status === "queued") this.pollQueue();
  }

  /** POST a run: {session} on 201, else {failure: the API's answer} (422, 429, 0 = offline). */
  static async start(demo, params, num, deps = {}) {
    const request = deps.request || api;
    const result = await request(`/api/demos/${encodeURIComponent(demo)}/runs`, { method: "POST", json: params });
    if (result.status !== 201 || !result.body || !result.body.id) return { failure: result };
    const run = new Run(result.body.id, num, params);
    run.controlToken = result.body.control_token || null;
    run.status = result.body.status || "queued";
    run.queuePosition = result.body.queue_position ?? null;
    return { session: new RunSession(run, result.body.events_url || `${runUrl(run.id)}/events`, deps) };
  }

  /** Follow a run this page did not just start (a permalink), replaying its events after `after`.
   * With its control token (kept by the page that started it) it can be steered too. */
  static attach(id, num, { token = null, after = 0, ...deps } = {}) {
    const run = new Run(id, num, {});
    run.status = "running";
    run.controlToken = token;
    run.attached = true; // its start arrives replayed: the page cannot time it
    return new RunSession(run, `${runUrl(id)}/events`, { after, ...deps });
  }

  on(type, handler) {
    (this.handlers[type] ||= []).push(handler);
    return this;
  }

  emit(type, detail = {}) {
    if (this.closed && type !== "end") return;
    for (const handler of this.handlers[type] || []) handler(detail);
  }

  receive(type, data, id) {
    const changes = this.run.apply(type, data, id, this.clock.now());
    if (type === "end") this.close();
    else if (this.run.status !== "queued") this.stopPolling();
    this.emit(type, { data, changes });
  }

  connection(state) {
    this.run.reconnecting = state === "reconnecting";
    this.run.lost = state === "lost";
    this.emit("connection", { state });
  }

  pollQueue() {
    this.poll = this.clock.setInterval(async () => {
      const result = await this.request(runUrl(this.run.id));
      if (this.closed || this.run.status !== "queued" || !result.ok || !result.body) return;
      this.run.queuePosition = result.body.queue_position ?? this.run.queuePosition;
      // Finished while queued: the end event will say how.
      if (result.body.status && result.body.status !== "queued" && !ACTIVE.has(result.body.status)) this.stopPolling();
      this.emit("queue");
    }, QUEUE_POLL_MS);
  }

  stopPolling() {
    if (this.poll) this.clock.clearInterval(this.poll);
    this.poll = null;
  }

  patch(changes) {
    return this.request(runUrl(this.run.id), { method: "PATCH", json: changes, headers: this.run.authorization });
  }

  /** A live change (coalesced with others in flight); ignored once the run has ended. */
  change(changes) {
    if (this.run.active) this.live.push(changes);
  }

  /** Pause or resume; resolves to the API's answer (null when there was nothing to do). */
  async pause(paused) {
    const run = this.run;
    if (!run.active || run.status === "queued") return null;
    const result = await this.patch({ paused });
    if (result.ok && !run.end) {
      const status = result.body && result.body.status;
      if (ACTIVE.has(status) && status !== "queued") run.setPaused(status === "paused");
      else run.setPaused(paused);
      this.emit("status");
    }
    return result;
  }

  /** One step while paused. */
  step() {
    if (this.run.status !== "paused" || this.run.end) return Promise.resolve(null);
    return this.patch({ step_once: true });
  }

  /** Cancel on the server and keep following: the end event says where it stopped. Resolves
   * to the API's answer (null when there was nothing to stop). */
  stop() {
    if (!this.run.active) return Promise.resolve(null);
    return this.request(runUrl(this.run.id), { method: "DELETE", headers: this.run.authorization });
  }

  /** The page is going and nothing can find this run again: cancel it in a request that
   * outlives the page, rather than leave it training unseen against the reader's limit. */
  abandon() {
    if (!this.run.active || !this.run.controlToken) return;
    this.request(runUrl(this.run.id), { method: "DELETE", headers: this.run.authorization, keepalive: true });
  }

  /** Cancel on the server (when still active) and stop following. */
  cancel() {
    this.stop();
    this.close();
  }

  /** Stop following: no more requests, no more events. */
  close() {
    this.closed = true;
    this.stream.close();
    this.live.close();
    this.stopPolling();
  }
}
