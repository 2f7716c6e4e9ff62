// A 2-D loss surface drawn as banded colours with darker band edges (contour lines), for the
// contour-map charts behind a gradient-descent path.

import { mix } from "./colors.js";
import { finite } from "./format.js";

const SURFACE_BANDS = 12;

/** The surface's z grid as a canvas of at most 720x720 pixels, or null when it is flat or too small. */
export function contourImage(surface, width, height, theme) {
  const rows = surface.z.length;
  const cols = rows ? surface.z[0].length : 0;
  if (rows < 2 || cols < 2) return null;
  let zMin = Infinity;
  let zMax = -Infinity;
  for (const row of surface.z) for (const v of row) if (finite(v)) { zMin = Math.min(zMin, v); zMax = Math.max(zMax, v); }
  if (!(zMax > zMin)) return null;
  const W = Math.min(width, 720);
  const H = Math.min(height, 720);
  const canvas = document.createElement("canvas");
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(W, H);
  const { bg, accent, fg, warn } = theme.rgb;
  const low = mix(bg, accent, theme.dark ? 0.42 : 0.34);
  const mid = mix(bg, accent, theme.dark ? 0.12 : 0.08);
  const high = mix(bg, warn, theme.dark ? 0.3 : 0.26);
  const colors = [];
  for (let b = 0; b < SURFACE_BANDS; b++) {
    const t = b / (SURFACE_BANDS - 1);
    colors.push(t < 0.5 ? mix(low, mid, t * 2) : mix(mid, high, (t - 0.5) * 2));
  }
  const edge = mix(bg, fg, theme.dark ? 0.32 : 0.26);
  const scale = Math.log(zMax - zMin + 1);
  const bands = new Uint8Array(W * H);
  for (let py = 0; py < H; py++) {
    const fy = (1 - py / (H - 1)) * (rows - 1); // canvas y runs down, the view's y runs up
    const j = Math.min(rows - 2, Math.floor(fy));
    const ty = fy - j;
    const r0 = surface.z[j];
    const r1 = surface.z[j + 1];
    for (let px = 0; px < W; px++) {
      const fx = (px / (W - 1)) * (cols - 1);
      const i = Math.min(cols - 2, Math.floor(fx));
      const tx = fx - i;
      const z = (r0[i] * (1 - tx) + r0[i + 1] * tx) * (1 - ty) + (r1[i] * (1 - tx) + r1[i + 1] * tx) * ty;
      const t = Math.log(Math.max(0, z - zMin) + 1) / scale;
      bands[py * W + px] = Math.max(0, Math.min(SURFACE_BANDS - 1, Math.floor(t * SURFACE_BANDS)));
    }
  }
  const data = image.data;
  for (let py = 0; py < H; py++) {
    for (let px = 0; px < W; px++) {
      const at = py * W + px;
      const band = bands[at];
      const border = (px + 1 < W && bands[at + 1] !== band) || (py + 1 < H && bands[at + W] !== band);
      const color = border ? edge : colors[band];
      data[at * 4] = color[0];
      data[at * 4 + 1] = color[1];
      data[at * 4 + 2] = color[2];
      data[at * 4 + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}
