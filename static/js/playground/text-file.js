// A reader's .txt file as a string, read in the browser (the text goes to the server as the same
// param a paste would fill), or the reason it is not one.

const MAX_BYTES_PER_CHAR = 4; // UTF-8's longest character

/** Resolves to {text} or {error}: a file far too big, not UTF-8, or holding NUL bytes (binary). */
export async function readTextFile(file, maxChars) {
  if (file.size > maxChars * MAX_BYTES_PER_CHAR) {
    return { error: `“${file.name}” is ${file.size.toLocaleString("en")} bytes; at most ${maxChars.toLocaleString("en")} characters fit.` };
  }
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(await file.arrayBuffer());
  } catch {
    return { error: `“${file.name}” is not UTF-8 text. Save it as plain text (UTF-8) and load it again.` };
  }
  if (text.includes("\u0000")) return { error: `“${file.name}” holds NUL bytes, so it is not a text file.` };
  return { text: text.replace(/^\uFEFF/, "") }; // a byte-order mark is no part of the text
}
