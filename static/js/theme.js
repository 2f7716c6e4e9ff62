// The reader's chosen theme, else the system's. Storage may be refused (an embed's frame where
// the browser blocks third-party storage): then the system's.
let saved = null;
try {
  saved = localStorage.getItem("theme");
} catch {
  saved = null;
}
document.documentElement.dataset.theme = saved || (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
