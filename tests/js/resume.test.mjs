// The run a panel instance follows, kept per tab so a reload can reattach to it, and one entry
// per instance: per page and panel, per embed frame, and never one run for two live tabs.

import assert from "node:assert/strict";
import { test } from "node:test";

import { RunMemory, frameIndex, instanceKey } from "../../static/js/playground/resume.js";

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

/** The Web Locks API as far as RunMemory uses it: exclusive locks by name, a waiting request
 * that gives up when its signal aborts, and `drop(name)` for a document that went away. */
class FakeLocks {
  constructor() {
    this.held = new Map(); // name -> requests waiting for it
  }
  request(name, { signal }, callback) {
    return new Promise((resolve, reject) => {
      const grant = () => {
        this.held.set(name, this.held.get(name) || []);
        resolve(callback({ name }));
      };
      if (!this.held.has(name)) return grant();
      this.held.get(name).push(grant);
      signal.addEventListener("abort", () => {
        this.held.set(name, (this.held.get(name) || []).filter((g) => g !== grant));
        reject(signal.reason);
      });
    });
  }
  drop(name) {
    const waiting = this.held.get(name) || [];
    this.held.delete(name);
    const next = waiting.shift();
    if (next) {
      next();
      this.held.get(name).push(...waiting);
    }
  }
}

// AbortSignal.timeout's timer does not keep Node's event loop alive: this does, while a claim waits.
async function awake(promise) {
  const alive = setInterval(() => {}, 50);
  try {
    return await promise;
  } finally {
    clearInterval(alive);
  }
}

const page = (pathname, search = "", referrer = "") => ({ pathname, search, referrer });

test("a remembered run comes back with its control token, per page and panel", () => {
  const storage = new MapStorage();
  const key = instanceKey(page("/terms/lora"), "playground-lora");
  const memory = new RunMemory(key, { storage, locks: null });
  assert.equal(memory.recall(), null);
  memory.remember({ id: "r7", controlToken: "t0k", num: 3 });
  assert.deepEqual(new RunMemory(key, { storage, locks: null }).recall(), { id: "r7", token: "t0k", num: 3 });
  assert.equal(new RunMemory(instanceKey(page("/playground"), "playground-lora"), { storage, locks: null }).recall(), null);
  memory.forget();
  assert.equal(memory.recall(), null);
});

test("a page's key ignores its query (a share link written into the address bar keeps the run)", () => {
  assert.equal(instanceKey(page("/terms/lora", "?demo=lora&rank=8"), "playground-lora"), instanceKey(page("/terms/lora"), "playground-lora"));
});

test("embed frames are told apart by their settings, their place and the page framing them", () => {
  const first = instanceKey(page("/embed/gradient-descent", "?lr=0.08&steps=150", "http://course/"), "playground-gradient-descent", 0);
  const second = instanceKey(page("/embed/gradient-descent", "?lr=0.15&steps=80&autoplay=1", "http://course/"), "playground-gradient-descent", 1);
  const sameUrl = instanceKey(page("/embed/gradient-descent", "?lr=0.08&steps=150", "http://course/"), "playground-gradient-descent", 1);
  const elsewhere = instanceKey(page("/embed/gradient-descent", "?lr=0.08&steps=150", "http://other/"), "playground-gradient-descent", 0);
  assert.equal(new Set([first, second, sameUrl, elsewhere]).size, 4);
  const reloaded = instanceKey(page("/embed/gradient-descent", "?lr=0.08&steps=150", "http://course/"), "playground-gradient-descent", 0);
  assert.equal(reloaded, first);
});

test("frameIndex finds a window among its parent's frames, and is null at the top", () => {
  const parent = { frames: [] };
  parent.parent = parent;
  const a = { parent };
  const b = { parent };
  parent.frames.push(a, b);
  assert.equal(frameIndex(parent), null);
  assert.equal(frameIndex(a), 0);
  assert.equal(frameIndex(b), 1);
  const refusing = { get parent() { throw new Error("blocked"); } };
  assert.equal(frameIndex(refusing), null);
});

test("a second live instance with the same key (a duplicated tab) takes a slot of its own", async () => {
  const locks = new FakeLocks();
  const storage = new MapStorage(); // a duplicated tab starts with a copy of this
  const key = instanceKey(page("/terms/lora"), "playground-lora");
  const first = new RunMemory(key, { storage, locks });
  assert.equal(await first.claim(), key);
  first.remember({ id: "r1", controlToken: "t1", num: 1 });
  const copy = new MapStorage();
  copy.items = new Map(storage.items);
  const duplicate = new RunMemory(key, { storage: copy, locks });
  assert.equal(await awake(duplicate.claim()), `${key}~2`);
  assert.equal(duplicate.recall(), null); // it starts clean instead of steering the first tab's run
});

test("a reload gets its own key back once the previous document lets go", async () => {
  const locks = new FakeLocks();
  const storage = new MapStorage();
  const key = instanceKey(page("/embed/lora", "?rank=4", "http://course/"), "playground-lora", 1);
  const before = new RunMemory(key, { storage, locks });
  await before.claim();
  before.remember({ id: "r9", controlToken: "t9", num: 2 });
  const after = new RunMemory(key, { storage, locks });
  const claimed = after.claim(); // requested while the old document still holds it
  setTimeout(() => locks.drop(key), 50);
  assert.equal(await awake(claimed), key);
  assert.deepEqual(after.recall(), { id: "r9", token: "t9", num: 2 });
});

test("without storage, locks, or with junk in storage, nothing is recalled and nothing throws", async () => {
  const key = instanceKey(page("/"), "p");
  assert.equal(new RunMemory(key, { storage: null, locks: null }).recall(), null);
  assert.equal(await new RunMemory(key, { storage: null, locks: null }).claim(), key);
  new RunMemory(key, { storage: null, locks: null }).remember({ id: "r1", controlToken: null, num: 1 });
  const storage = new MapStorage();
  storage.setItem(key, "{not json");
  assert.equal(new RunMemory(key, { storage, locks: null }).recall(), null);
  const refusing = { getItem: () => { throw new Error("denied"); }, setItem: () => { throw new Error("full"); }, removeItem() {} };
  assert.equal(new RunMemory(key, { storage: refusing, locks: null }).recall(), null);
  new RunMemory(key, { storage: refusing, locks: null }).remember({ id: "r1", controlToken: null, num: 1 });
});
