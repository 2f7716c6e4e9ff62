// The server's 422 issues ([{field, message}] in pydantic's words, "lr_min: Value error, ...")
// as sentences a reader can act on, each with the form fields it is about. A field's own bound
// is said by the same check the page makes (state.js); a rule across fields (lr_min below
// lr_max) names the fields its message mentions, by their titles. Pure functions, no DOM.

import { checkValue } from "./state.js";

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/** pydantic's message without the field prefix the API adds and its "Value error, " tag. */
function bare(message, field) {
  let text = String(message || "").trim();
  if (field && text.startsWith(`${field}: `)) text = text.slice(field.length + 2);
  return text.replace(/^(Value|Assertion) error,\s*/i, "");
}

/** issues -> [{fields: [names], message}]; `params`: what was sent, for the page's own check. */
export function plainIssues(specs, issues, params = {}) {
  const byName = new Map(specs.map((s) => [s.name, s]));
  // Longest names first, so "lr_min" is not read as "lr" followed by "_min".
  const names = [...byName.keys()].sort((a, b) => b.length - a.length);
  const mentions = new RegExp(`(?<!\\w)(${names.map(escape).join("|")})(?!\\w)`, "g");
  return (Array.isArray(issues) ? issues : []).map((issue) => {
    const field = String((issue && issue.field) || "");
    const text = bare(issue && (issue.message || issue.msg), field);
    const spec = byName.get(field.split(".")[0]);
    if (spec) {
      const problem = params[spec.name] === undefined ? null : checkValue(spec, params[spec.name]);
      return { fields: [spec.name], message: problem ? `${spec.title} ${problem}.` : `${spec.title}: ${text}` };
    }
    const fields = new Set();
    const message = names.length ? text.replace(mentions, (name) => {
      fields.add(name);
      return byName.get(name).title;
    }) : text;
    return { fields: [...fields], message: capital(message || "These settings do not work together.") };
  });
}
