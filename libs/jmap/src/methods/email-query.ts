/** Email/query (RFC 8621 §4.4): filter and sort over the mailbox's folders, with position, anchor and limit. */
import type { MessageRecord } from '@dizi/mail-store/ports/message-store';
import { MAIL } from '../capabilities';
import { checkAccount, optionalBoolean, optionalInt, optionalString, optionalUnsigned, resolveId } from '../args';
import { MethodError } from '../errors';
import { checkFilter, compileFilter, folderScope, type Filter } from '../email-filter';
import { emailIdOf, flagOf } from '../email-view';
import type { JmapMethod } from '../method';
import { emailState } from '../state';

export const EMAIL_SORT_PROPERTIES = ['receivedAt', 'size', 'from', 'to', 'subject', 'sentAt', 'hasKeyword', 'allInThreadHaveKeyword', 'someInThreadHaveKeyword'];

type Row = MessageRecord & { folderId: string };

export const emailQuery: JmapMethod = {
  name: 'Email/query',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const filter = args.filter === undefined || args.filter === null ? null : (args.filter as Filter);
    if (filter) checkFilter(filter);
    const compare = comparator(args.sort);
    const collapseThreads = optionalBoolean(args, 'collapseThreads', false);
    const position = optionalInt(args, 'position') ?? 0;
    const anchor = optionalString(args, 'anchor');
    const anchorOffset = optionalInt(args, 'anchorOffset') ?? 0;
    const askedLimit = optionalUnsigned(args, 'limit');
    const limit = Math.min(askedLimit ?? ctx.limits.maxObjectsInGet, ctx.limits.maxObjectsInGet);

    const folders = await ctx.store.listFolders(ctx.account.mailboxId);
    if (filter && typeof filter.inMailbox === 'string' && !folders.some((f) => f.id === filter.inMailbox)) {
      throw new MethodError('unsupportedFilter', `no mailbox ${String(filter.inMailbox)}`);
    }
    const rows: Row[] = [];
    for (const folderId of folderScope(filter, folders.map((f) => f.id))) {
      const test = await compileFilter(filter, folderId, ctx.store);
      const records = await ctx.store.listMessages(folderId, { withSummary: false, withSortFields: true, withThreadId: true });
      for (const r of records) if (test(r)) rows.push({ ...r, folderId });
    }
    rows.sort(compare);
    // Collapsed: the first email of each thread in the sort order stands for it.
    const threads = new Set<string>();
    const shown = collapseThreads ? rows.filter((r) => !threads.has(r.threadId!) && threads.add(r.threadId!)) : rows;
    const ids = shown.map((r) => emailIdOf(r.id));

    let start: number;
    if (anchor !== undefined) {
      const at = ids.indexOf(resolveId(anchor, ctx));
      if (at < 0) throw new MethodError('anchorNotFound', `${anchor} is not in the results`);
      start = Math.max(0, at + anchorOffset);
    } else {
      start = position >= 0 ? position : Math.max(0, ids.length + position);
    }
    start = Math.min(start, ids.length);
    const out: Record<string, unknown> = {
      accountId: ctx.account.accountId,
      queryState: emailState(folders),
      canCalculateChanges: false,
      position: start,
      ids: ids.slice(start, start + limit),
    };
    if (askedLimit !== undefined && askedLimit > limit) out.limit = limit;
    if (optionalBoolean(args, 'calculateTotal', false)) out.total = ids.length;
    return out;
  },
};

function comparator(sort: unknown): (a: Row, b: Row) => number {
  const list = sort === undefined || sort === null ? [{ property: 'receivedAt', isAscending: false }] : sort;
  if (!Array.isArray(list)) throw new MethodError('invalidArguments', 'sort must be a list of comparators');
  const keys = list.map((c: unknown) => {
    const item = (c ?? {}) as Record<string, unknown>;
    const property = item.property;
    if (typeof property !== 'string' || !EMAIL_SORT_PROPERTIES.includes(property)) {
      throw new MethodError('unsupportedSort', `cannot sort emails by ${String(property)}`);
    }
    if (item.collation !== undefined && item.collation !== 'i;unicode-casemap' && item.collation !== 'i;ascii-casemap') {
      throw new MethodError('unsupportedSort', `collation ${String(item.collation)} is not supported`);
    }
    if (property.endsWith('Keyword') && typeof item.keyword !== 'string') {
      throw new MethodError('invalidArguments', `sorting by ${property} needs a keyword`);
    }
    return { value: valueOf(property, item.keyword as string | undefined), asc: item.isAscending !== false };
  });
  return (a, b) => {
    for (const k of keys) {
      const x = k.value(a);
      const y = k.value(b);
      const d = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      if (d !== 0) return k.asc ? d : -d;
    }
    // Ties: newest message first, as the default order.
    return Number(BigInt(b.id) - BigInt(a.id));
  };
}

function valueOf(property: string, keyword: string | undefined): (r: Row) => string | number {
  switch (property) {
    case 'receivedAt': return (r) => r.internalDate.getTime();
    case 'size': return (r) => r.size;
    case 'from': return (r) => (r.sortFields?.from ?? '').toLowerCase();
    case 'to': return (r) => (r.sortFields?.to ?? '').toLowerCase();
    case 'subject': return (r) => (r.sortFields?.baseSubject ?? r.sortFields?.subject ?? '').toLowerCase();
    case 'sentAt': return (r) => (r.sortFields?.sentDate ? new Date(r.sortFields.sentDate).getTime() : r.internalDate.getTime());
    default: {
      const flag = flagOf(keyword!).toLowerCase();
      return (r) => (r.flags.some((f) => f.toLowerCase() === flag) ? 1 : 0);
    }
  }
}
