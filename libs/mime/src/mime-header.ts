// Raw header fields and structured values (Content-Type and friends) as IMAP wants them: undecoded bytes.
import { TextDecoder } from 'node:util';
import { decode as decodeCharset } from 'libmime/lib/charset';
import libmime from 'libmime';

/**
 * Header values are kept as byte strings: one char per octet (latin1), so a raw 8-bit header
 * travels to the IMAP wire unchanged. NUL becomes 0x80 as in Dovecot, since PostgreSQL text refuses NUL.
 */
export interface HeaderField {
  /** lower-cased field name */
  key: string;
  /** value after the colon, leading whitespace removed, folding CRLFs kept */
  value: string;
}

export function parseHeaderBlock(raw: Buffer): HeaderField[] {
  const text = raw.toString('latin1').replace(/\0/g, '\x80');
  const fields: HeaderField[] = [];
  const lines = text.split(/(?<=\n)/);
  let current: HeaderField | null = null;
  for (const line of lines) {
    if (line === '\r\n' || line === '\n') break;
    if ((line[0] === ' ' || line[0] === '\t') && current) {
      current.value += line;
      continue;
    }
    if (current) current.value = stripLineEnd(current.value);
    const colon = line.indexOf(':');
    if (colon <= 0) {
      current = null;
      continue;
    }
    current = { key: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).replace(/^[ \t]+/, '') };
    fields.push(current);
  }
  if (current) current.value = stripLineEnd(current.value);
  return fields;
}

function stripLineEnd(value: string): string {
  return value.replace(/\r?\n$/, '');
}

export function firstHeader(fields: HeaderField[], key: string): string | null {
  const found = fields.find((f) => f.key === key);
  return found ? found.value : null;
}

/** Removes line breaks of folded header values, keeping the whitespace that follows them. */
export function unfold(value: string): string {
  return value.replace(/[\r\n]/g, '');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Turns raw header bytes into text: UTF-8 when valid, otherwise GB18030 (raw GBK/GB2312 headers are
 * what old Chinese clients send), then RFC 2047 encoded words decoded and whitespace collapsed.
 */
export function decodeHeaderText(value: string): string {
  const bytes = Buffer.from(value, 'latin1');
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    text = decodeCharset(bytes, 'gb18030');
  }
  let decoded: string;
  try {
    decoded = libmime.decodeWords(unfold(text));
  } catch {
    decoded = unfold(text);
  }
  return decoded.replace(/\s+/g, ' ').trim();
}

export interface StructuredValue {
  /** the value before the first ';', as written */
  value: string;
  /** parameters in Dovecot's order: plain ones as written, then RFC 2231 continuations merged (not decoded) */
  params: Array<[string, string]>;
}

/** Parses `type/subtype; a=b; c="d"` the way Dovecot does for BODYSTRUCTURE: case and encodings kept. */
export function parseStructuredValue(raw: string): StructuredValue {
  const text = unfold(raw);
  const parts = splitOutsideQuotes(stripComments(text), ';');
  const value = (parts.shift() ?? '').trim();
  const plain: Array<[string, string]> = [];
  const continued = new Map<string, Array<{ index: number; extended: boolean; value: string }>>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    const paramValue = unquote(part.slice(eq + 1).trim());
    if (!key) continue;
    const match = /^(.+?)\*(\d+)(\*?)$/.exec(key);
    if (!match) {
      plain.push([key, paramValue]);
      continue;
    }
    const list = continued.get(match[1]) ?? [];
    list.push({ index: Number(match[2]), extended: match[3] === '*', value: paramValue });
    continued.set(match[1], list);
  }
  const merged: Array<[string, string]> = [...continued.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, list]) => {
      list.sort((a, b) => a.index - b.index);
      return [key + (list[0].extended ? '*' : ''), list.map((p) => p.value).join('')];
    });
  return { value, params: [...plain, ...merged] };
}

export function paramValue(params: Array<[string, string]>, name: string): string | null {
  const lower = name.toLowerCase();
  const found = params.find(([k]) => k.toLowerCase() === lower);
  return found ? found[1] : null;
}

/**
 * A display file name from Content-Disposition/Content-Type, decoding RFC 2231 and RFC 2047
 * (libmime does both; the raw header goes through decodeHeaderText's charset guess first).
 */
export function decodedFileName(disposition: string | null, contentType: string | null): string | null {
  for (const [header, param] of [
    [disposition, 'filename'],
    [contentType, 'name'],
  ] as const) {
    if (!header) continue;
    const bytes = Buffer.from(unfold(header), 'latin1');
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      text = decodeCharset(bytes, 'gb18030');
    }
    const parsed = libmime.parseHeaderValue(text);
    const name = parsed.params[param];
    if (name) {
      try {
        return libmime.decodeWords(name).trim() || null;
      } catch {
        return name.trim() || null;
      }
    }
  }
  return null;
}

function unquote(value: string): string {
  if (value.length >= 2 && value[0] === '"' && value[value.length - 1] === '"') {
    return value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return value;
}

function stripComments(text: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      out += c;
      if (c === '\\' && i + 1 < text.length) out += text[++i];
      else if (c === '"') quoted = false;
    } else if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
    } else if (c === '(') depth = 1;
    else {
      if (c === '"') quoted = true;
      out += c;
    }
  }
  return out;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\' && i + 1 < text.length) {
      current += c + text[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === separator && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** Splits a Content-Language value into its tags. */
export function languageTags(raw: string): string[] {
  return stripComments(unfold(raw))
    .split(/[\s,]+/)
    .filter(Boolean);
}
