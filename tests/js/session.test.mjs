// The run session's pure bookkeeping: live changes coalesced, events resumed by id.

import assert from "node:assert/strict";
import { test } from "node:test";

import { LiveChanges } from "../../static/js/playground/live.js";
import { Run, describeRun } from "../../static/js/playground/run.js";
import { RunSession } from "../../static/js/playground/session.js";
import { EventCursor, EventStream } from "../../static/js/playground/stream.js";
import { FakeClock, settle } from "./fake-clock.mjs";

/** A sender whose answers the test releases one by one. */
function recorder() {
  const sent = [];
  const answers = [];
  const send = (changes) => {
    sent.push(changes);
    return new Promise((resolve) => answers.push(resolve));
  };
  const answer = async (result = { ok: true, status: 200 }) => {
    answers.shift()(result);
    await settle();
  };
  return { sent, send, answer };
}

test("a drag becomes one PATCH in flight plus one with the latest value", async () => {
  const clock = new FakeClock();
  const { sent, send, answer } = recorder();
  const live = new LiveChanges(send, { clock, known: () => 0.08 });
  live.push({ lr: 0.07 });
  for (const lr of [0.06, 0.05, 0.04, 0.03]) live.push({ lr }); // while the first is in flight
  assert.deepEqual(sent, [{ lr: 0.07 }]);
  await answer();
  clock.advance(100);
  assert.deepEqual(sent, [{ lr: 0.07 }, { lr: 0.03 }]);
  await answer();
  clock.advance(1000);
  assert.equal(sent.length, 2);
  assert.ok(live.idle);
});

test("values the run already has are not sent, and changes to several fields go together", async () => {
  const clock = new FakeClock();
  const { sent, send, answer } = recorder();
  const live = new LiveChanges(send, { clock, known: (name) => ({ lr: 0.08, pace: 30 })[name] });
  live.push({ lr: 0.08 }); // the input and change events of a click that moved nothing
  assert.deepEqual(sent, []);
  live.push({ lr: 0.05 });
  live.push({ lr: 0.04, pace: 10 });
  live.push({ lr: 0.05 }); // back to what is in flight: nothing new for lr
  await answer();
  clock.advance(100);
  assert.deepEqual(sent, [{ lr: 0.05 }, { pace: 10 }]);
});

test("with `settle`, values held by the arrow keys go out once the control is still", async () => {
  const clock = new FakeClock();
  const { sent, send } = recorder();
  const live = new LiveChanges(send, { clock, settle: 250, known: () => 0.08 });
  for (const lr of [0.07, 0.06, 0.05]) {
    live.push({ lr }); // one change event per key repeat, 30 ms apart
    clock.advance(30);
  }
  assert.deepEqual(sent, []);
  clock.advance(249);
  assert.deepEqual(sent, [{ lr: 0.05 }]);
});

test("sends are at least `interval` apart", async () => {
  const clock = new FakeClock();
  const { sent, send, answer } = recorder();
  const live = new LiveChanges(send, { clock, interval: 100, known: () => 0 });
  live.push({ lr: 1 });
  await answer();
  clock.advance(30);
  live.push({ lr: 2 });
  assert.equal(sent.length, 1);
  clock.advance(69);
  assert.equal(sent.length, 1);
  clock.advance(1);
  assert.deepEqual(sent.at(-1), { lr: 2 });
});

test("a rejected value (422) is forgotten, so the same value can be sent again", async () => {
  const clock = new FakeClock();
  const { sent, send, answer } = recorder();
  const results = [];
  const live = new LiveChanges(send, { clock, known: () => 0.1, onResult: (changes, result) => results.push([changes, result.status]) });
  live.push({ lr: 5 });
  await answer({ ok: false, status: 422 });
  assert.deepEqual(results, [[{ lr: 5 }, 422]]);
  clock.advance(100);
  live.push({ lr: 5 });
  clock.advance(100);
  assert.deepEqual(sent, [{ lr: 5 }, { lr: 5 }]);
});

test("nothing is sent after close", async () => {
  const clock = new FakeClock();
  const { sent, send, answer } = recorder();
  const live = new LiveChanges(send, { clock, known: () => 0 });
  live.push({ lr: 1 });
  live.push({ lr: 2 });
  live.close();
  await answer();
  clock.advance(1000);
  assert.deepEqual(sent, [{ lr: 1 }]);
});

test("the cursor drops replays and resumes after the last id", () => {
  const cursor = new EventCursor();
  assert.deepEqual([1, 2, 2, 1, 3].map((id) => cursor.accept(id)), [true, true, false, false, true]);
  assert.equal(cursor.url("/api/runs/a/events"), "/api/runs/a/events?after=3");
  assert.equal(new EventCursor(7).url("/x?y=1"), "/x?y=1&after=7");
});

/** EventSources the test drives: emit(type, id, data), fail() as a closed connection. */
function fakeSources() {
  const made = [];
  const open = (url) => {
    const listeners = {};
    const source = {
      url,
      readyState: 1,
      closed: false,
      addEventListener: (type, fn) => (listeners[type] ||= []).push(fn),
      close: () => { source.closed = true; source.readyState = 2; },
      emit: (type, id, data) => (listeners[type] || []).forEach((fn) => fn({ lastEventId: String(id), data: JSON.stringify(data) })),
      fail: () => { source.readyState = 2; (listeners.error || []).forEach((fn) => fn({})); },
    };
    made.push(source);
    return source;
  };
  return { made, open };
}

test("a stream the browser gave up on is reopened after the last event seen, without replays", () => {
  const clock = new FakeClock();
  const { made, open } = fakeSources();
  const seen = [];
  const states = [];
  new EventStream("/api/runs/r1/events", {
    open, clock, onEvent: (type, data, id) => seen.push([type, id]), onState: (s) => states.push(s),
  });
  assert.equal(made[0].url, "/api/runs/r1/events?after=0");
  made[0].emit("start", 1, {});
  made[0].emit("metrics", 2, { points: [] });
  made[0].fail();
  assert.deepEqual(states, ["reconnecting"]);
  clock.advance(500);
  assert.equal(made[1].url, "/api/runs/r1/events?after=2");
  made[1].emit("metrics", 2, { points: [] }); // a replay
  made[1].emit("end", 3, { status: "done" });
  assert.deepEqual(seen, [["start", 1], ["metrics", 2], ["end", 3]]);
});

test("after five failed reopenings the stream says it is lost", () => {
  const clock = new FakeClock();
  const { made, open } = fakeSources();
  const states = [];
  new EventStream("/e", { open, clock, onEvent: () => {}, onState: (s) => states.push(s) });
  for (let i = 0; i < 6; i++) {
    made.at(-1).fail();
    clock.advance(10_000);
  }
  assert.equal(made.length, 6);
  assert.equal(states.at(-1), "lost");
});

test("a session keeps the control token from the POST and sends it with every change", async () => {
  const clock = new FakeClock();
  const { made, open } = fakeSources();
  const requests = [];
  const request = async (url, options = {}) => {
    requests.push([options.method || "GET", url, options.headers, options.json]);
    if (options.method === "POST") return { ok: true, status: 201, body: { id: "r1", status: "running", control_token: "t0k" } };
    return { ok: true, status: 200, body: { status: "paused" } };
  };
  const { session } = await RunSession.start("counter", { lr: 0.1 }, 1, { request, open, clock });
  const events = [];
  session.on("metrics", () => events.push("metrics")).on("end", () => events.push("end"));
  made[0].emit("start", 1, { params: { lr: 0.1, steps: 50 }, device: "cpu" });
  made[0].emit("metrics", 2, { points: [{ step: 0, loss: 1 }] });
  session.change({ lr: 0.05 });
  clock.advance(250); // a live change waits until the slider is still
  await session.pause(true);
  assert.equal(session.run.status, "paused");
  made[0].emit("end", 3, { status: "done" });
  assert.deepEqual(events, ["metrics", "end"]);
  assert.ok(made[0].closed);
  const auth = { Authorization: "Bearer t0k" };
  assert.deepEqual(requests.slice(1), [["PATCH", "/api/runs/r1", auth, { lr: 0.05 }], ["PATCH", "/api/runs/r1", auth, { paused: true }]]);
});

test("a run applies its events: live changes are recorded at their step", () => {
  const run = new Run("r1", 1, {});
  run.apply("start", { params: { lr: 0.1, steps: 3 }, device: "cpu", kind: "counter" }, 1, 0);
  assert.deepEqual(run.facts, { kind: "counter" });
  run.apply("metrics", { points: [{ step: 0, loss: 1 }, { step: 1, loss: 0.5 }] }, 2, 10);
  assert.deepEqual(run.apply("control", { step: 2, changes: { lr: 0.05 } }, 3, 20), { lr: 0.05 });
  assert.equal(run.apply("control", { step: 2, changes: { paused: true } }, 4, 30), null);
  assert.equal(run.status, "paused");
  run.apply("end", { status: "done", summary: {} }, 5, 40);
  assert.deepEqual([run.lastStep, run.params.lr, run.startParams.lr, run.active], [1, 0.05, 0.1, false]);
  assert.deepEqual(run.controls, [{ step: 2, changes: { lr: 0.05 } }]);
});

test("a run waiting for an artifact says what is being prepared, then runs", () => {
  const run = new Run("r1", 1, { steps: 10 });
  run.apply("prepare", { artifact: "the base model", done: 340, total: 600, message: "Preparing the base model, one time: step 340 of 600" }, 1);
  assert.deepEqual(describeRun(run, false), ["Preparing the base model, one time: step 340 of 600", ""]);
  run.apply("start", { params: { steps: 10 }, device: "cpu" }, 2);
  assert.match(describeRun(run, false)[0], /^Running on cpu/);
});

test("a pace change is a live change but no marker on the charts", () => {
  const run = new Run("r1", 1, { lr: 0.08, pace: 30 });
  assert.deepEqual(run.apply("control", { step: 4, changes: { pace: 5 } }), { pace: 5 });
  assert.deepEqual(run.apply("control", { step: 9, changes: { lr: 0.03, pace: 10 } }), { lr: 0.03, pace: 10 });
  assert.deepEqual(run.controls, [{ step: 9, changes: { lr: 0.03 } }]);
  assert.equal(run.params.pace, 10);
});

test("a run knows which keys each series has carried, so charts skip lines that never get a value", () => {
  const run = new Run("r1", 1, {});
  run.addPoints([{ step: 0, series: "d=8", loss: 3 }, { step: 0, series: "frontier", val_loss: 3.1 }], 0);
  run.addPoints([{ step: 1, series: "d=8", loss: 2.9, val_loss: 3 }], 1);
  assert.deepEqual([run.carries("val_loss", "d=8"), run.carries("loss", "frontier"), run.carries("loss", "fit")], [true, false, false]);
  const single = new Run("r2", 2, {});
  single.addPoints([{ step: 0, grad_norm_1: 0.1, grad_norm_2: 0.2 }], 0);
  assert.deepEqual([single.carries("grad_norm_2", null), single.carries("grad_norm_3", null)], [true, false]);
});
