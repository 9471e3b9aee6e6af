/**
 * SEARCH TEXT and BODY: a case-insensitive substring match (RFC 3501 / RFC 9051 §6.4.4) over a message's decoded
 * text, the same text the full-text index is built from (libs/mime `searchText`: subject, addresses, attachment names
 * and the other header fields for TEXT; the text parts, decoded, for BODY).
 *
 * The index serves it in two steps, without reading the folder's messages:
 *  - prefilter: messages carrying every substring lexeme of the query (substringQueryTokens), plus those whose index
 *    is incomplete, are the only ones that can match;
 *  - confirmation (TEXT only): a message whose lexemes include the whole query contains it, since every lexeme is a
 *    piece of the indexed text (a word, a word's piece, an address).
 * The prefiltered messages left unconfirmed are read, summarised again and checked exactly.
 */
import type { MessageRecord, MessageStore, NumberRange } from '@dizi/mail-store/ports/message-store';
import { summariseMessage } from '@dizi/mime/message-summary';
import { INCOMPLETE_INDEX_TOKEN, normalizeSearchText, substringQueryTokens } from '@dizi/mime/search-tokens';
import { prefixLength, summaryOf } from './message-access';

/** A query longer than this is never a lexeme (see search-tokens.ts). */
const MAX_LEXEME_LENGTH = 64;

export interface SearchableText {
  /** header text and body text, normalised */
  all: string;
  body: string;
}

export interface TextMatch {
  matches(record: MessageRecord): Promise<boolean>;
  /** Every matching UID of the folder, ascending; null when every message matches (an empty query). */
  matchingUids(): Promise<number[] | null>;
}

function runsOf(uids: number[]): NumberRange[] {
  const out: NumberRange[] = [];
  for (const uid of [...uids].sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last && uid === last.to + 1) last.to = uid;
    else out.push({ from: uid, to: uid });
  }
  return out;
}

/** The decoded text of one stored message (the blob as delivered, without the per-recipient header prefix). */
async function searchableText(store: MessageStore, record: MessageRecord): Promise<SearchableText> {
  const summary = summaryOf(record);
  const start = summary ? prefixLength(record, summary) : 0;
  const source = await store.getMessageSource(record.id, start > 0 ? { start, end: record.size - 1 } : undefined);
  const { searchText } = await summariseMessage(source);
  return { all: normalizeSearchText(`${searchText.headers}\n${searchText.body}`), body: normalizeSearchText(searchText.body) };
}

/**
 * Looks the query up in the index once per SEARCH; `texts` caches the messages read for exact checks (one SEARCH may
 * hold several TEXT/BODY keys).
 */
export async function prepareTextMatch(
  store: MessageStore,
  folderId: string,
  key: { body: boolean; value: string },
  texts: Map<string, SearchableText>,
): Promise<TextMatch> {
  const needle = normalizeSearchText(key.value);
  if (needle === '') return { matches: async () => true, matchingUids: async () => null };
  const tokens = substringQueryTokens(key.value);
  let candidates: Set<number> | null = null;
  if (tokens.length) {
    const [narrowed, incomplete] = await Promise.all([store.search(folderId, tokens), store.search(folderId, [INCOMPLETE_INDEX_TOKEN])]);
    candidates = new Set([...narrowed, ...incomplete]);
  }
  // BODY cannot be confirmed by a lexeme: it may come from the header text.
  const confirmable = !key.body && needle.length <= MAX_LEXEME_LENGTH && needle !== INCOMPLETE_INDEX_TOKEN && !needle.includes('\0');
  const confirmed = new Set(confirmable ? await store.search(folderId, [needle]) : []);
  // Summaries (for the header prefix's length) only of the messages that will be read.
  const unconfirmed = candidates ? [...candidates].filter((uid) => !confirmed.has(uid)) : null;
  const withSummary = new Map<number, MessageRecord>();
  if (unconfirmed === null || unconfirmed.length) {
    const records = await store.listMessages(folderId, { uids: unconfirmed ? runsOf(unconfirmed) : undefined, withSummary: true });
    for (const r of records) withSummary.set(r.uid, r);
  }
  const check = async (record: MessageRecord): Promise<boolean> => {
    if (confirmed.has(record.uid)) return true;
    if (candidates && !candidates.has(record.uid)) return false;
    let text = texts.get(record.id);
    if (!text) {
      text = await searchableText(store, withSummary.get(record.uid) ?? record);
      texts.set(record.id, text);
    }
    return (key.body ? text.body : text.all).includes(needle);
  };
  return {
    matches: check,
    async matchingUids() {
      // The unconfirmed candidates (or, without any, every message) were listed above; only they are read.
      const out = [...confirmed];
      for (const r of withSummary.values()) if (!confirmed.has(r.uid) && (await check(r))) out.push(r.uid);
      return [...new Set(out)].sort((a, b) => a - b);
    },
  };
}
