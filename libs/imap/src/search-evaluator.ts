// Evaluates a SEARCH key tree over the session's view; TEXT/BODY go through the full-text index (text-search.ts).
import type { MessageRecord } from '@dizi/mail-store/ports/message-store';
import type { EnvelopeAddress } from '@dizi/mime/address';
import type { Envelope } from '@dizi/mime/message-summary';
import { decodeHeaderText, parseHeaderBlock } from '@dizi/mime/mime-header';
import { readRange, sectionRange, summaryOf } from './message-access';
import type { SearchKey } from './parser/search-query';
import { inRanges, resolveRanges } from './parser/sequence-set';
import type { Session } from './session';
import { prepareTextMatch, type SearchableText, type TextMatch } from './text-search';

const DAY = 86_400_000;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The day a Date header names, in its own time zone (RFC 3501 ignores time and zone for SENT*). */
function sentDay(raw: string | null | undefined, fallback: Date): number {
  const m = raw ? /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})/.exec(raw) : null;
  if (m) {
    const month = MONTHS.indexOf(m[2].toLowerCase());
    let year = Number(m[3]);
    if (year < 100) year += year < 50 ? 2000 : 1900;
    if (month >= 0) return Date.UTC(year, month, Number(m[1]));
  }
  return Math.floor(fallback.getTime() / DAY) * DAY;
}

function needsText(key: SearchKey): boolean {
  switch (key.op) {
    case 'header': case 'text': return true;
    case 'and': return key.keys.some(needsText);
    case 'or': return needsText(key.a) || needsText(key.b);
    case 'not': return needsText(key.key);
    default: return false;
  }
}

function needsSummary(key: SearchKey): boolean {
  switch (key.op) {
    // TEXT/BODY look up what they read themselves (text-search.ts).
    case 'header': return true;
    case 'date': return key.field === 'sent';
    case 'and': return key.keys.some(needsSummary);
    case 'or': return needsSummary(key.a) || needsSummary(key.b);
    case 'not': return needsSummary(key.key);
    default: return false;
  }
}

interface Context {
  session: Session;
  seqOf: Map<number, number>;
  maxSeq: number;
  maxUid: number;
  textMatches: Map<SearchKey, TextMatch>;
  headers: Map<number, Array<{ key: string; value: string }>>;
  texts: Map<string, SearchableText>;
}

async function headersOf(ctx: Context, r: MessageRecord) {
  let h = ctx.headers.get(r.uid);
  if (!h) {
    const summary = summaryOf(r);
    const range = summary ? sectionRange(r, summary, 'TEXT', 'header') : null;
    const bytes = range ? await readRange(ctx.session.store, r, range.start, range.end) : await readRange(ctx.session.store, r, 0, Math.min(r.size, 256 * 1024));
    h = parseHeaderBlock(bytes).map((f) => ({ key: f.key, value: decodeHeaderText(f.value) }));
    ctx.headers.set(r.uid, h);
  }
  return h;
}

const ENVELOPE_FIELDS: Record<string, keyof Envelope> = { from: 'from', sender: 'sender', 'reply-to': 'replyTo', to: 'to', cc: 'cc', bcc: 'bcc' };

function addressForms(r: MessageRecord, field: string): string[] {
  const name = ENVELOPE_FIELDS[field];
  const list = name ? (summaryOf(r)?.envelope[name] as EnvelopeAddress[] | null | undefined) : null;
  if (!list) return [];
  return list.filter((a) => a.mailbox !== null && a.host !== null).map((a) => {
    const address = `${a.mailbox}@${a.host}`;
    return a.name ? `${decodeHeaderText(a.name)} <${address}>` : address;
  });
}

async function matches(ctx: Context, key: SearchKey, r: MessageRecord): Promise<boolean> {
  const sel = ctx.session.selected!;
  switch (key.op) {
    case 'all': return true;
    case 'and':
      for (const k of key.keys) if (!(await matches(ctx, k, r))) return false;
      return true;
    case 'or': return (await matches(ctx, key.a, r)) || (await matches(ctx, key.b, r));
    case 'not': return !(await matches(ctx, key.key, r));
    case 'flag': return r.flags.some((f) => f.toLowerCase() === key.flag.toLowerCase()) === key.set;
    case 'recent': return sel.recent.has(r.uid) === key.set;
    case 'new': return sel.recent.has(r.uid) && !r.flags.includes('\\Seen');
    case 'old': return !sel.recent.has(r.uid);
    case 'seq': {
      if (key.set.saved) return sel.savedResult.includes(r.uid);
      return inRanges(ctx.seqOf.get(r.uid)!, resolveRanges(key.set.ranges, ctx.maxSeq));
    }
    case 'uid': {
      if (key.set.saved) return sel.savedResult.includes(r.uid);
      return inRanges(r.uid, resolveRanges(key.set.ranges, ctx.maxUid));
    }
    case 'size': return key.larger ? r.size > key.n : r.size < key.n;
    case 'modseq': return r.modseq >= key.n;
    case 'date': {
      const day = key.field === 'internal'
        ? Math.floor(r.internalDate.getTime() / DAY) * DAY
        : sentDay((summaryOf(r)?.envelope.date) ?? null, r.internalDate);
      if (key.cmp === 'before') return day < key.day;
      if (key.cmp === 'on') return day === key.day;
      return day >= key.day;
    }
    case 'header': {
      const wanted = key.value.toLowerCase();
      const fields = (await headersOf(ctx, r)).filter((f) => f.key === key.field);
      if (wanted === '') return fields.length > 0;
      if (fields.some((f) => f.value.toLowerCase().includes(wanted))) return true;
      // Address fields also match their parsed form, without comments and odd spacing (as Dovecot does).
      return addressForms(r, key.field).some((a) => a.toLowerCase().includes(wanted));
    }
    case 'text': return ctx.textMatches.get(key)!.matches(r);
  }
}

async function collectCandidates(ctx: Context, key: SearchKey, folderId: string): Promise<void> {
  if (key.op === 'text') ctx.textMatches.set(key, await prepareTextMatch(ctx.session.store, folderId, key, ctx.texts)); else if (key.op === 'and') for (const k of key.keys) await collectCandidates(ctx, k, folderId);
  else if (key.op === 'or') {
    await collectCandidates(ctx, key.a, folderId);
    await collectCandidates(ctx, key.b, folderId);
  } else if (key.op === 'not') await collectCandidates(ctx, key.key, folderId);
}

/** Matching records in ascending UID order (= sequence order). */
export async function evaluateSearch(session: Session, key: SearchKey, withSortFields = false): Promise<MessageRecord[]> {
  const sel = session.requireSelected();
  const records = await session.store.listMessages(sel.folder.id, { withSummary: needsSummary(key) || withSortFields, withSortFields });
  const inView = sel.uids;
  const seqOf = new Map(Array.from(sel.uids, (u, i) => [u, i + 1]));
  const ctx: Context = {
    session, seqOf, maxSeq: sel.uids.count, maxUid: sel.uids.max,
    textMatches: new Map(), headers: new Map(), texts: new Map(),
  };
  if (needsText(key)) await collectCandidates(ctx, key, sel.folder.id);
  const out: MessageRecord[] = [];
  for (const r of records) {
    if (!inView.has(r.uid)) continue;
    if (await matches(ctx, key, r)) out.push(r);
  }
  return out;
}
