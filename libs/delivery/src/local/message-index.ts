/** From one libs/mime summary (computed once per spooled message) to what the message store keeps per copy. */
import type { Readable } from 'node:stream';
import { searchKeyList, type SearchKeyList } from '@dizi/domain/search-key';
import type { SortFields, SpooledSearchKeys } from '@dizi/mail-store/ports/message-store';
import { searchTextParts, summariseMessage, type MessageSummary, type SummaryLimits } from '@dizi/mime/message-summary';
import { searchTokensOf } from '@dizi/mime/search-tokens';

/**
 * A summary as spool_message.summary holds it: JSON, so the date is a string. The spool writer keeps the keys of
 * the search lexemes apart, in spool_message.search_keys (spoolSummary), rather than the text they come from, which
 * may be megabytes; rows spooled by earlier versions keep the lexemes or the text in the summary.
 */
export type StoredSummary = Omit<MessageSummary, 'date' | 'searchText'> & { date: string | Date | null } & (
  | { searchText?: undefined; searchTokens?: undefined }
  | { searchTokens: string[]; searchText?: undefined }
  | { searchText: MessageSummary['searchText']; searchTokens?: undefined }
);

export interface IndexedMessage {
  /** Stored in message.summary: what IMAP needs (envelope, structure, part offsets), without the search text. */
  summary: unknown;
  sortFields: SortFields;
  searchKeys: SearchKeyList | SpooledSearchKeys;
}

/**
 * True when a stored summary has everything indexing needs (`keysSpooled`: its keys are in the spool row); older or
 * slimmer ones are computed again.
 */
export function isCompleteSummary(value: unknown, keysSpooled = false): value is StoredSummary {
  const s = value as Partial<MessageSummary & { searchTokens: unknown }> | null;
  return !!s && typeof s === 'object' && !!s.envelope && !!s.bodyStructure && !!s.partOffsets
    && (keysSpooled || !!s.searchText || Array.isArray(s.searchTokens));
}

/** Never fails on what the message holds (past a limit the summary is degraded); only reading `source` can fail. */
export async function summarise(source: Readable | Buffer, limits?: SummaryLimits): Promise<StoredSummary> {
  return summariseMessage(source, limits);
}

/** The summary limits the operator set (settings mimeMax*). */
export function summaryLimitsOf(settings: { mimeMaxParts: number; mimeMaxDepth: number; mimeMaxHeaderBytes: number }): SummaryLimits {
  return { maxParts: settings.mimeMaxParts, maxDepth: settings.mimeMaxDepth, maxHeaderSize: settings.mimeMaxHeaderBytes };
}

/**
 * What the spool keeps: the summary without its search text, and the keys of the text's lexemes, made once, here (in
 * a summary thread), instead of at every delivery. The keys are one string, which PostgreSQL reads as an int8[].
 */
export function spoolSummary(s: MessageSummary): { summary: StoredSummary; searchKeys: SearchKeyList } {
  const { searchText, ...kept } = s;
  return { summary: kept, searchKeys: searchKeyList(lexemes(searchText)) };
}

/** `spooled`: where the keys are when the summary has none (see spoolSummary). */
export function indexMessage(s: StoredSummary, spooled?: SpooledSearchKeys): IndexedMessage {
  const { searchText, searchTokens: tokens, ...kept } = s;
  const date = s.date ? new Date(s.date) : null;
  return {
    summary: kept,
    sortFields: {
      subject: s.subject,
      baseSubject: s.baseSubject,
      from: s.from?.address ?? null,
      to: s.to[0]?.address ?? null,
      cc: s.cc[0]?.address ?? null,
      sentDate: date && !Number.isNaN(date.getTime()) ? date : null,
      messageId: s.messageId,
      inReplyTo: s.inReplyTo,
      references: s.references,
      attachmentNames: s.attachmentNames,
    },
    searchKeys: tokens ? searchKeyList(tokens) : searchText ? searchKeyList(lexemes(searchText)) : spooled ?? '',
  };
}

/**
 * The lexemes of `${headers}\n${body}` (headers holds subject, from, to, cc and attachment names, decoded), read from
 * the decoded parts: a long ASCII body is never made a string.
 */
function lexemes(text: MessageSummary['searchText']): string[] {
  return searchTokensOf(searchTextParts(text));
}
