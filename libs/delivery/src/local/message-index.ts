/** From one libs/mime summary (computed once per spooled message) to what the message store keeps per copy. */
import type { Readable } from 'node:stream';
import { isSearchKeyList, searchKeyList, type SearchKeyList } from '@dizi/domain/search-key';
import type { SortFields } from '@dizi/mail-store/ports/message-store';
import { searchTextParts, summariseMessage, type MessageSummary } from '@dizi/mime/message-summary';
import { searchTokensOf } from '@dizi/mime/search-tokens';

/**
 * A summary as spool_message.summary holds it: JSON, so the date is a string. The spool writer keeps the keys of
 * the search lexemes (spoolSummary) rather than the text they come from, which may be megabytes; rows spooled by
 * earlier versions keep the lexemes or the text.
 */
export type StoredSummary = Omit<MessageSummary, 'date' | 'searchText'> & { date: string | Date | null } & (
  | { searchKeys: SearchKeyList; searchText?: undefined; searchTokens?: undefined }
  | { searchTokens: string[]; searchText?: undefined; searchKeys?: undefined }
  | { searchText: MessageSummary['searchText']; searchTokens?: undefined; searchKeys?: undefined }
);

export interface IndexedMessage {
  /** Stored in message.summary: what IMAP needs (envelope, structure, part offsets), without the search text. */
  summary: unknown;
  sortFields: SortFields;
  searchKeys: SearchKeyList;
}

/** True when a stored summary has everything indexing needs; older or slimmer ones are computed again. */
export function isCompleteSummary(value: unknown): value is StoredSummary {
  const s = value as Partial<MessageSummary & { searchTokens: unknown; searchKeys: unknown }> | null;
  return !!s && typeof s === 'object' && !!s.envelope && !!s.bodyStructure && !!s.partOffsets
    && (!!s.searchText || Array.isArray(s.searchTokens) || isSearchKeyList(s.searchKeys));
}

export async function summarise(source: Readable | Buffer): Promise<StoredSummary> {
  return summariseMessage(source);
}

/**
 * The summary to keep in the spool: its search text turned into lexemes and their keys once, here (in a summary
 * thread), instead of at every delivery. The keys travel as one string, which the store hands to PostgreSQL as is.
 */
export function spoolSummary(s: MessageSummary): StoredSummary {
  const { searchText, ...kept } = s;
  return { ...kept, searchKeys: searchKeyList(lexemes(searchText)) };
}

export function indexMessage(s: StoredSummary): IndexedMessage {
  const { searchText, searchTokens: tokens, searchKeys: keys, ...kept } = s;
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
    searchKeys: keys ?? searchKeyList(tokens ?? lexemes(searchText!)),
  };
}

/**
 * The lexemes of `${headers}\n${body}` (headers holds subject, from, to, cc and attachment names, decoded), read from
 * the decoded parts: a long ASCII body is never made a string.
 */
function lexemes(text: MessageSummary['searchText']): string[] {
  return searchTokensOf(searchTextParts(text));
}
