// One form field of a playground (slider, log slider, number, select, checkboxes): its value
// to send, share-link round trip, display and error state.

import { finite, fmtParam } from "./format.js";

export class Field {
  constructor(node, liveNames) {
    this.node = node;
    this.kind = node.dataset.kind;
    this.name = node.dataset.name;
    this.live = node.hasAttribute("data-live") || liveNames.has(this.name);
    this.inputs = [...node.querySelectorAll("input, select")];
    this.input = this.inputs[0] || null;
    this.output = node.querySelector("output");
    this.errorNode = node.querySelector(".pg-field-error");
    if (this.kind === "log" && this.input) {
      // The exact default (0.05) lives in the output; the slider only holds a rounded log10.
      const shown = parseFloat(this.output && this.output.textContent);
      this.real = finite(shown) && shown > 0 ? shown : this.fromLog(this.input.value);
    }
    this.display();
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
    if (finite(low)) value = Math.max(low, value);
    if (finite(high)) value = Math.min(high, value);
    return value;
  }

  /** Keep a range slider inside exclusive bounds (lt 1 -> max one step below 1). */
  applySchema(prop) {
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
    this.display(); // the browser clamps the value to the new bounds
  }

  integral() {
    return this.input && (this.input.step === "1" || parseFloat(this.input.step) === 1);
  }

  /** The value to send, or undefined when the field holds none (an empty number box). */
  value() {
    const input = this.input;
    if (!input) return undefined;
    switch (this.kind) {
      case "log":
        return this.real;
      case "range":
      case "number": {
        if (input.value.trim() === "") return undefined;
        const number = Number(input.value);
        if (!Number.isFinite(number)) return undefined;
        return this.integral() ? Math.round(number) : number;
      }
      case "select":
        return this.numericOptions ? Number(input.value) : input.value;
      case "checkbox":
        return input.checked;
      case "checkboxes":
        return this.inputs.filter((i) => i.checked).map((i) => i.value);
      default:
        return input.value;
    }
  }

  /** Set from a share-link string; anything that does not fit is ignored. */
  setFromString(text) {
    const input = this.input;
    if (!input || text == null) return;
    switch (this.kind) {
      case "log": {
        const value = Number(text);
        if (!finite(value) || value <= 0) return;
        const low = parseFloat(input.dataset.min);
        const high = parseFloat(input.dataset.max);
        if ((finite(low) && value < low) || (finite(high) && value > high)) return;
        this.real = value;
        input.value = String(Math.log10(value));
        break;
      }
      case "range":
      case "number": {
        const value = Number(text);
        if (text.trim() === "" || !Number.isFinite(value)) return;
        input.value = String(value);
        break;
      }
      case "select":
        if ([...input.options].some((o) => o.value === text)) input.value = text;
        break;
      case "checkbox":
        input.checked = ["1", "true", "on", "yes"].includes(text.toLowerCase());
        break;
      case "checkboxes": {
        const wanted = new Set(text.split(",").map((s) => s.trim()).filter(Boolean));
        this.inputs.forEach((i) => { i.checked = wanted.has(i.value); });
        break;
      }
      default:
        input.value = text;
    }
    this.display();
  }

  /** The value as a share-link string. */
  toParam() {
    const value = this.value();
    if (value === undefined) return undefined;
    if (Array.isArray(value)) return value.join(",");
    return String(value);
  }

  onInput() {
    if (this.kind === "log" && this.input) this.real = this.fromLog(this.input.value);
    this.display();
    this.clearError();
  }

  display() {
    if (!this.input) return;
    if (this.input.type === "range") {
      const low = parseFloat(this.input.min);
      const high = parseFloat(this.input.max);
      const at = parseFloat(this.input.value);
      const pct = high > low && finite(at) ? ((at - low) / (high - low)) * 100 : 50;
      this.input.style.setProperty("--pg-fill", `${Math.max(0, Math.min(100, pct)).toFixed(1)}%`);
    }
    if (!this.output) return;
    if (this.kind === "log") this.output.textContent = fmtParam(this.real);
    else if (this.kind === "range") {
      const value = this.value();
      const step = parseFloat(this.input.step);
      const decimals = finite(step) && step > 0 && step < 1 ? Math.min(6, Math.ceil(-Math.log10(step))) : 0;
      this.output.textContent = finite(value) ? String(Number(value.toFixed(decimals))) : "";
    }
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
