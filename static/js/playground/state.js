// The panel's state, declared once by the demo's params schema (as TensorFlow Playground's
// state.ts drives the URL and every control from one table): a spec per field, defaults, the
// same bound checks the server makes, and the share-link round trip. Pure functions, no DOM.

const TRUE = ["1", "true", "on", "yes"];
const FALSE = ["0", "false", "off", "no"];

/** One spec per schema property, in the schema's order (the order of the form). */
export function fieldSpecs(schema, live = []) {
  const properties = (schema && schema.properties) || {};
  const defs = (schema && schema.$defs) || {};
  const liveNames = new Set(live);
  return Object.entries(properties).map(([name, raw]) => {
    // pydantic puts Enum classes under $defs: {"$ref": "#/$defs/Name"}.
    const ref = typeof raw.$ref === "string" ? defs[raw.$ref.split("/").pop()] : null;
    const prop = { ...(ref || {}), ...raw };
    // An optional text (`str | None`) declares its bounds in the string branch of anyOf.
    const text = (prop.anyOf || []).find((branch) => branch.type === "string") || {};
    return {
      name,
      title: prop.title || name,
      type: prop.type || text.type || (prop.enum ? typeof prop.enum[0] : "string"),
      default: prop.default,
      live: liveNames.has(name),
      log: prop.scale === "log",
      options: Array.isArray(prop.enum) ? prop.enum : null,
      items: prop.items && Array.isArray(prop.items.enum) ? prop.items.enum : null,
      minItems: prop.minItems,
      maxItems: prop.maxItems,
      unique: !!prop.uniqueItems,
      minimum: prop.minimum,
      maximum: prop.maximum,
      exclusiveMinimum: prop.exclusiveMinimum,
      exclusiveMaximum: prop.exclusiveMaximum,
      minLength: prop.minLength ?? prop.min_chars,
      maxLength: prop.maxLength ?? text.maxLength,
      onlyWhen: prop.only_when || null,
      private: !!prop.private, // a reader's own text: never in a share or embed link
      vocabulary: prop.vocabulary || null, // the characters a text is fitted to (vocabulary.js)
      suggests: prop.suggests || null,
    };
  });
}

/** Does a field or chart declared `only_when` ({mode: ["range_test"]}) apply under `params`? */
export function applies(onlyWhen, params) {
  return Object.entries(onlyWhen || {}).every(([name, allowed]) => params[name] === undefined || allowed.map(String).includes(String(params[name])));
}

/** A choice that `suggests` settings (a surface: a start on its map, an lr it survives), just
 * picked: {changes, text} for the fields whose values differ from `params`, or null. */
export function suggestion(specs, spec, params) {
  const settings = spec && spec.suggests && spec.suggests[String(params[spec.name])];
  if (!settings) return null;
  const changes = Object.fromEntries(Object.entries(settings).filter(([name, value]) => params[name] !== value));
  if (!Object.keys(changes).length) return null;
  const title = (name) => (specs.find((s) => s.name === name) || { title: name }).title;
  const said = Object.entries(changes).map(([name, value]) => `${title(name)} ${formatValue(value)}`);
  return { changes, text: `Set for ${params[spec.name]}: ${said.join(", ")}` };
}

export function defaults(specs) {
  return Object.fromEntries(specs.filter((s) => s.default !== undefined).map((s) => [s.name, s.default]));
}

const isNumber = (v) => typeof v === "number" && Number.isFinite(v);
const given = (v) => v !== undefined && v !== null;

/** Why `value` breaks the field's declared rules ("must be at most 10"), or null when it fits. */
export function checkValue(spec, value) {
  if (spec.options) {
    return spec.options.some((o) => o === value) ? null : `must be one of ${spec.options.join(", ")}`;
  }
  switch (spec.type) {
    case "boolean":
      return typeof value === "boolean" ? null : "must be on or off";
    case "integer":
    case "number": {
      if (!isNumber(value)) return "must be a number";
      if (spec.type === "integer" && !Number.isInteger(value)) return "must be a whole number";
      if (given(spec.minimum) && value < spec.minimum) return `must be at least ${spec.minimum}`;
      if (given(spec.exclusiveMinimum) && value <= spec.exclusiveMinimum) return `must be more than ${spec.exclusiveMinimum}`;
      if (given(spec.maximum) && value > spec.maximum) return `must be at most ${spec.maximum}`;
      if (given(spec.exclusiveMaximum) && value >= spec.exclusiveMaximum) return `must be less than ${spec.exclusiveMaximum}`;
      return null;
    }
    case "array": {
      if (!Array.isArray(value)) return "must be a list";
      if (spec.items && value.some((v) => !spec.items.includes(v))) return `may only hold ${spec.items.join(", ")}`;
      if (given(spec.minItems) && value.length < spec.minItems) return `needs at least ${spec.minItems} picked`;
      if (given(spec.maxItems) && value.length > spec.maxItems) return `takes at most ${spec.maxItems}`;
      if (spec.unique && new Set(value).size !== value.length) return "may hold each one once";
      return null;
    }
    default: {
      if (typeof value !== "string") return "must be text";
      const length = charCount(value);
      if (given(spec.minLength) && length < spec.minLength) return `must be at least ${spec.minLength} characters`;
      if (given(spec.maxLength) && length > spec.maxLength) return `must be at most ${spec.maxLength} characters`;
      return null;
    }
  }
}

/** Characters as the server counts them (code points): an emoji is one, not two UTF-16 units. */
export function charCount(text) {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

const sentence = (spec, problem) => `${spec.title} ${problem}.`;

/** Every field of `params` that breaks its rules, as the server's 422 lists them:
 * [{field, message}]. Missing fields are fine: the server fills in the default. */
export function validate(specs, params) {
  const issues = [];
  for (const spec of specs) {
    if (params[spec.name] === undefined) continue;
    const problem = checkValue(spec, params[spec.name]);
    if (problem) issues.push({ field: spec.name, message: sentence(spec, problem) });
  }
  return issues;
}

/** A share-link string -> {value} when it reads as a valid value, else {error}. */
export function parseValue(spec, text) {
  const raw = String(text).trim();
  let value;
  if (spec.options) value = spec.options.find((o) => String(o) === raw);
  else if (spec.type === "boolean") value = TRUE.includes(raw.toLowerCase()) ? true : FALSE.includes(raw.toLowerCase()) ? false : undefined;
  else if (spec.type === "number" || spec.type === "integer") value = raw === "" ? undefined : Number(raw);
  else if (spec.type === "array") value = raw.split(",").map((s) => s.trim()).filter(Boolean).map((s) => itemValue(spec, s));
  else value = String(text);
  const problem = value === undefined ? (spec.options ? checkValue(spec, raw) : "needs a value of its kind") : checkValue(spec, value);
  return problem ? { error: sentence(spec, problem) } : { value };
}

/** A list item as the schema types it: from a checkbox or a share link every item is text, but
 * the widths of a sweep are numbers, and "8" must become the 8 the schema offers. */
export function itemValue(spec, text) {
  const match = spec && spec.items ? spec.items.find((item) => String(item) === text) : undefined;
  return match === undefined ? text : match;
}

/** A value as its share-link string. */
export function formatValue(value) {
  return Array.isArray(value) ? value.join(",") : String(value);
}

/** Does a share link address this panel? By `demo=`, or else the first panel of the page. */
export function addresses(query, name, index) {
  const target = new URLSearchParams(query).get("demo");
  return target ? target === name : index === 0;
}

/** The params a share link sets: {params, rejected: [{field, text, message}]} (rejected ones
 * keep the form's value). */
export function fromQuery(specs, query) {
  const search = new URLSearchParams(query);
  const params = {};
  const rejected = [];
  for (const spec of specs) {
    if (spec.private || !search.has(spec.name)) continue;
    const text = search.get(spec.name);
    const { value, error } = parseValue(spec, text);
    if (error) rejected.push({ field: spec.name, text, message: error });
    else params[spec.name] = value;
  }
  return { params, rejected };
}

/** The share link's query for these params: demo first, then the fields in form order. */
export function toQuery(specs, params, name) {
  const search = new URLSearchParams();
  search.set("demo", name);
  for (const spec of specs) {
    if (!spec.private && params[spec.name] !== undefined) search.set(spec.name, formatValue(params[spec.name]));
  }
  return search.toString();
}

