// The join form: POST the code and name as JSON; the answer sets the student cookie, and the
// student goes on to the class's page.

import { api, detailText } from "../playground/api.js";

const form = document.getElementById("class-join");
const problem = form.querySelector(".class-join-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  problem.hidden = true;
  const code = form.elements.code.value.trim().toUpperCase();
  const json = { name: form.elements.name.value };
  const result = await api(`/api/classes/${encodeURIComponent(code)}/students`, { method: "POST", json });
  if (result.status === 201) {
    location.assign(result.body.playground_url);
    return;
  }
  problem.textContent = detailText(result.body, result.status);
  problem.hidden = false;
});
