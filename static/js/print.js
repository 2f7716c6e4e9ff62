// Paper is white: a term page read in the dark theme prints in the light one (print.css sets the
// colours; the charts, drawn on canvases, follow the theme's change and are redrawn), and goes
// back to the dark theme after. The reader's stored choice is not touched.

const root = document.documentElement;
let restore = null;

addEventListener("beforeprint", () => {
  if (root.dataset.theme !== "dark") return;
  restore = "dark";
  root.dataset.theme = "light";
});
addEventListener("afterprint", () => {
  if (restore) root.dataset.theme = restore;
  restore = null;
});
