// Address headers, twice: raw for IMAP ENVELOPE (Dovecot-compatible) and decoded for sorting and search.
import { TextDecoder } from 'node:util';
import { parseAddressHeader } from 'mailparser';
import { decode as decodeCharset } from 'libmime/lib/charset';

/** One ENVELOPE address. A group is a start marker (mailbox = group name, host = null) and an all-null end marker. */
export interface EnvelopeAddress {
  name: string | null;
  adl: string | null;
  mailbox: string | null;
  host: string | null;
}

/** Decoded address for sorting, search and display. */
export interface MailAddress {
  name: string;
  address: string;
}

// What Dovecot puts where RFC 5322 requires a part the header lacks; clients already know these.
const MISSING_MAILBOX = 'MISSING_MAILBOX';
const MISSING_DOMAIN = 'MISSING_DOMAIN';

type Token =
  | { kind: 'atom'; text: string }
  | { kind: 'quoted'; text: string }
  | { kind: 'comment'; text: string }
  | { kind: 'special'; text: string };

function tokenize(value: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < value.length) {
    const c = value[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
    } else if (c === '"') {
      let text = '';
      i++;
      while (i < value.length && value[i] !== '"') {
        if (value[i] === '\\' && i + 1 < value.length) i++;
        text += value[i++];
      }
      i++;
      tokens.push({ kind: 'quoted', text });
    } else if (c === '(') {
      let depth = 1;
      let text = '';
      i++;
      while (i < value.length && depth > 0) {
        const d = value[i];
        if (d === '\\' && i + 1 < value.length) {
          text += value[i + 1];
          i += 2;
          continue;
        }
        if (d === '(') depth++;
        if (d === ')') depth--;
        if (depth > 0) text += d;
        i++;
      }
      tokens.push({ kind: 'comment', text });
    } else if ('<>@,;:.[]'.includes(c)) {
      if (c === '[') {
        const end = value.indexOf(']', i);
        const stop = end < 0 ? value.length : end + 1;
        tokens.push({ kind: 'atom', text: value.slice(i, stop) });
        i = stop;
      } else {
        tokens.push({ kind: 'special', text: c });
        i++;
      }
    } else {
      let text = '';
      while (i < value.length && !' \t\r\n"()<>@,;:.['.includes(value[i])) text += value[i++];
      tokens.push({ kind: 'atom', text });
    }
  }
  return tokens;
}

function phraseText(tokens: Token[]): string | null {
  let text = '';
  for (const t of tokens) {
    if (t.kind === 'comment') continue;
    if (t.kind === 'special' && t.text === '.') text += '.';
    else text += (text && !text.endsWith('.') ? ' ' : '') + t.text;
  }
  return text === '' ? null : text;
}

function addrSpec(tokens: Token[]): { mailbox: string; host: string } {
  const words = tokens.filter((t) => t.kind !== 'comment');
  let at = -1;
  for (let i = words.length - 1; i >= 0; i--) {
    if (words[i].kind === 'special' && words[i].text === '@') {
      at = i;
      break;
    }
  }
  const join = (list: Token[]) => list.map((t) => (t.kind === 'quoted' ? `"${t.text}"` : t.text)).join('');
  const local = join(at < 0 ? words : words.slice(0, at));
  const domain = at < 0 ? '' : join(words.slice(at + 1));
  return { mailbox: local || MISSING_MAILBOX, host: domain || MISSING_DOMAIN };
}

function mailbox(tokens: Token[]): EnvelopeAddress {
  const open = tokens.findIndex((t) => t.kind === 'special' && t.text === '<');
  if (open >= 0) {
    let close = tokens.findIndex((t, i) => i > open && t.kind === 'special' && t.text === '>');
    if (close < 0) close = tokens.length;
    const inner = tokens.slice(open + 1, close);
    const colon = inner.findIndex((t) => t.kind === 'special' && t.text === ':');
    const route = colon >= 0 ? inner.slice(0, colon) : [];
    const spec = addrSpec(colon >= 0 ? inner.slice(colon + 1) : inner);
    return {
      name: phraseText(tokens.slice(0, open)),
      adl: route.length ? route.map((t) => t.text).join('') : null,
      mailbox: spec.mailbox,
      host: spec.host,
    };
  }
  const comment = tokens.find((t) => t.kind === 'comment');
  const spec = addrSpec(tokens);
  return { name: comment && comment.text.trim() ? comment.text : null, adl: null, mailbox: spec.mailbox, host: spec.host };
}

/** Parses an address header value (byte string) into ENVELOPE addresses; null for an empty header. */
export function parseEnvelopeAddresses(value: string | null): EnvelopeAddress[] | null {
  if (value === null || value.trim() === '') return null;
  const tokens = tokenize(value);
  const result: EnvelopeAddress[] = [];
  let current: Token[] = [];
  let inGroup = false;
  let inAngle = false;
  const flush = () => {
    if (current.some((t) => t.kind !== 'comment')) result.push(mailbox(current));
    current = [];
  };
  for (const token of tokens) {
    if (token.kind === 'special') {
      if (token.text === '<') inAngle = true;
      if (token.text === '>') inAngle = false;
      if (!inAngle && token.text === ',') {
        flush();
        continue;
      }
      if (!inAngle && !inGroup && token.text === ':') {
        result.push({ name: null, adl: null, mailbox: phraseText(current) ?? MISSING_MAILBOX, host: null });
        current = [];
        inGroup = true;
        continue;
      }
      if (!inAngle && inGroup && token.text === ';') {
        flush();
        result.push({ name: null, adl: null, mailbox: null, host: null });
        inGroup = false;
        continue;
      }
    }
    current.push(token);
  }
  flush();
  if (inGroup) result.push({ name: null, adl: null, mailbox: null, host: null });
  if (result.length === 0) result.push({ name: null, adl: null, mailbox: MISSING_MAILBOX, host: MISSING_DOMAIN });
  return result;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decoded addresses of one header (byte string), groups flattened; encoded words and punycode decoded. */
export function parseMailAddresses(value: string | null): MailAddress[] {
  if (!value) return [];
  const bytes = Buffer.from(value, 'latin1');
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    text = decodeCharset(bytes, 'gb18030');
  }
  const parsed = parseAddressHeader(text, { flatten: true });
  return parsed.value
    .filter((a) => a.address || a.name)
    .map((a) => ({ name: (a.name ?? '').trim(), address: (a.address ?? '').trim().toLowerCase() }));
}
