// Small DOM helpers: build an element with text (never innerHTML), save text as a download,
// dispatch clicks on action buttons.

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = String(text);
  return node;
}

export function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 2000);
}

/** Clicks on `[data-action]` buttons inside `root` -> handlers[action](button), skipping
 * disabled ones and those marked aria-disabled (asked, awaiting the answer); actions without
 * a handler (the form's submit) are left to the browser. */
export function onActions(root, handlers) {
  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action]");
    if (!button || !root.contains(button) || button.disabled) return;
    const handler = handlers[button.dataset.action];
    if (!handler) return;
    event.preventDefault();
    if (button.getAttribute("aria-disabled") === "true") return;
    handler(button);
  });
}
