// The class board's state: curves aligned on the union of steps, the scatter split into finished
// and diverged runs, counts, and a `class` event starting over (a reconnecting board).

import assert from "node:assert/strict";
import { test } from "node:test";

import { BoardState } from "../../static/js/class/board-state.js";

function board() {
  const state = new BoardState();
  state.apply("class", { code: "ABCDEF", params: ["lr"] });
  state.apply("run", { id: "a", name: "Ada", params: { lr: 0.1 } });
  state.apply("run", { id: "b", name: "Bob", params: { lr: 0.5 } });
  state.apply("points", { runs: { a: [[0, 2], [2, 1]], b: [[0, 3], [1, 9]] } });
  return state;
}

test("curves share the union of steps, null where a run has no point", () => {
  const { runs, data } = board().curves();
  assert.deepEqual(runs.map((r) => r.name), ["Ada", "Bob"]);
  assert.deepEqual(data, [[0, 1, 2], [2, null, 1], [3, 9, null]]);
});

test("the scatter has ended runs only, diverged ones apart", () => {
  const state = board();
  assert.deepEqual(state.scatter("lr"), { finished: [], diverged: [] });
  state.apply("end", { id: "b", status: "diverged", loss: 1e13 });
  state.apply("end", { id: "a", status: "done", loss: 0.9 });
  assert.deepEqual(state.scatter("lr"), { finished: [[0.1, 0.9]], diverged: [0.5] });
  assert.deepEqual(state.scatter("steps"), { finished: [], diverged: [] }); // no run has it
  assert.deepEqual(state.counts(), { running: 0, done: 1, diverged: 1 });
});

test("a class event starts the board over, and a run announced twice is one run", () => {
  const state = board();
  state.apply("run", { id: "a", name: "Ada", params: { lr: 0.1 } });
  assert.equal(state.curves().data[1].length, 3);
  state.apply("class", { code: "ABCDEF", params: ["lr"] });
  assert.equal(state.runs.size, 0);
});
