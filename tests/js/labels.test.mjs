// What a run's chip says, and a chart's data table: pure functions, no DOM.

import assert from "node:assert/strict";
import { test } from "node:test";

import { tableData, thinRows } from "../../static/js/playground/chart-table.js";
import { Run, runLabel } from "../../static/js/playground/run.js";

function started(num, params) {
  const run = new Run(`r${num}`, num, {});
  run.apply("start", { params, device: "cpu" }, 1, 0);
  return run;
}

test("a reader's withheld text reads as its size in the chips, never as an object", () => {
  const withheld = { text: null, text_withheld: { chars: 2200, sha256: "ab12" }, steps: 12 };
  const builtIn = started(1, { text: null, steps: 12 });
  const own = started(2, withheld);
  const overlay = runLabel(builtIn, own, {});
  assert.equal(overlay, "#1 built-in text");
  assert.equal(runLabel(own, own, { text: null, steps: 12 }), "#2 own text (2,200 chars)");
  const again = started(3, withheld);
  assert.equal(runLabel(own, again, {}), "#2 same settings as #3");
  for (const label of [overlay, runLabel(own, builtIn, {})]) assert.doesNotMatch(label, /object/);
});

test("a kept text counts characters, not UTF-16 units", () => {
  const run = started(1, { text: "héllo 🙂".repeat(10), steps: 12 });
  assert.equal(runLabel(run, run, { text: null, steps: 12 }), "#1 own text (70 chars)");
});

test("a data table keeps at most its rows, evenly spaced, first and last always", () => {
  assert.deepEqual(thinRows(5, 10), [0, 1, 2, 3, 4]);
  const rows = thinRows(5001, 200);
  assert.equal(rows.length, 200);
  assert.equal(rows[0], 0);
  assert.equal(rows.at(-1), 5000);
  assert.ok(rows.every((r, i) => i === 0 || r > rows[i - 1]));
});

test("a step chart's table has a column per line; any other x lists each point", () => {
  const run = started(1, { lr: 0.1 });
  run.apply("metrics", { points: [{ step: 0, loss: 2, x: 1, y: 5 }, { step: 1, loss: 1.5, x: 0.5, y: 4 }] }, 2, 0);
  const line = { run, key: "loss", series: null, label: "loss" };
  assert.deepEqual(tableData([line], "step"), { head: ["step", "loss"], rows: [[0, 2], [1, 1.5]] });
  const path = { run, key: "y", series: null, label: "y" };
  assert.deepEqual(tableData([path], "x"), { head: ["step", "x", "y"], rows: [[0, 1, 5], [1, 0.5, 4]] });
});

test("numbers from a million up read alike, whole or not", async () => {
  const { fmtNum } = await import("../../static/js/playground/format.js");
  assert.equal(fmtNum(999999), "999,999");
  assert.equal(fmtNum(6899712), "6.9e6");
  assert.equal(fmtNum(20940000.5), "2.094e7");
  assert.equal(fmtNum(1546188226560), "1.546e12");
  assert.equal(fmtNum(1.819e12), "1.819e12");
  assert.equal(fmtNum(0.000479), "0.000479");
});

test("a queued run says how many runs are ahead of it, and none for the first in line", async () => {
  const { describeRun } = await import("../../static/js/playground/run.js");
  const run = new Run("q1", 1, { steps: 10 });
  run.queuePosition = 1;
  assert.equal(describeRun(run, false)[0], "Waiting for a worker — yours is the next run");
  run.queuePosition = 4;
  assert.equal(describeRun(run, false)[0], "Queued — 3 runs ahead");
  run.queuePosition = 2;
  assert.equal(describeRun(run, false)[0], "Queued — 1 run ahead");
});

test("a run the server stopped as it shut down says so, where a reader's cancel says Cancelled", async () => {
  const { describeRun } = await import("../../static/js/playground/run.js");
  const end = (data) => {
    const run = new Run("e1", 1, { steps: 100 });
    run.apply("end", { step: 41, summary: {}, ...data }, 2, 0);
    return describeRun(run, true);
  };
  const message = "The server restarted (or shut down) during this run; nobody cancelled it. Start it again.";
  assert.deepEqual(end({ status: "cancelled", reason: "server_stopped", message }), [`Stopped at step 41: ${message}`, "warn"]);
  assert.deepEqual(end({ status: "cancelled", message: "Cancelled." }), ["Cancelled.", ""]);
  const { endTag } = await import("../../static/js/playground/run.js");
  assert.equal(endTag({ status: "cancelled", reason: "server_stopped" }), "server restarted");
  assert.equal(endTag({ status: "cancelled" }), "cancelled");
});
