// What an embed URL asks for: controls hidden or shown, autoplay, and the snippet's URL.

import assert from "node:assert/strict";
import { test } from "node:test";

import { embedOptions, embedUrl, iframeSnippet } from "../../static/js/playground/embed-options.js";

const NAMES = ["lr", "momentum", "steps", "seed"];

test("hide= hides those controls, controls= shows only those", () => {
  assert.deepEqual(embedOptions(NAMES, "?hide=steps,seed").hidden, ["steps", "seed"]);
  assert.deepEqual(embedOptions(NAMES, "?controls=lr").hidden, ["momentum", "steps", "seed"]);
  assert.deepEqual(embedOptions(NAMES, "?controls=lr,steps&hide=steps").hidden, ["momentum", "steps", "seed"]);
  assert.deepEqual(embedOptions(NAMES, "?lr=0.1").hidden, []);
});

test("autoplay is on for autoplay, autoplay=1 or true, off otherwise", () => {
  for (const query of ["?autoplay", "?autoplay=1", "?autoplay=true"]) assert.equal(embedOptions(NAMES, query).autoplay, true);
  for (const query of ["", "?autoplay=0", "?autoplay=no"]) assert.equal(embedOptions(NAMES, query).autoplay, false);
});

test("the embed URL keeps the share link's params but not demo=", () => {
  assert.equal(embedUrl("http://h", "lora", "demo=lora&lr=0.01&rank=8"), "http://h/embed/lora?lr=0.01&rank=8");
  assert.equal(embedUrl("http://h", "lora", ""), "http://h/embed/lora");
  assert.equal(embedUrl("http://h", "lora", "", "abc123"), "http://h/embed/runs/abc123");
});

test("the snippet escapes what it quotes", () => {
  const snippet = iframeSnippet('http://h/embed/x?a=1&b="2"', "A <b> title", 900);
  assert.equal(snippet, '<iframe src="http://h/embed/x?a=1&amp;b=&quot;2&quot;" title="A &lt;b> title" width="100%" height="900" style="border:0" loading="lazy" allow="clipboard-write"></iframe>');
});
