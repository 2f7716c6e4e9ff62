// Entry point of /embed/... pages, after playground.js has started the panel: hides the controls
// the URL asks to hide, starts a run on `autoplay` (unless the frame found its own run again
// after a reload), and tells the framing page the height of its content.

import { embedOptions } from "./playground/embed-options.js";

/** Resolves once the panel knows whether it follows a run kept from before a reload. */
function panelReady(section) {
  if (section.dataset.pgResumed !== undefined) return Promise.resolve(section.dataset.pgResumed === "1");
  return new Promise((resolve) => {
    section.addEventListener("pg:ready", (event) => resolve(event.detail.resumed), { once: true });
  });
}

/** The content's own height: the frame's document is at least as tall as the frame, so
 * measuring it would never let a frame shrink to fit. */
function reportHeight(content) {
  const height = Math.ceil(content.getBoundingClientRect().height);
  parent.postMessage({ type: "modelterms:height", height }, "*");
}

async function apply() {
  const section = document.querySelector("section.playground");
  if (!section) return;
  const fields = [...section.querySelectorAll(".pg-field[data-name]")];
  const { hidden, autoplay } = embedOptions(fields.map((f) => f.dataset.name), location.search);
  for (const field of fields) if (hidden.includes(field.dataset.name)) field.hidden = true;
  // A host page may listen for this and size its <iframe> to fit (see the README).
  const content = document.querySelector(".embed-main");
  if (parent !== window && content) {
    new ResizeObserver(() => reportHeight(content)).observe(content);
    // A frame out of sight is not rendered (so not observed) until scrolled to: say it once
    // loaded too, so a frame further down the page is sized before the reader gets there.
    addEventListener("load", () => reportHeight(content), { once: true });
  }
  const form = section.querySelector("form.pg-controls");
  if (!autoplay || !form || form.hidden || !section.dataset.pgReady) return;
  const resumed = await panelReady(section);
  if (!resumed) form.requestSubmit();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", apply, { once: true });
else apply();
