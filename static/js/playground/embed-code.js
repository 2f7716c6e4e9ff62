// The panel's "Embed" box: an <iframe> snippet of this playground in its current state.

import { embedUrl, iframeSnippet } from "./embed-options.js";

const CREDIT_PX = 48; // the credit line under the panel on the embed page

export class EmbedCode {
  constructor(section) {
    this.section = section;
    this.box = section.querySelector(".pg-embed");
    this.code = this.box && this.box.querySelector("textarea");
  }

  /** Show (with a fresh snippet) or hide the box; `button` says which in aria-expanded. */
  toggle(button, { name, query, runId, title }) {
    if (!this.box) return;
    const open = this.box.hidden;
    this.box.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (!open) return;
    const height = Math.ceil((this.section.offsetHeight + CREDIT_PX) / 10) * 10;
    this.code.value = iframeSnippet(embedUrl(location.origin, name, query, runId), title, height);
    this.code.focus();
    this.code.select();
  }

  /** Copies the snippet; resolves to the [text, tone] to flash. */
  async copy() {
    this.code.select();
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard");
      await navigator.clipboard.writeText(this.code.value);
      return ["Embed code copied", "ok"];
    } catch {
      return ["The code is selected: press Ctrl+C (⌘C on a Mac) to copy it", "ok"];
    }
  }
}
