// Colours: parse any CSS colour, mix and fade them, and read the page theme (CSS custom
// properties plus the series palette) that charts draw with.

// After the accent (indigo): Okabe & Ito's colour-blind-safe set (vermillion, bluish green,
// reddish purple, sky blue, yellow), darkened on white and lightened on dark so each line keeps
// its contrast, then grey; no two neighbours in hue, so six series stay six colours.
const PALETTES = {
  light: ["#d55e00", "#009e73", "#cc79a7", "#2b8fcf", "#a98600", "#5b6270", "#7a3e9d"],
  dark: ["#ff8a4c", "#2fd3a0", "#eea0cf", "#74c6f7", "#f0dc5a", "#c3c8d2", "#c59bf0"],
};

// Made on first use, so that modules importing this one load without a DOM (the Node tests).
let canvasContext = null;
function paletteCanvas() {
  if (!canvasContext && typeof document !== "undefined") {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 1;
    canvasContext = canvas.getContext("2d", { willReadFrequently: true });
  }
  return canvasContext;
}

/** Any CSS colour -> [r, g, b, a] (a in 0..1), through the canvas, so every syntax works. */
function parseColor(css, fallback = [0, 0, 0, 1]) {
  const colorContext = paletteCanvas();
  if (!css || !colorContext) return fallback;
  colorContext.clearRect(0, 0, 1, 1);
  colorContext.fillStyle = "#000";
  colorContext.fillStyle = css.trim();
  colorContext.fillRect(0, 0, 1, 1);
  const [r, g, b, a] = colorContext.getImageData(0, 0, 1, 1).data;
  return [r, g, b, a / 255];
}

export function rgba(color, alpha = 1) {
  const [r, g, b, a] = color;
  return `rgba(${r},${g},${b},${+(a * alpha).toFixed(3)})`;
}

export function mix(c1, c2, t) {
  return [0, 1, 2].map((i) => Math.round(c1[i] + (c2[i] - c1[i]) * t)).concat(1);
}

function isDark() {
  const theme = document.documentElement.dataset.theme;
  if (theme) return theme === "dark";
  return matchMedia("(prefers-color-scheme: dark)").matches;
}

export function readTheme(node) {
  const style = getComputedStyle(node);
  const dark = isDark();
  const read = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  const colors = {
    bg: read("--bg", dark ? "#0f1117" : "#ffffff"),
    fg: read("--fg", dark ? "#e7e9ee" : "#16181d"),
    fgMuted: read("--fg-muted", dark ? "#a0a7b5" : "#5b6270"),
    border: read("--border", dark ? "#2a2f3c" : "#e3e6eb"),
    accent: read("--accent", dark ? "#8b85ff" : "#4f46e5"),
    ok: read("--ok", dark ? "#4ad49a" : "#12805c"),
    warn: read("--warn", dark ? "#f4b45f" : "#a05a00"),
  };
  const rgb = Object.fromEntries(Object.entries(colors).map(([k, v]) => [k, parseColor(v)]));
  const fontSans = read("--font-sans", "") || style.fontFamily || "system-ui, sans-serif";
  // The presenter layout (present.css) draws charts larger, axis text with them.
  const chartScale = Number.parseFloat(read("--pg-chart-scale", "1")) || 1;
  const palette = [rgb.accent, ...PALETTES[dark ? "dark" : "light"].map((c) => parseColor(c))];
  return {
    dark,
    ...colors,
    rgb,
    palette,
    fontSans,
    chartScale,
    grid: rgba(rgb.border, 1),
    token: [dark, colors.bg, colors.fg, colors.accent, colors.border, chartScale].join("|"),
  };
}
