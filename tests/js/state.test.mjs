// The panel's state from a params schema: bounds checks as the server makes them, and the
// share-link round trip.

import assert from "node:assert/strict";
import { test } from "node:test";

import { addresses, applies, charCount, checkValue, defaults, fieldSpecs, fromQuery, itemValue, suggestion, toQuery, validate } from "../../static/js/playground/state.js";

// The shape pydantic gives (see app/demos/gradient_descent.py and lora.py).
const SCHEMA = {
  properties: {
    function: {
      default: "quadratic", enum: ["quadratic", "rosenbrock"], title: "Function", type: "string",
      suggests: { quadratic: { lr: 0.08 }, rosenbrock: { lr: 0.002, steps: 150 } },
    },
    lr: { default: 0.08, exclusiveMinimum: 0, maximum: 10, scale: "log", title: "Lr", type: "number", ui_min: 0.0001 },
    momentum: { default: 0.9, exclusiveMaximum: 1, minimum: 0, title: "Momentum", type: "number" },
    steps: { default: 150, maximum: 5000, minimum: 1, title: "Steps", type: "integer" },
    targets: {
      default: ["attn_qkv"], items: { enum: ["attn_qkv", "mlp_in"], type: "string" }, minItems: 1,
      title: "Targets", type: "array", uniqueItems: true,
    },
    compare_full: { default: false, title: "Compare Full", type: "boolean" },
    rank: { $ref: "#/$defs/Rank", default: 4 },
  },
  $defs: { Rank: { enum: [2, 4, 8], title: "Rank", type: "integer" } },
};
const specs = fieldSpecs(SCHEMA, ["lr"]);
const spec = (name) => specs.find((s) => s.name === name);

test("specs follow the schema's order, and know which fields are live", () => {
  assert.deepEqual(specs.map((s) => s.name), ["function", "lr", "momentum", "steps", "targets", "compare_full", "rank"]);
  assert.deepEqual(specs.filter((s) => s.live).map((s) => s.name), ["lr"]);
  assert.ok(spec("lr").log);
  assert.deepEqual(spec("rank").options, [2, 4, 8]); // resolved from $defs
});

test("defaults come from the schema", () => {
  assert.deepEqual(defaults(specs), {
    function: "quadratic", lr: 0.08, momentum: 0.9, steps: 150, targets: ["attn_qkv"], compare_full: false, rank: 4,
  });
});

test("bounds are checked as pydantic does: ge/le inclusive, gt/lt exclusive", () => {
  assert.equal(checkValue(spec("steps"), 1), null);
  assert.equal(checkValue(spec("steps"), 5000), null);
  assert.equal(checkValue(spec("steps"), 0), "must be at least 1");
  assert.equal(checkValue(spec("steps"), 5001), "must be at most 5000");
  assert.equal(checkValue(spec("steps"), 2.5), "must be a whole number");
  assert.equal(checkValue(spec("lr"), 0), "must be more than 0");
  assert.equal(checkValue(spec("lr"), 10), null);
  assert.equal(checkValue(spec("momentum"), 1), "must be less than 1");
  assert.equal(checkValue(spec("momentum"), 0), null);
  assert.equal(checkValue(spec("lr"), Number.NaN), "must be a number");
  assert.equal(checkValue(spec("lr"), true), "must be a number");
});

test("choices, lists and booleans are checked too", () => {
  assert.equal(checkValue(spec("function"), "saddle"), "must be one of quadratic, rosenbrock");
  assert.equal(checkValue(spec("rank"), 4), null);
  assert.equal(checkValue(spec("rank"), "4"), "must be one of 2, 4, 8");
  assert.equal(checkValue(spec("targets"), []), "needs at least 1 picked");
  assert.equal(checkValue(spec("targets"), ["head"]), "may only hold attn_qkv, mlp_in");
  assert.equal(checkValue(spec("targets"), ["mlp_in", "mlp_in"]), "may hold each one once");
  assert.equal(checkValue(spec("compare_full"), "yes"), "must be on or off");
});

test("validate lists each broken field as the server's 422 does, and skips missing ones", () => {
  assert.deepEqual(validate(specs, { steps: 0, lr: 0.1, momentum: 1 }), [
    { field: "momentum", message: "Momentum must be less than 1." },
    { field: "steps", message: "Steps must be at least 1." },
  ]);
  assert.deepEqual(validate(specs, {}), []);
});

test("params survive the share link unchanged", () => {
  const params = { function: "rosenbrock", lr: 0.0316, momentum: 0.5, steps: 40, targets: ["attn_qkv", "mlp_in"], compare_full: true, rank: 8 };
  const query = toQuery(specs, params, "gradient-descent");
  assert.ok(query.startsWith("demo=gradient-descent&"));
  assert.deepEqual(fromQuery(specs, query), { params, rejected: [] });
});

test("list items take the schema's type: a sweep's widths are numbers, from a link or a checkbox", () => {
  const [widths] = fieldSpecs({ properties: { widths: { type: "array", title: "Widths", items: { enum: [8, 16, 24] } } } });
  assert.equal(itemValue(widths, "16"), 16);
  assert.equal(itemValue(widths, "17"), "17"); // left as text, for the check to name
  assert.equal(itemValue(spec("targets"), "mlp_in"), "mlp_in");
  assert.deepEqual(fromQuery([widths], "widths=8,24"), { params: { widths: [8, 24] }, rejected: [] });
  assert.equal(fromQuery([widths], "widths=8,17").rejected[0].message, "Widths may only hold 8, 16, 24.");
});

test("a share link's junk is rejected by name, the rest kept", () => {
  const { params, rejected } = fromQuery(specs, "steps=-5&lr=1e9&momentum=0.5&function=nope&compare_full=maybe");
  assert.deepEqual(params, { momentum: 0.5 });
  assert.deepEqual(rejected.map((r) => [r.field, r.text]), [
    ["function", "nope"], ["lr", "1e9"], ["steps", "-5"], ["compare_full", "maybe"],
  ]);
  assert.equal(rejected.find((r) => r.field === "steps").message, "Steps must be at least 1.");
});

test("a link addresses the panel it names, or else the page's first", () => {
  assert.ok(addresses("demo=lora", "lora", 3));
  assert.ok(!addresses("demo=lora", "dpo", 0));
  assert.ok(addresses("lr=0.1", "dpo", 0));
  assert.ok(!addresses("lr=0.1", "lora", 1));
});

test("a field or chart declared only_when applies only under those choices", () => {
  const onlyWhen = { optimizer: ["momentum", "nesterov"] };
  assert.equal(applies(onlyWhen, { optimizer: "sgd" }), false);
  assert.equal(applies(onlyWhen, { optimizer: "nesterov" }), true);
  assert.equal(applies(onlyWhen, {}), true); // not chosen yet: the server's default decides
  assert.equal(applies(null, { optimizer: "sgd" }), true);
});

// An optional text (`str | None` in pydantic): bounds in the string branch of anyOf.
const TEXT_SCHEMA = {
  properties: {
    steps: { default: 400, maximum: 3000, minimum: 1, title: "Steps", type: "integer" },
    text: {
      anyOf: [{ maxLength: 16000, type: "string" }, { type: "null" }], default: null, min_chars: 500,
      private: true, title: "Your own text", widget: "textarea",
    },
  },
};

test("a reader's own text is checked on its bounds and never put in a share link", () => {
  const textSpecs = fieldSpecs(TEXT_SCHEMA);
  const text = textSpecs.find((s) => s.name === "text");
  assert.equal(text.type, "string");
  assert.equal(checkValue(text, "short"), "must be at least 500 characters");
  assert.equal(checkValue(text, "a".repeat(16001)), "must be at most 16000 characters");
  assert.equal(checkValue(text, "a".repeat(600)), null);
  const query = toQuery(textSpecs, { steps: 50, text: "a".repeat(600) }, "pretraining");
  assert.equal(query, "demo=pretraining&steps=50");
  assert.deepEqual(fromQuery(textSpecs, `steps=60&text=${"b".repeat(600)}`).params, { steps: 60 });
});

test("picking a choice that suggests settings sets those that differ, and says which", () => {
  const picked = suggestion(specs, spec("function"), { function: "rosenbrock", lr: 0.08, steps: 150 });
  assert.deepEqual(picked, { changes: { lr: 0.002 }, text: "Set for rosenbrock: Lr 0.002" });
  assert.equal(suggestion(specs, spec("function"), { function: "quadratic", lr: 0.08 }), null); // already so
  assert.equal(suggestion(specs, spec("lr"), { lr: 0.5 }), null); // a field that suggests nothing
});

test("text bounds count characters as the server does (code points), not UTF-16 units", () => {
  const spec = fieldSpecs({ properties: { text: { anyOf: [{ type: "string", maxLength: 5 }, { type: "null" }], min_chars: 2 } } })[0];
  assert.equal(charCount("🙂🙂🙂"), 3);
  assert.equal(checkValue(spec, "🙂🙂🙂🙂🙂"), null); // 10 UTF-16 units, 5 characters
  assert.equal(checkValue(spec, "🙂🙂🙂🙂🙂🙂"), "must be at most 5 characters");
});
