// The live changes of the current run as chips under the status line ("lr → 0.03 at step 41");
// the charts mark the same steps (chart-paint.js).

import { el } from "./dom.js";
import { fmtValue } from "./format.js";

export class ChangeList {
  constructor(statusNode) {
    this.node = el("ol", "pg-changes");
    this.node.setAttribute("aria-label", "Live changes");
    this.node.hidden = true;
    if (statusNode) statusNode.after(this.node);
  }

  add(step, params) {
    const text = `${Object.entries(params).map(([k, v]) => `${k} → ${fmtValue(v)}`).join(", ")} at step ${step}`;
    this.node.append(el("li", "", text));
    this.node.hidden = false;
  }

  clear() {
    this.node.replaceChildren();
    this.node.hidden = true;
  }
}
