// One form field of a playground (slider, log slider, number, select, checkboxes, text) in the DOM:
// the value it holds, setting it, its display and error state. Its rules come from its spec
// (state.js); the markup comes from the server (templates/partials/panel.html). A slider has a
// number box beside it: the box holds the exact value (0.15 can be typed even where the log
// slider only reaches 0.148 or 0.151), the slider follows it, and either moves the other.

import { finite } from "./format.js";
import { charCount, checkValue, itemValue } from "./state.js";
import { readTextFile } from "./text-file.js";
import { unknownWarning } from "./vocabulary.js";

export class Field {
  constructor(node, spec) {
    this.node = node;
    this.kind = node.dataset.kind;
    this.name = node.dataset.name;
    this.spec = spec || null;
    this.live = node.hasAttribute("data-live") || !!(spec && spec.live);
    this.inputs = [...node.querySelectorAll("input, select, textarea")];
    this.input = this.inputs[0] || null;
    this.box = node.querySelector("input.pg-value");
    this.errorNode = node.querySelector(".pg-field-error");
    this.count = node.querySelector(".pg-text-count");
    this.unknown = node.querySelector(".pg-text-unknown");
    if (spec) this.applyBounds(spec);
    if (this.kind === "textarea") this.bindFile(node.querySelector('input[type="file"]'));
    this.display();
  }

  /** A chosen .txt file fills the text box, as if pasted (an `input` and a `change` event). */
  bindFile(picker) {
    if (!picker) return;
    picker.addEventListener("change", async (event) => {
      event.stopPropagation(); // the picker is no param: the form hears the text box instead
      const file = picker.files && picker.files[0];
      picker.value = ""; // the same file can be chosen again
      if (!file) return;
      const { text, error } = await readTextFile(file, Number(this.count.dataset.max));
      if (error) return this.showError(error);
      this.input.value = text;
      for (const type of ["input", "change"]) this.input.dispatchEvent(new Event(type, { bubbles: true }));
    });
    picker.addEventListener("input", (event) => event.stopPropagation());
  }

  get numericOptions() {
    if (this.kind !== "select" || !this.input) return false;
    const options = [...this.input.options];
    return options.length > 0 && options.every((o) => o.value.trim() !== "" && Number.isFinite(Number(o.value)));
  }

  fromLog(position) {
    const low = parseFloat(this.input.dataset.min);
    const high = parseFloat(this.input.dataset.max);
    let value = Number((10 ** parseFloat(position)).toPrecision(3));
    if (this.spec && this.spec.type === "integer") value = Math.round(value); // a count on a log slider
    if (finite(low)) value = Math.max(low, value);
    if (finite(high)) value = Math.min(high, value);
    return value;
  }

  /** Keep a range slider inside exclusive bounds (lt 1 -> max one step below 1), so that
   * dragging to the end never asks for a rejected value. */
  applyBounds(prop) {
    const input = this.input;
    if (this.kind !== "range" || !input) return;
    const step = parseFloat(input.step);
    if (!(step > 0)) return;
    if (finite(prop.exclusiveMaximum) && parseFloat(input.max) >= prop.exclusiveMaximum) {
      input.max = String(Number((prop.exclusiveMaximum - step).toPrecision(12)));
    }
    if (finite(prop.exclusiveMinimum) && parseFloat(input.min) <= prop.exclusiveMinimum) {
      input.min = String(Number((prop.exclusiveMinimum + step).toPrecision(12)));
    }
  }

  /** The value to send, or undefined when the field holds none (an empty number box without a
   * slider). A slider's box that holds no number gives NaN, which the checks name. */
  value() {
    const input = this.input;
    if (!input) return undefined;
    switch (this.kind) {
      case "log":
      case "range":
        return this.box ? (this.box.value.trim() === "" ? NaN : Number(this.box.value)) : Number(input.value);
      case "number": {
        if (input.value.trim() === "") return undefined;
        const number = Number(input.value);
        return Number.isFinite(number) ? number : NaN;
      }
      case "select":
        return this.numericOptions ? Number(input.value) : input.value;
      case "checkbox":
        return input.checked;
      case "checkboxes":
        return this.inputs.filter((i) => i.checked).map((i) => itemValue(this.spec, i.value));
      case "textarea": // empty: the demo's own text (the param left out)
        return input.value === "" ? undefined : input.value;
      default:
        return input.value;
    }
  }

  /** Why the value held breaks the field's spec, as a sentence, or null. */
  problem() {
    const value = this.value();
    if (!this.spec || value === undefined) return null;
    const problem = checkValue(this.spec, value);
    return problem && `${this.spec.title} ${problem}.`;
  }

  /** Set a value that fits the field's spec (see state.js). */
  setValue(value) {
    const input = this.input;
    if (!input || value === undefined) return;
    if (this.box) {
      this.box.value = String(value);
      this.follow();
    } else if (this.kind === "checkbox") input.checked = !!value;
    else if (this.kind === "checkboxes") {
      const wanted = new Set(value.map(String)); // the inputs' values are text
      this.inputs.forEach((i) => { i.checked = wanted.has(i.value); });
    } else input.value = value === null ? "" : String(value);
    this.display();
  }

  /** `target`: the element that moved (the slider or its box); the other one follows. */
  onInput(target) {
    if (this.box && target === this.input) this.box.value = String(this.sliderValue());
    else if (this.box) this.follow();
    this.display();
    this.clearError();
  }

  /** The value the slider's position stands for, rounded to what its steps can tell apart. */
  sliderValue() {
    if (this.kind === "log") return this.fromLog(this.input.value);
    const step = parseFloat(this.input.step);
    const decimals = finite(step) && step > 0 && step < 1 ? Math.min(6, Math.ceil(-Math.log10(step))) : 0;
    return Number(Number(this.input.value).toFixed(decimals));
  }

  /** Move the slider to the box's value (a value past its ends leaves it at the end). */
  follow() {
    const value = Number(this.box.value);
    if (this.box.value.trim() === "" || !Number.isFinite(value)) return;
    if (this.kind === "log") {
      if (value > 0) this.input.value = String(Math.log10(value));
    } else this.input.value = String(value);
    this.display();
  }

  display() {
    if (this.count) this.countChars();
    if (this.unknown && this.spec && this.spec.vocabulary) this.warnUnknown();
    if (!this.input || this.input.type !== "range") return;
    const low = parseFloat(this.input.min);
    const high = parseFloat(this.input.max);
    const at = parseFloat(this.input.value);
    const pct = high > low && finite(at) ? ((at - low) / (high - low)) * 100 : 50;
    this.input.style.setProperty("--pg-fill", `${Math.max(0, Math.min(100, pct)).toFixed(1)}%`);
    // Screen readers hear the value itself, not the slider's log10 position.
    if (this.box) this.input.setAttribute("aria-valuetext", this.box.value);
  }

  /** "1,234 of at most 16,000 characters", marked while the text is outside its bounds. */
  countChars() {
    const n = charCount(this.input.value);
    const { min, max } = this.count.dataset;
    this.count.textContent = `${n.toLocaleString("en")} of at most ${Number(max).toLocaleString("en")} characters`
      + (n > 0 && n < Number(min) ? ` (at least ${min} needed)` : "");
    this.count.classList.toggle("is-out", n > Number(max) || (n > 0 && n < Number(min)));
  }

  /** Before the run: the characters the base model has no id for, which the run will replace. */
  warnUnknown() {
    const warning = unknownWarning(this.input.value, this.spec.vocabulary);
    if (warning !== this.unknown.textContent) this.unknown.textContent = warning; // said once, not per key
    this.unknown.hidden = !warning;
  }

  setDisabled(disabled) {
    this.inputs.forEach((input) => { input.disabled = disabled; });
    this.node.classList.toggle("is-locked", disabled);
  }

  showError(message) {
    if (!this.errorNode) return;
    this.errorNode.textContent = message;
    this.errorNode.hidden = false;
    this.node.classList.add("has-error");
    this.inputs.forEach((i) => i.setAttribute("aria-invalid", "true"));
    if (this.errorNode.id === "") this.errorNode.id = `${this.input ? this.input.id || this.name : this.name}-error`;
    this.inputs.forEach((i) => i.setAttribute("aria-describedby", this.errorNode.id));
  }

  clearError() {
    if (!this.errorNode || this.errorNode.hidden) return;
    this.errorNode.hidden = true;
    this.errorNode.textContent = "";
    this.node.classList.remove("has-error");
    this.inputs.forEach((i) => { i.removeAttribute("aria-invalid"); i.removeAttribute("aria-describedby"); });
  }
}
