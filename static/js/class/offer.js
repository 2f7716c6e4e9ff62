// `?class=CODE` on any page or embed: offer the reader to join that class right here (a name is
// optional), so the runs they start on this page count as the class's. The join answer sets the
// student cookie, which every later POST of a run carries. The link holds only the class code:
// the teacher's token never comes near a student's page.

import { api, detailText } from "../playground/api.js";

const CODE = /^[A-HJKMNP-Z]{6}$/; // as app/classes/tokens.py draws them: no I, L or O
const JOINED_KEY = "modelterms-class-joined"; // the code and name this browser last joined as

function joinedBefore(code) {
  try {
    const joined = JSON.parse(localStorage.getItem(JOINED_KEY) || "null");
    return joined && joined.code === code ? joined : null;
  } catch {
    return null; // storage refused (a sandboxed frame): offer the join again
  }
}

function remember(code, name) {
  try {
    localStorage.setItem(JOINED_KEY, JSON.stringify({ code, name }));
  } catch {
    // the join stands without it (the cookie holds the student token); only the reminder is lost
  }
}

function element(tag, attributes = {}, text = "") {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  made.textContent = text;
  return made;
}

/** The class's stylesheet, only on the pages that offer a join (its version as this script's). */
function loadStyles() {
  const version = new URL(import.meta.url).search;
  document.head.append(element("link", { rel: "stylesheet", href: `/static/css/class.css${version}` }));
}

/** Say the reader is in the class; the code leaves the address bar so that a link copied from
 * it does not offer strangers the class. */
function showJoined(box, code, name) {
  box.replaceChildren();
  const line = element("p", { class: "class-offer-joined" });
  line.append("You are in class ", element("strong", { class: "class-code" }, code), " as ");
  line.append(element("strong", { class: "class-student-name" }, name), ": the runs you start here count as the class's. ");
  line.append(element("a", { href: `/classes/${code}/play` }, "Open the class page"));
  line.append(" for your teacher's exercises.");
  box.append(line);
  const address = new URL(location.href);
  address.searchParams.delete("class");
  history.replaceState(history.state, "", address);
}

function offerForm(box, code) {
  const form = element("form", { class: "class-offer-form" });
  const lead = element("p", {}, "Join class ");
  lead.append(element("strong", { class: "class-code" }, code), "? Your runs on this page then count as the class's.");
  const label = element("label", { for: "class-offer-name" }, "Your name on the board ");
  label.append(element("span", { class: "hint" }, "(optional: leave it empty for a random one)"));
  const name = element("input", { id: "class-offer-name", name: "name", maxlength: "40", autocomplete: "nickname" });
  const join = element("button", { class: "button primary", type: "submit" }, "Join");
  const later = element("button", { class: "button", type: "button", "data-action": "dismiss" }, "Not now");
  const problem = element("p", { class: "class-join-error", role: "alert" });
  problem.hidden = true;
  form.append(lead, label, name, join, later, problem);
  later.addEventListener("click", () => box.remove());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    join.disabled = true;
    const url = `/api/classes/${code}/students`;
    const result = await api(url, { method: "POST", json: { name: name.value } });
    join.disabled = false;
    if (result.status === 201) {
      remember(code, result.body.name);
      showJoined(box, code, result.body.name);
      return;
    }
    problem.textContent = detailText(result.body, result.status);
    problem.hidden = false;
  });
  return form;
}

function offer() {
  const code = (new URLSearchParams(location.search).get("class") || "").trim().toUpperCase();
  // The join page and a class's own pages ask for the code themselves.
  if (!CODE.test(code) || location.pathname === "/join" || location.pathname.startsWith("/classes/")) return;
  const main = document.querySelector("main");
  if (!main) return;
  loadStyles();
  const box = element("aside", { class: "class-offer", "aria-label": "Join a class" });
  main.prepend(box);
  const joined = joinedBefore(code);
  if (joined) showJoined(box, code, joined.name);
  else box.append(offerForm(box, code));
}

offer();
