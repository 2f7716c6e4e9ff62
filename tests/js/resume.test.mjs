// The run a panel follows, kept per tab so a reload can reattach to it.

import assert from "node:assert/strict";
import { test } from "node:test";

import { RunMemory } from "../../static/js/playground/resume.js";

class MapStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
  removeItem(key) {
    this.items.delete(key);
  }
}

test("a remembered run comes back with its control token, per page and panel", () => {
  const storage = new MapStorage();
  const memory = new RunMemory("/terms/lora", "playground-lora", storage);
  assert.equal(memory.recall(), null);
  memory.remember({ id: "r7", controlToken: "t0k", num: 3 });
  assert.deepEqual(new RunMemory("/terms/lora", "playground-lora", storage).recall(), { id: "r7", token: "t0k", num: 3 });
  assert.equal(new RunMemory("/playground", "playground-lora", storage).recall(), null);
  memory.forget();
  assert.equal(memory.recall(), null);
});

test("without storage, or with junk in it, nothing is recalled and nothing throws", () => {
  assert.equal(new RunMemory("/", "p", null).recall(), null);
  new RunMemory("/", "p", null).remember({ id: "r1", controlToken: null, num: 1 });
  const storage = new MapStorage();
  storage.setItem("modelterms:run:/#p", "{not json");
  assert.equal(new RunMemory("/", "p", storage).recall(), null);
  const refusing = { getItem: () => { throw new Error("denied"); }, setItem: () => { throw new Error("full"); }, removeItem() {} };
  assert.equal(new RunMemory("/", "p", refusing).recall(), null);
  new RunMemory("/", "p", refusing).remember({ id: "r1", controlToken: null, num: 1 });
});
