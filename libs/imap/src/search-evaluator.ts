/**
 * Evaluates a SEARCH key tree over the session's view. searchHits has the store answer it from its columns and
 * indexes (one statement); what only this session knows (sequence numbers, \Recent, `$`) and what the store keeps no
 * column for (TEXT/BODY, through the full-text index in text-search.ts; HEADER fields other than the indexed ones)
 * is turned into UID sets first.
 */
import type { MessageRecord, NumberRange, SearchHit, SortCriterion, StoreSearch } from '@dizi/mail-store/ports/message-store';
import { isIndexedHeaderField } from '@dizi/mail-store/search-fields';
import { INCOMPLETE_INDEX_TOKEN, substringQueryTokens } from '@dizi/mime/search-tokens';
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

/**
 * Matching records in ascending UID order (= sequence order), every key checked here, header keys by reading each
 * message's header: the reference the store's answer (searchHits) is tested against, and how HEADER fields the store
 * does not keep are checked on the few messages the index leaves.
 */
export async function evaluateSearchByReading(session: Session, key: SearchKey, withSortFields = false): Promise<MessageRecord[]> {
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

// ------------------------------------------------------------------ answered by the store

/**
 * Header fields the full-text index leaves out (libs/mime message-summary.ts UNINDEXED_HEADERS) or that live in the
 * per-recipient header prefix, which is not summarised: HEADER on these reads every message's header.
 */
const NOT_IN_TEXT_INDEX = /^(received|dkim-signature|x-google-dkim-signature|arc-[a-z-]+|authentication-results|delivered-to|return-path|x-spam-[a-z-]+|x-virus-[a-z-]+)$/;

/** Header reads in flight for HEADER fields the store keeps no text for (a file read each, no query). */
const HEADER_READS_AT_ONCE = 16;

function runsOf(sorted: Iterable<number>): NumberRange[] {
  const out: NumberRange[] = [];
  for (const n of sorted) {
    const last = out[out.length - 1];
    if (last && n === last.to + 1) last.to = n;
    else if (!last || n > last.to) out.push({ from: n, to: n });
  }
  return out;
}

/** HEADER of a field the store keeps no text for: the index narrows the messages, their headers are read. */
async function headerByReading(session: Session, key: Extract<SearchKey, { op: 'header' }>): Promise<StoreSearch> {
  const sel = session.requireSelected();
  const store = session.store;
  const tokens = key.value !== '' && !NOT_IN_TEXT_INDEX.test(key.field) ? substringQueryTokens(key.value) : [];
  let uids: NumberRange[] | undefined;
  if (tokens.length) {
    const [narrowed, incomplete] = await Promise.all([store.search(sel.folder.id, tokens), store.search(sel.folder.id, [INCOMPLETE_INDEX_TOKEN])]);
    uids = runsOf([...new Set([...narrowed, ...incomplete])].sort((a, b) => a - b));
    if (uids.length === 0) return { op: 'uids', ranges: [] };
  }
  // Listed with their header prefix, the headers are read without a query each, several at a time.
  const records = await store.listMessages(sel.folder.id, { uids, withSummary: true, withSource: true });
  const ctx: Context = {
    session, seqOf: new Map(), maxSeq: sel.uids.count, maxUid: sel.uids.max, textMatches: new Map(), headers: new Map(), texts: new Map(),
  };
  let next = 0;
  const reader = async () => {
    while (next < records.length) {
      const r = records[next++];
      const summary = summaryOf(r);
      const range = (summary ? sectionRange(r, summary, 'TEXT', 'header') : null) ?? { start: 0, end: Math.min(r.size, 256 * 1024) };
      const bytes = range.end > range.start ? await store.readMessage(r, { start: range.start, end: range.end - 1 }) : Buffer.alloc(0);
      ctx.headers.set(r.uid, parseHeaderBlock(bytes).map((f) => ({ key: f.key, value: decodeHeaderText(f.value) })));
    }
  };
  await Promise.all(Array.from({ length: HEADER_READS_AT_ONCE }, reader));
  const found: number[] = [];
  for (const r of records) if (await matches(ctx, key, r)) found.push(r.uid);
  return { op: 'uids', ranges: runsOf(found) };
}

async function textByIndex(session: Session, key: Extract<SearchKey, { op: 'text' }>, texts: Map<string, SearchableText>): Promise<StoreSearch> {
  const sel = session.requireSelected();
  const match = await prepareTextMatch(session.store, sel.folder.id, key, texts);
  const uids = await match.matchingUids();
  return uids === null ? { op: 'all' } : { op: 'uids', ranges: runsOf(uids) };
}

/** The key as the store takes it: session-dependent keys and TEXT/BODY become UID sets. */
async function toStoreSearch(session: Session, key: SearchKey, texts: Map<string, SearchableText>): Promise<StoreSearch> {
  const sel = session.requireSelected();
  switch (key.op) {
    case 'all': case 'flag': case 'size': case 'modseq': case 'date': return key;
    case 'and': {
      const keys: StoreSearch[] = [];
      for (const k of key.keys) keys.push(await toStoreSearch(session, k, texts));
      return { op: 'and', keys };
    }
    case 'or': return { op: 'or', a: await toStoreSearch(session, key.a, texts), b: await toStoreSearch(session, key.b, texts) };
    case 'not': return { op: 'not', key: await toStoreSearch(session, key.key, texts) };
    case 'seq': {
      if (key.set.saved) return { op: 'uids', ranges: runsOf(sel.savedResult) };
      return { op: 'uids', ranges: runsOf(sel.uids.atSeqRanges(resolveRanges(key.set.ranges, sel.uids.count))) };
    }
    case 'uid': {
      if (key.set.saved) return { op: 'uids', ranges: runsOf(sel.savedResult) };
      return { op: 'uids', ranges: resolveRanges(key.set.ranges, sel.uids.max) };
    }
    case 'recent': {
      const recent: StoreSearch = { op: 'uids', ranges: sel.recent.toRuns() };
      return key.set ? recent : { op: 'not', key: recent };
    }
    case 'new': return { op: 'and', keys: [{ op: 'uids', ranges: sel.recent.toRuns() }, { op: 'flag', flag: '\\Seen', set: false }] };
    case 'old': return { op: 'not', key: { op: 'uids', ranges: sel.recent.toRuns() } };
    case 'header':
      return isIndexedHeaderField(key.field) ? { op: 'header', field: key.field, value: key.value.toLowerCase() } : headerByReading(session, key);
    case 'text': return textByIndex(session, key, texts);
  }
}

/**
 * The messages of the session's view matching `key`, ascending by UID, or in `sort` order (SORT), answered by the
 * store from its columns and indexes.
 */
export async function searchHits(session: Session, key: SearchKey, sort?: SortCriterion[], withThreadKeys = false): Promise<SearchHit[]> {
  const sel = session.requireSelected();
  const query = await toStoreSearch(session, key, new Map());
  const hits = await session.store.searchMessages(sel.folder.id, query, sort || withThreadKeys ? { sort, withThreadKeys } : undefined);
  const inView = sel.uids;
  return hits.filter((h) => inView.has(h.uid));
}
