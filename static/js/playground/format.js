// Value checks and formatting for people: numbers, durations, sizes, param values, CSV cells.
// Pure functions, no DOM.

export function humanize(key) {
  return String(key).replace(/_/g, " ");
}

export function isPlainObject(value) {
  return value != null && typeof value === "object" && !Array.isArray(value);
}

export function finite(value) {
  return typeof value === "number" && Number.isFinite(value);
}

function trimZeros(text) {
  return text.includes("e")
    ? text.replace(/\.?0+e/, "e").replace("e+", "e")
    : text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

/** A number for people: integers below a million in full with separators, others to 4
 * significant digits, in powers of ten from a million up, whether they are whole or not (a
 * diverging loss that happens to be whole reads 1.546e12 beside 1.819e12, not 1,546,188,226,560). */
export function fmtNum(value, digits = 4) {
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e6) return value.toLocaleString("en-US");
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-4)) return trimZeros(value.toExponential(digits - 1));
  return trimZeros(value.toPrecision(digits));
}

/** A param value as a slider shows it: 3 significant digits (0.0316). */
export function fmtParam(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e6)) return trimZeros(value.toExponential(2));
  return String(Number(value.toPrecision(3)));
}

/** Axis tick labels: short. */
export function fmtTick(value) {
  if (value == null || !Number.isFinite(value)) return "";
  const abs = Math.abs(value);
  if (abs === 0) return "0";
  if (abs >= 1e5 || abs < 1e-3) return trimZeros(value.toExponential(1)).replace("e-", "e−");
  return String(Number(value.toPrecision(4))).replace("-", "−");
}

export function fmtBytes(bytes) {
  if (!finite(bytes)) return String(bytes);
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : fmtNum(value, 3)} ${units[unit]}`;
}

export function fmtDuration(seconds) {
  if (!finite(seconds) || seconds < 0) return "";
  if (seconds < 1) return "<1 s";
  if (seconds < 10) return `${seconds.toFixed(1).replace(/\.0$/, "")} s`;
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

/** A value in a sentence or a run label: 0.05, sgd, on/off, a,b. */
export function fmtValue(value) {
  if (typeof value === "number") return fmtParam(value);
  if (typeof value === "boolean") return value ? "on" : "off";
  if (Array.isArray(value)) return value.map(fmtValue).join(",");
  if (value == null) return "—";
  return String(value);
}

export function csvCell(value) {
  if (value == null) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
