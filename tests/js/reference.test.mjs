// A reference run's lines on the charts, and the ids and URLs a reference is pinned by.

import assert from "node:assert/strict";
import { test } from "node:test";

import { REFERENCE_DASH, buildLines } from "../../static/js/playground/chart-data.js";
import { RunHistory } from "../../static/js/playground/history.js";
import { refIdProblem } from "../../static/js/playground/reference.js";
import { Run } from "../../static/js/playground/run.js";
import { withParam } from "../../static/js/playground/tools.js";

const theme = { rgb: { fg: [20, 20, 20, 1] }, palette: [[1, 2, 3, 1], [4, 5, 6, 1]] };

function runWith(id, num, points) {
  const run = new Run(id, num, {});
  run.addPoints(points, 0);
  return run;
}

test("the reference is drawn first, dashed in the text colour, labelled, and ages no overlay", () => {
  const history = new RunHistory();
  const reference = runWith("ref1", 0, [{ step: 0, loss: 2 }]);
  reference.isReference = true;
  history.reference = reference;
  history.begin(runWith("a", 1, [{ step: 0, loss: 3 }]));
  history.begin(runWith("b", 2, [{ step: 0, loss: 1 }]));
  history.clearOverlays(); // "Clear all" leaves the reference
  assert.deepEqual(history.all().map((r) => r.id), ["ref1", "b"]);
  history.begin(runWith("c", 3, [{ step: 0, loss: 1 }]));
  const lines = buildLines({ yKeys: ["loss"], runs: history.all(), current: history.current, theme, colorIndex: () => 0 });
  assert.deepEqual(lines.map((l) => l.label), ["reference", "#2 loss", "loss"]);
  assert.deepEqual(lines[0].dash, REFERENCE_DASH);
  assert.equal(lines[0].stroke, "rgba(20,20,20,0.7)");
  assert.equal(lines[1].stroke, "rgba(1,2,3,0.6)"); // the newest overlay, as without a reference
});

test("a reference of several series names each of its lines", () => {
  const reference = runWith("ref1", 0, [{ step: 0, loss: 2, series: "full" }, { step: 0, loss: 3, series: "lora" }]);
  reference.isReference = true;
  const lines = buildLines({ yKeys: ["loss"], runs: [reference], current: null, theme, colorIndex: () => 0 });
  assert.deepEqual(lines.map((l) => l.label), ["reference full", "reference lora"]);
});

test("reference ids are URL-safe tokens of at most 64 characters", () => {
  for (const good of ["a1b2c3d4e5f6", "Zx_-9", "a".repeat(64)]) assert.equal(refIdProblem(good), null);
  for (const bad of ["", "a".repeat(65), "bad id", "../runs", "<b>x</b>"]) assert.match(refIdProblem(bad), /is not a run id/);
});

test("the page's URL carries the reference and keeps everything else", () => {
  const pinned = withParam("https://x.test/terms/gd?lr=0.1#playground-gd", "ref", "abc");
  assert.equal(pinned, "https://x.test/terms/gd?lr=0.1&ref=abc#playground-gd");
  assert.equal(withParam(pinned, "ref", "def"), "https://x.test/terms/gd?lr=0.1&ref=def#playground-gd");
  assert.equal(withParam(pinned, "ref", null), "https://x.test/terms/gd?lr=0.1#playground-gd");
});
