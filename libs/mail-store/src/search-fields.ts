/**
 * What SEARCH by header, SENT* and SORT read of a message, kept with it (message.search_fields) so the store answers
 * them from its rows instead of reading every message: made once when a message is stored, from its summary alone.
 *
 *  - `h`: per header field (FROM, TO, CC, BCC, SENDER, REPLY-TO, SUBJECT, MESSAGE-ID, IN-REPLY-TO, REFERENCES,
 *    LIST-ID), the text a SEARCH substring is looked for in, lower-cased; a key is present exactly when the header is.
 *    LIST-ID holds every List-Id field's decoded value, one a line.
 *  - `x`: 1 when the LATE_HEADER_FIELDS were looked for (summaries made before List-Id was kept do not carry it; the
 *    store fills those rows from the message's header block once, see PostgresMessageStore.fillLateHeaders). Address
 *    fields hold each address as `decoded name <mailbox@host>` (or the bare address) and each group's name, one a
 *    line: Dovecot's normalised form, so odd spacing or comments in the header do not hide an address.
 *  - `sd`: the day the Date header names, in its own zone (RFC 3501 SENT*: time and zone ignored), as UTC ms; null
 *    without a readable Date (the internal date's day then, as for SENT* before).
 *  - `s`: RFC 5256 sort keys (SORT=DISPLAY included), upper-cased as i;ascii-casemap folds; `dt` the sent time in ms.
 */
import type { EnvelopeAddress } from '@dizi/mime/address';
import { baseSubject } from '@dizi/mime/base-subject';
import type { Envelope } from '@dizi/mime/message-summary';
import { decodeHeaderText } from '@dizi/mime/mime-header';

/** Header fields answered from search_fields; HEADER with any other name is the caller's to look up. */
export const INDEXED_HEADER_FIELDS = [
  'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'subject', 'message-id', 'in-reply-to', 'references', 'list-id',
] as const;
/** Kept fields that older summaries lack (their rows have no `x`). */
export const LATE_HEADER_FIELDS: readonly IndexedHeaderField[] = ['list-id'];
export type IndexedHeaderField = (typeof INDEXED_HEADER_FIELDS)[number];

export function isIndexedHeaderField(name: string): name is IndexedHeaderField {
  return (INDEXED_HEADER_FIELDS as readonly string[]).includes(name);
}

export interface SearchFields {
  h: Partial<Record<IndexedHeaderField, string>>;
  x?: 1;
  sd: number | null;
  dt: number | null;
  s: { subject: string; from: string; to: string; cc: string; dfrom: string; dto: string };
}

const DAY = 86_400_000;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The day a Date header names, in its own time zone; null when it names none. */
export function sentDayOf(raw: string | null | undefined): number | null {
  const m = raw ? /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})/.exec(raw) : null;
  if (!m) return null;
  const month = MONTHS.indexOf(m[2].toLowerCase());
  let year = Number(m[3]);
  if (year < 100) year += year < 50 ? 2000 : 1900;
  return month >= 0 ? Date.UTC(year, month, Number(m[1])) : null;
}

/** The day (UTC) of an instant, as SEARCH BEFORE/ON/SINCE compare internal dates. */
export function dayOf(date: Date): number {
  return Math.floor(date.getTime() / DAY) * DAY;
}

const ADDRESS_FIELDS: Array<[IndexedHeaderField, keyof Envelope]> = [
  ['from', 'from'], ['sender', 'sender'], ['reply-to', 'replyTo'], ['to', 'to'], ['cc', 'cc'], ['bcc', 'bcc'],
];

interface SummaryLike {
  envelope?: Envelope;
  subject?: string;
  baseSubject?: string;
  date?: string | Date | null;
  references?: string[];
  listIds?: unknown;
}

/** Envelope strings are the header's bytes, one char per octet (libs/mime mime-header.ts): decoded here. */
function addressForms(list: EnvelopeAddress[]): string {
  const out: string[] = [];
  for (const a of list) {
    if (typeof a?.mailbox !== 'string') continue;
    // A group's start marker (no host) carries the group's name.
    if (typeof a.host !== 'string') {
      out.push(decodeHeaderText(a.mailbox));
      continue;
    }
    const address = decodeHeaderText(`${a.mailbox}@${a.host}`);
    out.push(a.name ? `${decodeHeaderText(a.name)} <${address}>` : address);
  }
  return out.join('\n');
}

function firstMailbox(list: EnvelopeAddress[] | null | undefined): string {
  // The first address is a group's name when the field starts with a group (as Dovecot sorts it).
  return (Array.isArray(list) ? list[0]?.mailbox ?? '' : '').toUpperCase();
}

function displayOf(list: EnvelopeAddress[] | null | undefined): string {
  const a = Array.isArray(list) ? list[0] : null;
  if (!a) return '';
  if (a.name) return decodeHeaderText(a.name).toUpperCase();
  return `${a.mailbox ?? ''}@${a.host ?? ''}`.toUpperCase();
}

/**
 * The search fields of a stored summary (libs/mime MessageSummary without its search text, dates possibly strings);
 * `references` as the message row keeps them. A summary without an envelope yields fields with no header at all.
 */
export function searchFieldsOf(summary: unknown, references?: readonly string[]): SearchFields {
  const s = (summary && typeof summary === 'object' ? summary : {}) as SummaryLike;
  const env = s.envelope;
  const h: SearchFields['h'] = {};
  // Stored summaries come from many versions (and tests store partial ones): every part is checked before use.
  if (env && typeof env === 'object') {
    for (const [field, key] of ADDRESS_FIELDS) {
      const list = env[key];
      if (Array.isArray(list)) h[field] = addressForms(list).toLowerCase();
    }
    if (typeof env.subject === 'string') h.subject = (typeof s.subject === 'string' ? s.subject : decodeHeaderText(env.subject)).toLowerCase();
    if (typeof env.messageId === 'string') h['message-id'] = decodeHeaderText(env.messageId).toLowerCase();
    if (typeof env.inReplyTo === 'string') h['in-reply-to'] = decodeHeaderText(env.inReplyTo).toLowerCase();
  }
  const refs = references ?? (Array.isArray(s.references) ? s.references : []);
  if (refs.length) h.references = refs.join(' ').toLowerCase();
  const late = Array.isArray(s.listIds) ? listIdText(s.listIds) : undefined;
  if (late !== undefined && late !== null) h['list-id'] = late;
  const sent = typeof s.date === 'string' || s.date instanceof Date ? new Date(s.date) : null;
  const subject = typeof s.baseSubject === 'string' ? s.baseSubject : baseSubject(typeof s.subject === 'string' ? s.subject : '');
  return {
    h,
    ...(late !== undefined ? { x: 1 as const } : {}),
    sd: typeof env?.date === 'string' ? sentDayOf(env.date) : null,
    dt: sent && !Number.isNaN(sent.getTime()) ? sent.getTime() : null,
    s: {
      subject: subject.toUpperCase(),
      from: firstMailbox(env?.from),
      to: firstMailbox(env?.to),
      cc: firstMailbox(env?.cc),
      dfrom: displayOf(env?.from),
      dto: displayOf(env?.to),
    },
  };
}

/** Every List-Id field's value decoded and lower-cased, one a line; null without any (undefined: not a list). */
export function listIdText(values: unknown[]): string | null {
  const texts = values.filter((v): v is string => typeof v === 'string').map((v) => decodeHeaderText(v).toLowerCase());
  return texts.length ? texts.join('\n') : null;
}

/** PostgreSQL text and jsonb hold no NUL; hostile headers do. */
export function withoutNul(fields: SearchFields): SearchFields {
  const json = JSON.stringify(fields);
  return json.includes('\\u0000') ? (JSON.parse(json.replace(/\\u0000/g, '')) as SearchFields) : fields;
}
