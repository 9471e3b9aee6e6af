/**
 * Email/query filters (RFC 8621 §4.4.1): checked, then handed to the store as one MailboxSearch over the whole
 * mailbox (header fields, the full-text index, the message columns), so no message is read to answer them.
 */
import type { MailboxSearch } from '@dizi/mail-store/ports/message-store';
import { searchQueryTokens } from '@dizi/mime/search-tokens';
import { MethodError } from './errors';
import { flagOf } from './email-view';

export type Filter = Record<string, unknown>;

const CONDITIONS = [
  'inMailbox', 'inMailboxOtherThan', 'before', 'after', 'minSize', 'maxSize', 'allInThreadHaveKeyword', 'someInThreadHaveKeyword',
  'noneInThreadHaveKeyword', 'hasKeyword', 'notKeyword', 'hasAttachment', 'attachmentName', 'text', 'from', 'to', 'cc', 'bcc', 'subject', 'body', 'header',
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

/**
 * The filter as the store's MailboxSearch, answered from the rows and indexes of the whole mailbox. Thread keyword
 * conditions are answered for the message itself (a message is its thread's only copy in most mailboxes).
 */
export function toMailboxSearch(filter: Filter | null): MailboxSearch {
  if (!filter) return { op: 'all' };
  if ('operator' in filter) {
    const keys = (filter.conditions as Filter[]).map(toMailboxSearch);
    if (filter.operator === 'AND') return { op: 'and', keys };
    if (filter.operator === 'OR') return { op: 'or', keys };
    return { op: 'not', key: { op: 'or', keys } };
  }
  const keys: MailboxSearch[] = [];
  for (const [key, value] of Object.entries(filter)) {
    switch (key) {
      case 'inMailbox': keys.push({ op: 'folders', ids: [value as string] }); break;
      case 'inMailboxOtherThan': keys.push({ op: 'not', key: { op: 'folders', ids: value as string[] } }); break;
      case 'before': keys.push({ op: 'received', cmp: 'before', at: new Date(Date.parse(value as string)) }); break;
      case 'after': keys.push({ op: 'received', cmp: 'since', at: new Date(Date.parse(value as string)) }); break;
      // minSize: size >= n; maxSize: size < n.
      case 'minSize': keys.push({ op: 'size', larger: true, n: (value as number) - 1 }); break;
      case 'maxSize': keys.push({ op: 'size', larger: false, n: value as number }); break;
      case 'hasKeyword': case 'allInThreadHaveKeyword': case 'someInThreadHaveKeyword':
        keys.push({ op: 'flag', flag: flagOf(value as string), set: true }); break;
      case 'notKeyword': case 'noneInThreadHaveKeyword': keys.push({ op: 'flag', flag: flagOf(value as string), set: false }); break;
      case 'hasAttachment': keys.push({ op: 'attachment', has: value as boolean }); break;
      // An extension (as Fastmail and Stalwart have): part of an attachment's file name, any case.
      case 'attachmentName': keys.push({ op: 'attachmentName', value: (value as string).toLowerCase() }); break;
      case 'from': case 'to': case 'cc': case 'bcc': case 'subject': keys.push(headerKey(key, value as string)); break;
      case 'body': keys.push(bodyKey(value as string)); break;
      case 'text': keys.push({ op: 'or', keys: [...ADDRESS_FIELDS.map((f) => headerKey(f, value as string)), bodyKey(value as string)] }); break;
      case 'header': {
        const [name, text] = value as string[];
        const field = name.toLowerCase();
        if (!HEADER_FIELDS.includes(field)) {
          throw new MethodError('unsupportedFilter', `header conditions are answered for From, Sender, Reply-To, To, Cc, Bcc, Subject, Message-ID, In-Reply-To and References, not ${name}`);
        }
        keys.push(headerKey(field, text ?? ''));
        break;
      }
    }
  }
  return keys.length === 1 ? keys[0] : { op: 'and', keys };
}

const HEADER_FIELDS = ['from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'subject', 'message-id', 'in-reply-to', 'references'];

function headerKey(field: string, value: string): MailboxSearch {
  return { op: 'header', field, value: value.toLowerCase() };
}

/** Words of the query, each in the message (the full-text index): JMAP leaves the matching to the server. */
function bodyKey(value: string): MailboxSearch {
  const tokens = searchQueryTokens(value);
  // Nothing to look for (punctuation only): no message matches, as before.
  return tokens.length === 0 ? { op: 'or', keys: [] } : { op: 'text', tokens };
}
