// Axis ticks and ranges for the charts: round linear and log10 tick positions, padded ranges.

import { finite } from "./format.js";

/** Tick positions for a linear axis: about `count` round numbers; never more than 100. */
export function linearSplits(min, max, count) {
  if (!finite(min) || !finite(max)) return [];
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const splits = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9 && splits.length < 100; v += step) {
    splits.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  }
  return splits;
}

/** Tick positions for a log10 axis: decades (every k-th when many), or 1-2-5 (1..9) within few. */
export function logSplits(min, max, count) {
  if (!(min > 0) || !(max > min)) return min > 0 ? [min] : [];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const span = Math.log10(max) - Math.log10(min);
  const inside = (v) => v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9);
  const splits = [];
  if (span <= 2.3) {
    const mults = span <= 0.8 ? [1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9] : span <= 1.4 ? [1, 2, 3, 5] : [1, 2, 5];
    for (let e = lo; e <= hi; e++) {
      for (const m of mults) {
        const v = Number((m * 10 ** e).toPrecision(6));
        if (inside(v)) splits.push(v);
      }
    }
    if (splits.length >= 2 && splits.length <= count * 2) return splits;
    if (splits.length < 2) return linearSplits(min, max, Math.min(count, 4)).filter((v) => v > 0);
  }
  splits.length = 0;
  const want = (hi - lo) / Math.max(2, count * 1.5);
  const stride = [1, 2, 3, 4, 5, 10, 15, 20, 25, 50, 100, 200].find((k) => k >= want) || Math.ceil(want);
  for (let e = Math.ceil(lo / stride) * stride; e <= hi && splits.length < 100; e += stride) {
    const v = Number((10 ** e).toPrecision(6));
    if (inside(v)) splits.push(v);
  }
  return splits;
}

/** A log scale's range: the data's, widened to whole decades when they span several. */
export function logRange(min, max) {
  if (!(min > 0) || !(max > 0)) return [0.1, 10];
  let lo = Math.log10(min);
  let hi = Math.log10(max);
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  const pad = (hi - lo) * 0.05;
  return [10 ** (lo - pad), 10 ** (hi + pad)];
}

export function padRange(values, log) {
  const good = values.filter((v) => finite(v) && (!log || v > 0));
  if (!good.length) return log ? [0.1, 10] : [0, 1];
  let min = Math.min(...good);
  let max = Math.max(...good);
  if (log) {
    const lo = Math.log10(min);
    const hi = Math.log10(max);
    const pad = Math.max(0.05, (hi - lo) * 0.05);
    return [10 ** (lo - pad), 10 ** (hi + pad)];
  }
  if (min === max) {
    const pad = Math.abs(min) * 0.1 || 1;
    return [min - pad, max + pad];
  }
  const pad = (max - min) * 0.06;
  min -= pad;
  max += pad;
  return [min, max];
}
