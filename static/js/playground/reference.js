// A reference run on a panel's charts: a stored (or still training) run of the same demo, drawn
// dashed beneath the reader's own runs and labelled "reference". It comes from `?ref=<run id>`
// on any playground page or embed, or from a page script (a class board's pinned run):
//
//   import { setReference } from "/static/js/playground/reference.js";
//   setReference(panel, "a1b2c3d4e5f6");   // pin; setReference(panel, null) takes it off
//
// or, without the Panel object, on its section:
//   section.dispatchEvent(new CustomEvent("pg:reference", { detail: { runId } }));
//
// New runs, live changes and "Clear all" leave it; the page's URL carries it (?ref=), so a
// reload draws it again. A bad or unknown id, or a run of another demo, is said in the panel's
// error list and draws nothing.

import { api, detailText } from "./api.js";
import { RunSession } from "./session.js";
import { withParam } from "./tools.js";

// Run ids are URL-safe tokens (the embedded engine's and Redis's alike); the server finds none
// longer than 64 characters.
const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const REF_PARAM = "ref";

/** Why `runId` cannot name a run, or null when it may. */
export function refIdProblem(runId) {
  if (RUN_ID.test(runId)) return null;
  return `The reference “${String(runId).slice(0, 80)}” is not a run id (1 to 64 letters, digits, - or _): no reference is drawn.`;
}

/** One panel's reference run: what it follows and how it says what went wrong. */
export class ReferenceRun {
  /** panel: its history, errors and schedule/refresh are used; nothing else. */
  constructor(panel) {
    this.panel = panel;
    this.session = null;
    this.asked = null; // the id last asked for: an older answer arriving late is dropped
  }

  /** Pin `runId` (null: none). Resolves to true when it is drawn (or taken off), false when not. */
  async set(runId, { keepUrl = false } = {}) {
    const panel = this.panel;
    this.asked = runId || null;
    if (!runId) {
      this.drop();
      if (!keepUrl) history.replaceState(history.state, "", withParam(location.href, REF_PARAM, null));
      panel.refresh();
      return true;
    }
    const problem = refIdProblem(runId);
    if (problem) return this.fail(problem);
    const answer = await api(`/api/runs/${encodeURIComponent(runId)}`);
    if (this.asked !== runId) return false; // another reference was asked for meanwhile
    if (answer.status === 404) return this.fail(`No run “${runId}” on this server, so there is no reference to draw.`);
    if (!answer.ok || !answer.body) return this.fail(`The reference run “${runId}” could not be loaded: ${detailText(answer.body, answer.status)}`);
    if (answer.body.demo !== panel.name) {
      return this.fail(`Run “${runId}” is a ${answer.body.demo} run, not one of this playground (${panel.name}): it is not drawn as the reference.`);
    }
    this.drop();
    const session = RunSession.attach(runId, 0);
    session.run.isReference = true;
    session.run.params = { ...(answer.body.params || {}) };
    session.run.startParams = { ...session.run.params };
    this.session = session;
    panel.history.reference = session.run;
    for (const type of ["start", "metrics", "end", "control"]) session.on(type, () => panel.schedule());
    session.on("end", () => panel.refresh());
    session.on("connection", ({ state }) => {
      if (state === "lost" && !session.run.points.length) panel.errors.show([`The reference run “${runId}” could not be followed.`]);
    });
    if (!keepUrl) history.replaceState(history.state, "", withParam(location.href, REF_PARAM, runId));
    panel.refresh();
    return true;
  }

  drop() {
    if (this.session) this.session.close();
    this.session = null;
    this.panel.history.reference = null;
  }

  fail(message) {
    this.drop();
    this.panel.errors.show([message]);
    this.panel.refresh();
    return false;
  }
}

/** Pin run `runId` as `panel`'s reference (null: take it off). Resolves to whether it is drawn. */
export function setReference(panel, runId) {
  return panel.reference.set(runId);
}
