/** RFC 5229 variables: ${name} / ${1} expansion, the modifiers of "set", and RFC 5228 §2.4.2.4 encoded characters. */

const REFERENCE = /^(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|[0-9]+)$/;

/**
 * Replaces each well-formed ${...} with lookup(name); anything malformed stays as written. Inserted values are not
 * scanned again (§3: expansion is not recursive).
 */
export function expandVariables(text: string, lookup: (name: string) => string): string {
  if (!text.includes('${')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf('${', i);
    if (start === -1) break;
    out += text.slice(i, start);
    const end = text.indexOf('}', start + 2);
    const name = end === -1 ? null : text.slice(start + 2, end);
    if (name !== null && REFERENCE.test(name)) {
      out += lookup(name);
      i = end + 1;
    } else {
      out += '$';
      i = start + 1;
    }
  }
  return out + text.slice(i);
}

/** The modifiers of "set", applied in precedence order: case, first letter, quotewildcard, length (§4.1). */
export function applyModifiers(value: string, modifiers: Set<string>): string {
  let v = value;
  if (modifiers.has('lower')) v = v.toLowerCase();
  if (modifiers.has('upper')) v = v.toUpperCase();
  if (modifiers.has('lowerfirst') && v) v = v[0].toLowerCase() + v.slice(1);
  if (modifiers.has('upperfirst') && v) v = v[0].toUpperCase() + v.slice(1);
  if (modifiers.has('quotewildcard')) v = v.replace(/[*?\\]/g, (c) => `\\${c}`);
  if (modifiers.has('length')) v = String([...v].length);
  return v;
}

/** ${hex: 41 42} and ${unicode: 263a}; a malformed sequence stays as written. */
export function decodeEncodedCharacters(text: string): string {
  return text.replace(/\$\{(hex|unicode):([\s0-9A-Fa-f]*)\}/gi, (whole, kind: string, body: string) => {
    const parts = body.trim().split(/\s+/).filter(Boolean);
    if (kind.toLowerCase() === 'hex') {
      if (parts.some((p) => p.length > 2)) return whole;
      return Buffer.from(parts.map((p) => p.padStart(2, '0')).join(''), 'hex').toString('utf8');
    }
    const points = parts.map((p) => parseInt(p, 16));
    if (points.some((p) => p > 0x10ffff || (p >= 0xd800 && p <= 0xdfff))) return whole;
    return String.fromCodePoint(...points);
  });
}
