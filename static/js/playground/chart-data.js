// What a chart draws, from the runs: one line per (run, y key, series) with its colour and dash,
// and the data in uPlot's shape (x = step: columns over the union of steps) or as point lists
// (any other x: a 2-D path, KL, the LR, tokens).

import { rgba } from "./colors.js";
import { finite, humanize } from "./format.js";

const OVERLAY_DASHES = [[6, 4], [2, 3], [10, 3, 2, 3], [4, 4], [1, 3]];
// A reference run (history.reference): long dashes in the text colour, whatever its series, so
// it reads as the yardstick and never as one of the reader's own runs.
export const REFERENCE_DASH = [9, 5];

/** colorIndex(key, series) keeps a line's colour stable as runs come and go. */
export function buildLines({ yKeys, runs, current, theme, surface, colorIndex }) {
  const lines = [];
  const overlays = runs.filter((r) => r !== current && !r.isReference);
  for (const run of runs) {
    const isCurrent = run === current;
    const isReference = !!run.isReference;
    const age = isCurrent ? 0 : overlays.length - overlays.indexOf(run); // 1 = newest overlay
    const names = run.seriesNames;
    if (!names.length) continue; // no points yet: its series are unknown
    const multiple = yKeys.length > 1 || names.length > 1 || names[0] != null;
    for (const key of yKeys) {
      for (const series of names) {
        if (!run.carries(key, series)) continue;
        const base = surface ? theme.rgb.fg : theme.palette[colorIndex(key, series) % theme.palette.length];
        const alpha = isCurrent ? 1 : Math.max(0.22, 0.6 - 0.08 * (age - 1));
        let label = humanize(key);
        if (multiple && series != null) label = yKeys.length > 1 ? `${label} · ${series}` : String(series);
        if (isReference) {
          lines.push({
            id: `ref:${run.id}:${key}:${series}`, run, key, series, isCurrent: false, isReference,
            color: theme.rgb.fg, stroke: rgba(theme.rgb.fg, 0.7), width: 2, dash: REFERENCE_DASH,
            label: multiple ? `reference ${label}` : "reference",
          });
          continue;
        }
        lines.push({
          id: `${run.num}:${key}:${series}`,
          run,
          key,
          series,
          isCurrent,
          color: base,
          stroke: rgba(base, alpha),
          width: isCurrent ? 2 : 1.5,
          dash: isCurrent ? [] : OVERLAY_DASHES[(run.num - 1) % OVERLAY_DASHES.length],
          label: isCurrent || runs.length === 1 ? label : `#${run.num} ${label}`,
        });
      }
    }
  }
  return lines;
}

const seriesOf = (point) => (point.series == null ? null : String(point.series));

/** x = step: [steps, column per line], null where a line has no value at a step. */
export function alignedData(lines) {
  const steps = new Set();
  for (const run of new Set(lines.map((l) => l.run))) for (const p of run.points) if (finite(p.step)) steps.add(p.step);
  const xs = [...steps].sort((a, b) => a - b);
  const index = new Map(xs.map((s, i) => [s, i]));
  const columns = lines.map((line) => {
    const column = new Array(xs.length).fill(null);
    for (const p of line.run.points) {
      if (seriesOf(p) !== line.series) continue;
      const value = p[line.key];
      if (finite(value) && finite(p.step)) column[index.get(p.step)] = value;
    }
    return column;
  });
  return [xs, ...columns];
}

/** Any other x: per line, its [x, y, point] triples in point order. */
export function xyData(lines, xKey) {
  return lines.map((line) => {
    const pts = [];
    for (const p of line.run.points) {
      if (seriesOf(p) !== line.series) continue;
      if (finite(p[xKey]) && finite(p[line.key])) pts.push([p[xKey], p[line.key], p]);
    }
    return { line, pts };
  });
}
