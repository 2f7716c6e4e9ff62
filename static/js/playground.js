// ModelTerms playgrounds: params form -> POST a run -> EventSource -> uPlot charts. This entry
// point starts one Panel (./playground/panel.js) per `section.playground` and re-themes them.

import { el } from "./playground/dom.js";
import { Panel } from "./playground/panel.js";

const panels = [];

function init() {
  const query = new URLSearchParams(location.search);
  // An embed page names the glossary page its share links lead to (templates/embed.html).
  const sitePage = document.querySelector("[data-site-page]")?.dataset.sitePage || null;
  document.querySelectorAll("section.playground").forEach((section, index) => {
    if (section.dataset.pgReady) return;
    section.dataset.pgReady = "1";
    try {
      panels.push(new Panel(section, index, query, { sitePage }));
    } catch (error) {
      const errors = section.querySelector(".pg-errors");
      if (errors) errors.append(el("li", "", `This playground could not start (${error.message}).`));
    }
  });
  const retheme = () => panels.forEach((p) => p.onTheme());
  new MutationObserver(retheme).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    if (!document.documentElement.dataset.theme) retheme();
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init, { once: true });
else init();
