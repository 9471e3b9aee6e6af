/**
 * Email/query filters (RFC 8621 §4.4.1) evaluated over one folder: text conditions are answered by the store's
 * indexes (header fields and the full-text index) as UID sets, the rest from the message rows.
 */
import type { MessageRecord, MessageStore, StoreSearch } from '@dizi/mail-store/ports/message-store';
import { searchQueryTokens } from '@dizi/mime/search-tokens';
import { MethodError } from './errors';
import { flagOf } from './email-view';

export type Filter = Record<string, unknown>;

const CONDITIONS = [
  'inMailbox', 'inMailboxOtherThan', 'before', 'after', 'minSize', 'maxSize', 'allInThreadHaveKeyword', 'someInThreadHaveKeyword',
  'noneInThreadHaveKeyword', 'hasKeyword', 'notKeyword', 'hasAttachment', 'text', 'from', 'to', 'cc', 'bcc', 'subject', 'body', 'header',
];
const ADDRESS_FIELDS = ['from', 'to', 'cc', 'bcc', 'subject'] as const;

/** Checks the shape once, before any folder is read: unknown conditions are unsupportedFilter. */
export function checkFilter(filter: unknown): void {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) throw new MethodError('invalidArguments', 'filter must be an object');
  const f = filter as Filter;
  if ('operator' in f) {
    if (!['AND', 'OR', 'NOT'].includes(f.operator as string)) throw new MethodError('unsupportedFilter', `unknown operator ${String(f.operator)}`);
    if (!Array.isArray(f.conditions)) throw new MethodError('invalidArguments', 'a FilterOperator needs a list of conditions');
    f.conditions.forEach(checkFilter);
    return;
  }
  for (const [key, value] of Object.entries(f)) {
    if (!CONDITIONS.includes(key)) throw new MethodError('unsupportedFilter', `unknown filter condition ${key}`);
    const ok = ['minSize', 'maxSize'].includes(key) ? typeof value === 'number'
      : key === 'hasAttachment' ? typeof value === 'boolean'
        : key === 'inMailboxOtherThan' ? Array.isArray(value) && value.every((v) => typeof v === 'string')
          : key === 'header' ? Array.isArray(value) && value.length >= 1 && value.length <= 2 && value.every((v) => typeof v === 'string')
            : typeof value === 'string';
    if (!ok) throw new MethodError('invalidArguments', `filter condition ${key} has the wrong type`);
    if ((key === 'before' || key === 'after') && Number.isNaN(Date.parse(value as string))) {
      throw new MethodError('invalidArguments', `${key} must be a UTCDate like 2024-01-31T12:00:00Z`);
    }
  }
}

/** The folder ids a filter can match at all: an inMailbox at the top (or ANDed there) narrows the folders read. */
export function folderScope(filter: Filter | null, folderIds: string[]): string[] {
  if (!filter) return folderIds;
  if (typeof filter.inMailbox === 'string') return folderIds.filter((id) => id === filter.inMailbox);
  if (filter.operator === 'AND') {
    let scope = folderIds;
    for (const c of filter.conditions as Filter[]) scope = folderScope(c, scope);
    return scope;
  }
  return folderIds;
}

/** A predicate over the folder's records; text conditions are looked up in the store first. */
export async function compileFilter(filter: Filter | null, folderId: string, store: MessageStore): Promise<(r: MessageRecord) => boolean> {
  if (!filter) return () => true;
  if ('operator' in filter) {
    const parts = await Promise.all((filter.conditions as Filter[]).map((c) => compileFilter(c, folderId, store)));
    if (filter.operator === 'AND') return (r) => parts.every((p) => p(r));
    if (filter.operator === 'OR') return (r) => parts.some((p) => p(r));
    return (r) => !parts.some((p) => p(r));
  }
  const tests: Array<(r: MessageRecord) => boolean> = [];
  for (const [key, value] of Object.entries(filter)) {
    switch (key) {
      case 'inMailbox': tests.push(() => value === folderId); break;
      case 'inMailboxOtherThan': tests.push(() => !(value as string[]).includes(folderId)); break;
      case 'before': { const t = Date.parse(value as string); tests.push((r) => r.internalDate.getTime() < t); break; }
      case 'after': { const t = Date.parse(value as string); tests.push((r) => r.internalDate.getTime() >= t); break; }
      case 'minSize': tests.push((r) => r.size >= (value as number)); break;
      case 'maxSize': tests.push((r) => r.size < (value as number)); break;
      // The thread conditions are answered for the message itself, not yet across its thread.
      case 'hasKeyword': case 'allInThreadHaveKeyword': case 'someInThreadHaveKeyword':
        tests.push(hasFlag(value as string)); break;
      case 'notKeyword': case 'noneInThreadHaveKeyword': { const has = hasFlag(value as string); tests.push((r) => !has(r)); break; }
      case 'hasAttachment': tests.push((r) => ((r.sortFields?.attachmentNames?.length ?? 0) > 0) === value); break;
      case 'from': case 'to': case 'cc': case 'bcc': case 'subject': tests.push(inSet(await headerUids(store, folderId, key, value as string))); break;
      case 'body': tests.push(inSet(await bodyUids(store, folderId, value as string))); break;
      case 'text': {
        const sets = await Promise.all([...ADDRESS_FIELDS.map((f) => headerUids(store, folderId, f, value as string)), bodyUids(store, folderId, value as string)]);
        tests.push(inSet(new Set(sets.flatMap((s) => [...s])))); break;
      }
      case 'header': {
        const [name, text] = value as string[];
        const field = name.toLowerCase();
        if (!['from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'subject', 'message-id', 'in-reply-to', 'references'].includes(field)) {
          throw new MethodError('unsupportedFilter', `header conditions are answered for From, Sender, Reply-To, To, Cc, Bcc, Subject, Message-ID, In-Reply-To and References, not ${name}`);
        }
        tests.push(inSet(await headerUids(store, folderId, field, text ?? '')));
        break;
      }
    }
  }
  return (r) => tests.every((t) => t(r));
}

function hasFlag(keyword: string): (r: MessageRecord) => boolean {
  const flag = flagOf(keyword).toLowerCase();
  return (r) => r.flags.some((f) => f.toLowerCase() === flag);
}

function inSet(uids: Set<number>): (r: MessageRecord) => boolean {
  return (r) => uids.has(r.uid);
}

async function headerUids(store: MessageStore, folderId: string, field: string, value: string): Promise<Set<number>> {
  const query: StoreSearch = { op: 'header', field, value: value.toLowerCase() };
  return new Set((await store.searchMessages(folderId, query)).map((h) => h.uid));
}

/** Words of the query, each in the message (the full-text index): JMAP leaves the matching to the server. */
async function bodyUids(store: MessageStore, folderId: string, value: string): Promise<Set<number>> {
  const tokens = searchQueryTokens(value);
  if (tokens.length === 0) return new Set();
  return new Set(await store.search(folderId, tokens));
}
