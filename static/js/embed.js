// Entry point of /embed/... pages, after playground.js has started the panel: hides the controls
// the URL asks to hide, starts a run on `autoplay`, and tells the framing page its height.

import { embedOptions } from "./playground/embed-options.js";

function apply() {
  const section = document.querySelector("section.playground");
  if (!section) return;
  const fields = [...section.querySelectorAll(".pg-field[data-name]")];
  const { hidden, autoplay } = embedOptions(fields.map((f) => f.dataset.name), location.search);
  for (const field of fields) if (hidden.includes(field.dataset.name)) field.hidden = true;
  const form = section.querySelector("form.pg-controls");
  if (autoplay && form && !form.hidden && section.dataset.pgReady) form.requestSubmit();
  // A host page may listen for this and size its <iframe> to fit (see the README).
  const report = () => parent.postMessage({ type: "modelterms:height", height: document.documentElement.scrollHeight }, "*");
  if (parent !== window) new ResizeObserver(report).observe(document.body);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", apply, { once: true });
else apply();
