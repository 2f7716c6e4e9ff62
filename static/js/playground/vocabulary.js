// Which characters of a reader's text a base model has no id for, as the training will find them
// (app.ml.own_text.fit_to_vocab): the panel warns before the run, not after it. The vocabulary,
// its placeholder and its look-alikes come from the demo's declaration (the text field's schema).

/** The text's characters outside `vocabulary` ({chars, placeholder, same_as}), each with how often
 * it occurs: [[char, count], ...], most frequent first (ties in order of first appearance). */
export function unknownChars(text, vocabulary) {
  const known = new Set(vocabulary.chars);
  const sameAs = vocabulary.same_as || {};
  const counts = new Map();
  for (const raw of text) {
    const char = Object.hasOwn(sameAs, raw) ? sameAs[raw] : raw;
    if (known.has(char)) continue;
    // An accented letter or a ligature stands for its plain letters (é -> e, ﬁ -> fi) where those
    // are all known: the compatibility decomposition without its combining marks.
    const plain = char.normalize("NFKD").replace(/\p{Mn}/gu, "");
    if (plain && [...plain].every((c) => known.has(c))) continue;
    counts.set(char, (counts.get(char) || 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]); // a stable sort keeps first appearances first
}

/** A character as a reader can see it in a sentence: a space, a mark or a control by its code. */
export function shownChar(char) {
  const visible = /[\p{L}\p{N}\p{P}\p{S}]/u.test(char);
  return visible ? `“${char}”` : `U+${char.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** The warning for a text's unknown characters, or "" when there are none. */
export function unknownWarning(text, vocabulary) {
  const unknown = unknownChars(text, vocabulary);
  if (!unknown.length) return "";
  const total = unknown.reduce((sum, [, n]) => sum + n, 0);
  const listed = unknown.slice(0, 12).map(([char, n]) => `${shownChar(char)} ×${n.toLocaleString("en")}`);
  if (unknown.length > 12) listed.push(`and ${unknown.length - 12} more`);
  const as = `“${vocabulary.placeholder}”`;
  if (unknown.length === 1) return `${listed[0]} is not in the base model's vocabulary: it will be written as ${as}.`;
  return `${unknown.length} different characters (${total.toLocaleString("en")} in all) are not in the base `
    + `model's vocabulary and will be written as ${as}: ${listed.join(", ")}.`;
}
