// Site-wide behaviour: the theme toggle and keyboard access to search.
const root = document.documentElement;

document.querySelector(".theme-toggle")?.addEventListener("click", () => {
  const next = root.dataset.theme === "dark" ? "light" : "dark";
  root.dataset.theme = next;
  localStorage.setItem("theme", next);
});

const search = document.getElementById("search-input");
const suggestions = document.getElementById("search-suggestions");

// "/" focuses the search box from anywhere except another text field.
document.addEventListener("keydown", (event) => {
  const typing = event.target.closest?.("input, textarea, select, [contenteditable]");
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    search?.focus();
    search?.select();
  }
});

// Arrow keys move through the suggestions; Escape closes them.
search?.addEventListener("keydown", (event) => {
  const links = [...suggestions.querySelectorAll("a")];
  if (event.key === "ArrowDown" && links.length) {
    event.preventDefault();
    links[0].focus();
  } else if (event.key === "Escape") {
    suggestions.replaceChildren();
  }
});
suggestions?.addEventListener("keydown", (event) => {
  const links = [...suggestions.querySelectorAll("a")];
  const at = links.indexOf(document.activeElement);
  if (event.key === "ArrowDown" && at < links.length - 1) {
    event.preventDefault();
    links[at + 1].focus();
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    (at > 0 ? links[at - 1] : search).focus();
  } else if (event.key === "Escape") {
    suggestions.replaceChildren();
    search.focus();
  }
});
document.addEventListener("click", (event) => {
  if (suggestions && !event.target.closest(".search")) suggestions.replaceChildren();
});
