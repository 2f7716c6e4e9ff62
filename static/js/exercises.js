// Guided exercises on a term page: "Load into the playground" hands the exercise's preset to the
// page's panel (a `pg:preset` event; the panel checks it with the state module and runs it).

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-preset]");
  if (!button) return;
  const section = document.getElementById(`playground-${button.dataset.demo}`);
  if (!section) return;
  section.dispatchEvent(new CustomEvent("pg:preset", { detail: JSON.parse(button.dataset.preset) }));
});
