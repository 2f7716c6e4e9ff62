// Drawing on a chart's uPlot canvas: the loss surface behind a 2-D path, the markers of live
// changes on step charts, and point-by-point lines or scatters for any other x (with the
// suggested LR).

import { rgba } from "./colors.js";
import { finite, fmtParam, fmtValue } from "./format.js";
import { contourImage } from "./surface.js";

function clipToPlot(u) {
  const { left, top, width, height } = u.bbox;
  u.ctx.save();
  u.ctx.beginPath();
  u.ctx.rect(left, top, width, height);
  u.ctx.clip();
}

/** A dashed vertical line across the plot at canvas x. */
function dashedRule(u, x, color, width, dash) {
  const { top, height } = u.bbox;
  const ctx = u.ctx;
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.setLineDash(dash);
  ctx.beginPath();
  ctx.moveTo(x, top);
  ctx.lineTo(x, top + height);
  ctx.stroke();
  ctx.setLineDash([]);
}

const labelFont = (theme, pr) => `600 ${Math.round(10.5 * pr)}px ${theme.fontSans}`;

/** The surface as banded colours with darker band edges (contour lines), cached per size. */
export function paintSurface(chart, u) {
  const surface = chart.surface();
  if (!surface) return;
  const [x0, x1, y0, y1] = surface.view;
  const left = u.valToPos(x0, "x", true);
  const top = u.valToPos(y1, "y", true);
  const w = Math.round(u.valToPos(x1, "x", true) - left);
  const h = Math.round(u.valToPos(y0, "y", true) - top);
  if (!(w > 2 && h > 2)) return;
  const theme = chart.scene.theme;
  const key = `${chart.scene.surfaceName()}|${w}x${h}|${theme.token}`;
  if (!chart.heat || chart.heat.key !== key) {
    const canvas = contourImage(surface, w, h, theme);
    if (!canvas) return;
    chart.heat = { key, canvas };
  }
  u.ctx.save();
  u.ctx.imageSmoothingEnabled = true;
  u.ctx.drawImage(chart.heat.canvas, left, top, w, h);
  u.ctx.restore();
}

/** Where each line's label goes, [x, y] in canvas pixels (null when it has no point): a step
 * chart's last point; a third of the way along a path (paths share their start, and often
 * their end, the minimum). */
function labelPlaces(chart, u) {
  if (!chart.stepX) {
    return chart.xy.map(({ pts }) => {
      const at = pts[Math.floor((pts.length - 1) / 3)];
      return at ? [u.valToPos(at[0], "x", true), u.valToPos(at[1], "y", true)] : null;
    });
  }
  const [xs, ...columns] = u.data;
  return columns.map((column) => {
    let i = column.length - 1;
    while (i >= 0 && column[i] == null) i--;
    return i >= 0 ? [u.valToPos(xs[i], "x", true), u.valToPos(column[i], "y", true)] : null;
  });
}

/** A reference run's lines say so on the chart itself (see reference.js). */
export function paintReferenceLabels(chart, u) {
  const ends = labelPlaces(chart, u);
  const theme = chart.scene.theme;
  const pr = window.devicePixelRatio || 1;
  const { left, top, width, height } = u.bbox;
  const ctx = u.ctx;
  clipToPlot(u);
  ctx.font = labelFont(theme, pr);
  ctx.textAlign = "left"; // uPlot leaves its axes' alignment on the context
  ctx.textBaseline = "bottom";
  chart.lines.forEach((line, i) => {
    if (!line.isReference || !ends[i] || !finite(ends[i][0]) || !finite(ends[i][1])) return;
    const [x, y] = ends[i];
    const w = ctx.measureText(line.label).width;
    const tx = Math.max(left + 2 * pr, Math.min(x - w / 2, left + width - w - 2 * pr));
    const ty = Math.max(top + 14 * pr, Math.min(y - 4 * pr, top + height - 2 * pr));
    ctx.fillStyle = rgba(theme.rgb.bg, 0.8);
    ctx.fillRect(tx - 2 * pr, ty - 13 * pr, w + 4 * pr, 13 * pr);
    ctx.fillStyle = theme.fg;
    ctx.fillText(line.label, tx, ty);
  });
  ctx.restore();
}

/** Dashed vertical markers at the steps where live changes applied (current run only). */
export function paintMarkers(chart, u) {
  const run = chart.scene.history.current;
  if (!run || !run.controls.length) return;
  const theme = chart.scene.theme;
  const pr = window.devicePixelRatio || 1;
  const { left, top, width } = u.bbox;
  const ctx = u.ctx;
  clipToPlot(u);
  ctx.textAlign = "left";
  ctx.font = labelFont(theme, pr);
  ctx.textBaseline = "top";
  let lastLabelEnd = -Infinity;
  let row = 0;
  for (const control of run.controls) {
    const x = Math.round(u.valToPos(control.step, "x", true)) + 0.5;
    if (!(x >= left && x <= left + width)) continue;
    dashedRule(u, x, rgba(theme.rgb.warn, 0.9), Math.max(1, pr), [4 * pr, 3 * pr]);
    const text = Object.entries(control.changes).map(([k, v]) => `${k}→${fmtValue(v)}`).join(" ");
    const textWidth = ctx.measureText(text).width + 8 * pr;
    let tx = x + 3 * pr;
    if (tx + textWidth > left + width) tx = x - 3 * pr - textWidth;
    row = tx < lastLabelEnd ? (row + 1) % 3 : 0;
    const ty = top + (4 + row * 16) * pr;
    ctx.fillStyle = rgba(theme.rgb.bg, 0.85);
    ctx.fillRect(tx, ty - 1 * pr, textWidth, 14 * pr);
    ctx.fillStyle = theme.warn;
    ctx.fillText(text, tx + 4 * pr, ty);
    lastLabelEnd = Math.max(lastLabelEnd, tx + textWidth);
  }
  ctx.restore();
}

function dot(ctx, pr, x, y, r, fill, stroke, lineWidth = 1.5) {
  if (!finite(x) || !finite(y)) return;
  ctx.beginPath();
  ctx.arc(x, y, r * pr, 0, Math.PI * 2);
  if (fill) { ctx.fillStyle = fill; ctx.fill(); }
  if (stroke) { ctx.strokeStyle = stroke; ctx.lineWidth = lineWidth * pr; ctx.stroke(); }
}

/** A suggested learning rate (LR range test) as a vertical line on x = lr charts. */
function paintSuggestion(chart, u, pr) {
  const end = chart.scene.history.current && chart.scene.history.current.end;
  const suggested = end && end.summary ? end.summary.suggested_lr : null;
  if (chart.xKey !== "lr" || !finite(suggested)) return;
  const x = u.valToPos(suggested, "x", true);
  if (!finite(x)) return;
  const { ctx } = u;
  const { left, top, width } = u.bbox;
  const theme = chart.scene.theme;
  dashedRule(u, x, theme.ok, 1.5 * pr, [5 * pr, 4 * pr]);
  ctx.font = labelFont(theme, pr);
  ctx.fillStyle = theme.ok;
  ctx.textBaseline = "top";
  const label = `suggested ${fmtParam(suggested)}`;
  const w = ctx.measureText(label).width;
  ctx.fillText(label, x + 4 * pr + w > left + width ? x - 4 * pr - w : x + 4 * pr, top + 4 * pr);
}

/** Before a run: where the point will start on the surface, from the form. */
function paintStart(chart, u, pr) {
  const start = chart.scene.startPoint();
  if (!start || !finite(start.x) || !finite(start.y)) return;
  const { ctx } = u;
  const theme = chart.scene.theme;
  const px = u.valToPos(start.x, "x", true);
  const py = u.valToPos(start.y, "y", true);
  ctx.beginPath();
  ctx.arc(px, py, 5 * pr, 0, Math.PI * 2);
  ctx.fillStyle = theme.bg;
  ctx.fill();
  ctx.strokeStyle = theme.fg;
  ctx.lineWidth = 2 * pr;
  ctx.stroke();
  ctx.font = labelFont(theme, pr);
  ctx.fillStyle = theme.fg;
  ctx.textBaseline = "middle";
  ctx.fillText("start", px + 8 * pr, py);
}

/** A line's points joined in the order they were logged, broken where one cannot be placed. */
function strokeLine(ctx, pr, line, coords) {
  ctx.strokeStyle = line.stroke;
  ctx.lineWidth = line.width * pr;
  ctx.setLineDash(line.dash.map((d) => d * pr));
  ctx.beginPath();
  let pen = false;
  for (const [x, y] of coords) {
    if (!finite(x) || !finite(y)) { pen = false; continue; }
    if (pen) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
    pen = true;
  }
  ctx.stroke();
  ctx.setLineDash([]);
}

/** A scatter: every point a dot, a disc for a solid line's points and a ring for a dashed one's
 * (an earlier run, the reference), as the exported figure draws them (figure-svg.js). */
function scatterDots(ctx, pr, line, coords) {
  const ring = line.dash.length > 0;
  for (const [x, y] of coords) dot(ctx, pr, x, y, 2.6, ring ? null : line.stroke, ring ? line.stroke : null, 1.2);
}

/** Points for charts whose x is not the step: lines in point order, or a scatter of dots. */
export function paintPaths(chart, u) {
  const theme = chart.scene.theme;
  const pr = window.devicePixelRatio || 1;
  const ctx = u.ctx;
  const surface = !!chart.surface();
  clipToPlot(u);
  ctx.textAlign = "left";
  ctx.lineJoin = "round";
  ctx.lineCap = "round";
  paintSuggestion(chart, u, pr);
  for (const { line, pts } of chart.xy) {
    if (!pts.length) continue;
    const coords = pts.map(([x, y]) => [u.valToPos(x, "x", true), u.valToPos(y, "y", true)]);
    if (chart.dots) scatterDots(ctx, pr, line, coords);
    else strokeLine(ctx, pr, line, coords);
    if (!chart.dots && line.isCurrent && coords.length <= 600) {
      const color = surface ? rgba(line.color, 0.85) : line.stroke;
      for (const [x, y] of coords) dot(ctx, pr, x, y, surface ? 1.9 : 1.6, color);
    }
    const [sx, sy] = coords[0];
    const [ex, ey] = coords[coords.length - 1];
    if (surface) dot(ctx, pr, sx, sy, line.isCurrent ? 4.5 : 3.5, theme.bg, line.stroke); // start: a ring
    if (line.isCurrent) {
      dot(ctx, pr, ex, ey, 7.5, rgba(theme.rgb.bg, 0.75));
      dot(ctx, pr, ex, ey, 5, surface ? theme.accent : line.stroke, theme.bg);
    } else if (!chart.dots) {
      dot(ctx, pr, ex, ey, 3, line.stroke);
    }
  }
  if (surface && !chart.xy.some((l) => l.line.isCurrent && l.pts.length)) paintStart(chart, u, pr);
  if (chart.hover) {
    const px = u.valToPos(chart.hover.x, "x", true);
    const py = u.valToPos(chart.hover.y, "y", true);
    if (finite(px) && finite(py)) dot(ctx, pr, px, py, 6, null, theme.fg, 2);
  }
  ctx.restore();
}
