// A student's class page: the teacher's exercise (question, settings, the answer once revealed)
// above the playground, and the pinned reference run drawn in the panel, both from the class's
// steering stream.

import { fmtParam, humanize } from "../playground/format.js";

const student = document.querySelector(".class-student");
const box = student.querySelector(".class-preset");
const panel = document.querySelector(`section.playground#playground-${student.dataset.demo}`);
let preset = null;
let reference = null;

function showPreset(pushed) {
  preset = pushed;
  box.hidden = !pushed;
  if (!pushed) return;
  box.querySelector(".class-preset-question").textContent = pushed.question;
  const settings = Object.entries(pushed.params).map(([k, v]) => `${humanize(k)} ${fmtParam(v)}`);
  box.querySelector(".class-preset-params").textContent = settings.length ? `Settings: ${settings.join(", ")}` : "";
  const answer = box.querySelector(".class-preset-answer");
  answer.hidden = !pushed.revealed;
  answer.textContent = pushed.revealed ? `Answer: ${pushed.answer}` : "";
}

function pinReference(runId) {
  if (runId === reference) return;
  reference = runId;
  panel.dispatchEvent(new CustomEvent("pg:reference", { detail: { runId } }));
}

box.querySelector("[data-action=try-preset]").addEventListener("click", () => {
  if (preset) panel.dispatchEvent(new CustomEvent("pg:preset", { detail: preset.params }));
});

const stream = new EventSource(`/api/classes/${student.dataset.code}/steering`);
stream.addEventListener("steer", (event) => {
  const steering = JSON.parse(event.data);
  showPreset(steering.preset);
  pinReference(steering.reference);
});
