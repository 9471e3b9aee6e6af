/**
 * JSON for a json/jsonb parameter, without NUL (PostgreSQL refuses \u0000 in both). Serialised first and mended only
 * when an escaped NUL is there at all: a replacer function would be called for every value of every row, which costs
 * more than the rest of the insert. In the text an escaped NUL is `\u0000` after an even run of backslashes (an odd
 * run means the backslash itself was escaped, as in a string holding the six characters `\u0000`).
 */
export function jsonForPostgres(value: unknown): string {
  const json = JSON.stringify(value);
  return json.includes('\\u0000') ? json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1') : json;
}
