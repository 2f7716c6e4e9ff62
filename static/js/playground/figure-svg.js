// A chart as a standalone SVG figure for slides and handouts: title, axes with ticks and labels,
// the lines (as vector paths, from the chart's data and scales) or a scatter's dots, and a legend
// below. Pure: it takes a plain description of the figure (see chartSvg) and returns the SVG's text. No DOM.

const TITLE_PX = 15;
const TEXT_PX = 12;
const TICK_PX = 11;
const CHAR_EM = 0.6; // a generous width of one character of a sans-serif face, in em
const LEGEND_ROW = 20;
const SWATCH = 26;

/** Text for XML: the five characters that could end it or start markup. */
export function escapeXml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]);
}

const textWidth = (text, px) => String(text).length * px * CHAR_EM;
const num = (v) => String(Math.round(v * 100) / 100);

/** Where `value` falls on an axis {min, max, log} between pixels `from` and `to` (null when it
 * cannot be placed: not finite, or not positive on a log axis). */
export function place(value, axis, from, to) {
  if (typeof value !== "number" || !Number.isFinite(value)) return null;
  if (axis.log && !(value > 0)) return null;
  const t = axis.log
    ? (Math.log10(value) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min))
    : (value - axis.min) / (axis.max - axis.min);
  return Number.isFinite(t) ? from + t * (to - from) : null;
}

/** A line's path: "M" at its first point and after every gap (a point that cannot be placed). */
export function pathData(points, x, y, box) {
  const parts = [];
  let pen = false;
  for (const [vx, vy] of points) {
    const px = place(vx, x, box.left, box.right);
    const py = place(vy, y, box.bottom, box.top);
    if (px == null || py == null) {
      pen = false;
      continue;
    }
    parts.push(`${pen ? "L" : "M"}${num(px)} ${num(py)}`);
    pen = true;
  }
  return parts.join("");
}

/** A scatter's dots: one circle per point that can be placed, [[cx, cy], ...]. */
export function dotCentres(points, x, y, box) {
  const centres = [];
  for (const [vx, vy] of points) {
    const px = place(vx, x, box.left, box.right);
    const py = place(vy, y, box.bottom, box.top);
    if (px != null && py != null) centres.push([px, py]);
  }
  return centres;
}

// A dot's radius, and how a dotted series says what a line says by its dash: a solid line's dots
// are discs, a dashed one's (an earlier run, the reference) rings.
const DOT_R = 2.6;
const dotPaint = (line) => (line.dash && line.dash.length
  ? `fill="none" stroke="${line.stroke}" stroke-width="1.2"`
  : `fill="${line.stroke}" stroke="none"`);

/** A title's lines: one as plain text, several as tspans a line apart. */
function titleText(lines, step) {
  if (lines.length === 1) return escapeXml(lines[0]);
  return lines.map((line, i) => `<tspan x="16" dy="${i ? step : 0}">${escapeXml(line)}</tspan>`).join("");
}

/** `text` in lines of at most `width` pixels at `px`, broken between words (a word longer than
 * a line stands alone). */
export function wrapText(text, px, width) {
  const lines = [];
  for (const word of String(text).split(/\s+/).filter(Boolean)) {
    const last = lines[lines.length - 1];
    if (last !== undefined && textWidth(`${last} ${word}`, px) <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines.length ? lines : [""];
}

/** The legend's items in rows that fit `width`: [{line, x, row}]. */
function legendLayout(lines, left, width) {
  const items = [];
  let x = left;
  let row = 0;
  for (const line of lines) {
    const w = SWATCH + 6 + textWidth(line.label, TEXT_PX) + 18;
    if (x > left && x + w > left + width) {
      x = left;
      row += 1;
    }
    items.push({ line, x, row });
    x += w;
  }
  return items;
}

/** An axis's grid lines and tick labels, those inside the plot only. */
function tickGroup(axis, box, colors, horizontal) {
  const [lo, hi] = horizontal ? [box.left, box.right] : [box.top, box.bottom];
  const out = [`<g class="${horizontal ? "x" : "y"}-axis" font-size="${TICK_PX}" fill="${colors.muted}" text-anchor="${horizontal ? "middle" : "end"}">`];
  for (const tick of axis.ticks) {
    const p = horizontal ? place(tick.value, axis, box.left, box.right) : place(tick.value, axis, box.bottom, box.top);
    if (p == null || p < lo - 0.5 || p > hi + 0.5) continue;
    const [x1, x2, y1, y2] = horizontal ? [p, p, box.top, box.bottom + 4] : [box.left - 4, box.right, p, p];
    out.push(`<line x1="${num(x1)}" x2="${num(x2)}" y1="${num(y1)}" y2="${num(y2)}" stroke="${colors.grid}"/>`);
    const [tx, ty] = horizontal ? [p, box.bottom + 6 + TICK_PX] : [box.left - 7, p + TICK_PX * 0.35];
    out.push(`<text x="${num(tx)}" y="${num(ty)}">${escapeXml(tick.text)}</text>`);
  }
  out.push("</g>");
  return out;
}

/**
 * figure: {
 *   title, width, plotHeight,
 *   x: {label, min, max, log, ticks: [{value, text}]}, y: {the same},
 *   lines: [{label, stroke, width, dash: [on, off, ...], points: [[x, y], ...], marks}],
 *                           marks "dots": each point a dot and no line (a scatter); else a line
 *   bars: [{x, value, fill}]    bars from the axis's minimum up to each value, a unit wide,
 *   markers: [{x, text}]        dashed rules across the plot (live changes),
 *   background: {href, x0, x1, y0, y1}   an image under the lines (a loss surface), optional,
 *   colors: {bg, fg, muted, grid, marker}, font: a CSS font-family list,
 * }
 */
export function chartSvg(figure) {
  const { x, y, colors } = figure;
  const lines = figure.lines || [];
  const width = Math.round(figure.width);
  const tickWidth = Math.max(0, ...y.ticks.map((t) => textWidth(t.text, TICK_PX)));
  const titleLines = wrapText(figure.title, TITLE_PX, width - 32);
  const titleStep = Math.round(TITLE_PX * 1.3);
  const box = { left: Math.ceil(16 + TEXT_PX + 8 + tickWidth + 6), right: width - 18 };
  box.top = 16 + TITLE_PX + (titleLines.length - 1) * titleStep + 14;
  box.bottom = box.top + Math.round(figure.plotHeight);
  const legend = legendLayout(lines, box.left, box.right - box.left);
  const legendTop = box.bottom + TICK_PX + 10 + TEXT_PX + 18;
  const rows = legend.length ? legend[legend.length - 1].row + 1 : 0;
  const height = legendTop + rows * LEGEND_ROW + 8;
  const font = escapeXml(figure.font || "sans-serif");
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${font}">`,
    `<title>${escapeXml(figure.title)}</title>`,
    `<defs><clipPath id="plot-area"><rect x="${box.left}" y="${box.top}" width="${box.right - box.left}" height="${box.bottom - box.top}"/></clipPath></defs>`,
    `<rect width="${width}" height="${height}" fill="${colors.bg}"/>`,
    `<text class="title" x="16" y="${16 + TITLE_PX}" font-size="${TITLE_PX}" font-weight="600" fill="${colors.fg}">${titleText(titleLines, titleStep)}</text>`,
  ];
  const bg = figure.background;
  if (bg) {
    const [left, right] = [place(bg.x0, x, box.left, box.right), place(bg.x1, x, box.left, box.right)];
    const [top, bottom] = [place(bg.y1, y, box.bottom, box.top), place(bg.y0, y, box.bottom, box.top)];
    if ([left, right, top, bottom].every((v) => v != null)) {
      out.push(`<image href="${escapeXml(bg.href)}" x="${num(left)}" y="${num(top)}" width="${num(right - left)}" height="${num(bottom - top)}" preserveAspectRatio="none" clip-path="url(#plot-area)"/>`);
    }
  }
  // Grid and ticks: x along the bottom, y up the left.
  out.push(...tickGroup(x, box, colors, true), ...tickGroup(y, box, colors, false));
  out.push(`<rect x="${box.left}" y="${box.top}" width="${box.right - box.left}" height="${box.bottom - box.top}" fill="none" stroke="${colors.grid}"/>`);
  const midX = (box.left + box.right) / 2;
  const midY = (box.top + box.bottom) / 2;
  out.push(`<text class="x-label" x="${num(midX)}" y="${box.bottom + TICK_PX + 10 + TEXT_PX}" font-size="${TEXT_PX}" font-weight="600" fill="${colors.fg}" text-anchor="middle">${escapeXml(x.label)}</text>`);
  out.push(`<text class="y-label" transform="translate(${16 + TEXT_PX - 2} ${num(midY)}) rotate(-90)" font-size="${TEXT_PX}" font-weight="600" fill="${colors.fg}" text-anchor="middle">${escapeXml(y.label)}</text>`);
  // The lines, then the markers over them, all clipped to the plot.
  out.push(`<g class="lines" clip-path="url(#plot-area)" fill="none" stroke-linejoin="round" stroke-linecap="round">`);
  for (const line of lines) {
    if (line.marks === "dots") {
      const dots = dotCentres(line.points, x, y, box).map(([cx, cy]) => `<circle cx="${num(cx)}" cy="${num(cy)}" r="${DOT_R}"/>`);
      if (dots.length) out.push(`<g class="dots" ${dotPaint(line)}><title>${escapeXml(line.label)}</title>${dots.join("")}</g>`);
      continue;
    }
    const d = pathData(line.points, x, y, box);
    if (!d) continue;
    const dash = line.dash && line.dash.length ? ` stroke-dasharray="${line.dash.join(" ")}"` : "";
    out.push(`<path d="${d}" stroke="${line.stroke}" stroke-width="${line.width}"${dash}><title>${escapeXml(line.label)}</title></path>`);
  }
  for (const bar of figure.bars || []) {
    const [left, right] = [place(bar.x - 0.4, x, box.left, box.right), place(bar.x + 0.4, x, box.left, box.right)];
    const [top, bottom] = [place(bar.value, y, box.bottom, box.top), place(y.min, y, box.bottom, box.top)];
    if ([left, right, top, bottom].some((v) => v == null)) continue;
    out.push(`<rect x="${num(left)}" y="${num(top)}" width="${num(right - left)}" height="${num(bottom - top)}" fill="${bar.fill}" stroke="none"/>`);
  }
  for (const marker of figure.markers || []) {
    const px = place(marker.x, x, box.left, box.right);
    if (px == null) continue;
    out.push(`<line x1="${num(px)}" x2="${num(px)}" y1="${box.top}" y2="${box.bottom}" stroke="${colors.marker}" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${num(px + 4)}" y="${box.top + TICK_PX + 3}" font-size="${TICK_PX}" fill="${colors.marker}" stroke="none">${escapeXml(marker.text)}</text>`);
  }
  out.push("</g>");
  out.push(`<g class="legend" font-size="${TEXT_PX}" fill="${colors.fg}">`);
  for (const { line, x: lx, row } of legend) {
    const ly = legendTop + row * LEGEND_ROW;
    const dash = line.dash && line.dash.length ? ` stroke-dasharray="${line.dash.join(" ")}"` : "";
    if (line.marks === "dots") out.push(`<circle cx="${num(lx + SWATCH / 2)}" cy="${ly - 4}" r="${DOT_R + 1}" ${dotPaint(line)}/>`);
    else out.push(`<line x1="${num(lx)}" x2="${num(lx + SWATCH)}" y1="${ly - 4}" y2="${ly - 4}" stroke="${line.stroke}" stroke-width="${Math.max(2, line.width)}"${dash}/>`);
    out.push(`<text x="${num(lx + SWATCH + 6)}" y="${ly}">${escapeXml(line.label)}</text>`);
  }
  out.push("</g>", "</svg>");
  return `${out.join("\n")}\n`;
}
