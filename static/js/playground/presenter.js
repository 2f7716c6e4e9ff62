// The presenter layout, for a projector or a phone: the panel fills the screen, its controls
// beside the charts (below them on a narrow screen, where the live ones dock while a run trains),
// in large type, and the charts taller with larger axis text. On with `?layout=present` (term
// pages and embeds) or the panel's "Present" button; the URL keeps it, so a reload or a shared
// link opens in it. Escape leaves it.

import { withParam } from "./tools.js";

const LAYOUT_PARAM = "layout";
const PRESENT = "present";

export class Presenter {
  /** panel: its section, and onTheme() to redraw the charts at the new size and type. */
  constructor(panel, query, addressed) {
    this.panel = panel;
    this.section = panel.section;
    this.button = this.section.querySelector('[data-action="present"]');
    this.on = false;
    // On the document: with the page behind it covered, focus may be anywhere (or nowhere).
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.on && !event.defaultPrevented) this.set(false);
    });
    if (addressed && query && new URLSearchParams(query).get(LAYOUT_PARAM) === PRESENT) this.set(true, { keepUrl: true });
  }

  toggle() {
    this.set(!this.on);
  }

  set(on, { keepUrl = false } = {}) {
    this.on = on;
    this.section.classList.toggle("is-presenting", on);
    document.documentElement.classList.toggle("pg-presenting", on);
    if (this.button) {
      this.button.setAttribute("aria-pressed", String(on));
      this.button.textContent = on ? "Leave presenter view" : "Present";
    }
    if (!keepUrl) history.replaceState(history.state, "", withParam(location.href, LAYOUT_PARAM, on ? PRESENT : null));
    this.panel.onTheme(); // chart size and axis text are the theme's (--pg-chart-scale): rebuild them
  }
}
