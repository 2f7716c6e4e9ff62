// The server's 422 issues in plain words, on the fields they are about.

import assert from "node:assert/strict";
import { test } from "node:test";

import { plainIssues } from "../../static/js/playground/issues.js";
import { fieldSpecs } from "../../static/js/playground/state.js";

const specs = fieldSpecs({
  properties: {
    lr: { type: "number", title: "Learning rate", exclusiveMinimum: 0, maximum: 10 },
    lr_min: { type: "number", title: "Lowest learning rate", exclusiveMinimum: 0 },
    lr_max: { type: "number", title: "Highest learning rate", exclusiveMinimum: 0 },
    lrs: { type: "array", title: "Learning rates", items: { enum: ["0.1", "1"] }, minItems: 1 },
  },
});

test("a rule across fields names them by title and marks each", () => {
  const issues = [{ field: "body", message: "body: Value error, lr_min (0.5) must not exceed lr_max (0.1)" }];
  assert.deepEqual(plainIssues(specs, issues), [
    { fields: ["lr_min", "lr_max"], message: "Lowest learning rate (0.5) must not exceed Highest learning rate (0.1)" },
  ]);
});

test("a field's own bound is said as the page says it, not in pydantic's words", () => {
  const issues = [{ field: "lrs", message: "lrs: List should have at least 1 item after validation, not 0" }];
  assert.deepEqual(plainIssues(specs, issues, { lrs: [] }), [{ fields: ["lrs"], message: "Learning rates needs at least 1 picked." }]);
  const other = [{ field: "lr", message: "lr: Input should be a valid number" }];
  assert.deepEqual(plainIssues(specs, other, {}), [{ fields: ["lr"], message: "Learning rate: Input should be a valid number" }]);
});

test("an issue about no field keeps its words and marks nothing", () => {
  assert.deepEqual(plainIssues(specs, [{ field: "body", message: "body: Field required" }]), [{ fields: [], message: "Field required" }]);
  assert.deepEqual(plainIssues(specs, null), []);
});
