// The join form: POST the code and name as JSON; the answer sets the student cookie, and the
// student goes on to the class's playground.
const form = document.getElementById("class-join");
const problem = form.querySelector(".class-join-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  problem.hidden = true;
  const code = form.elements.code.value.trim().toUpperCase();
  const response = await fetch(`/api/classes/${encodeURIComponent(code)}/students`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: form.elements.name.value }),
  });
  const body = await response.json().catch(() => ({}));
  if (response.status === 201) {
    location.assign(body.playground_url);
    return;
  }
  problem.textContent = typeof body.detail === "string" ? body.detail : `The server answered ${response.status}.`;
  problem.hidden = false;
});
