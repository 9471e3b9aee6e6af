/** Mailbox/query (RFC 8621 §2.3): filter by parentId, name, role, hasAnyRole, isSubscribed; sort by name or sortOrder. */
import type { Folder } from '@dizi/mail-store/ports/message-store';
import { MAIL } from '../capabilities';
import { checkAccount, optionalBoolean, optionalInt, optionalUnsigned } from '../args';
import { MethodError } from '../errors';
import { toMailbox } from '../mailbox-view';
import type { JmapMethod } from '../method';
import { mailboxMarks, mailboxState } from '../state';

type Mailbox = Record<string, unknown>;

export const mailboxQuery: JmapMethod = {
  name: 'Mailbox/query',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    if (optionalBoolean(args, 'sortAsTree', false) || optionalBoolean(args, 'filterAsTree', false)) {
      throw new MethodError('unsupportedFilter', 'sortAsTree and filterAsTree are not supported');
    }
    const folders = await ctx.store.listFolders(ctx.account.mailboxId);
    const byName = new Map<string, Folder>(folders.map((f) => [f.name, f]));
    let mailboxes = folders.map((f) => toMailbox(f, byName));
    if (args.filter !== undefined && args.filter !== null) mailboxes = mailboxes.filter((m) => matches(m, args.filter));
    mailboxes.sort(comparator(args.sort));
    const ids = mailboxes.map((m) => m.id as string);
    const position = windowStart(optionalInt(args, 'position') ?? 0, ids.length);
    const limit = optionalUnsigned(args, 'limit');
    const out: Record<string, unknown> = {
      accountId: ctx.account.accountId,
      queryState: mailboxState(mailboxMarks(folders)),
      canCalculateChanges: false,
      position,
      ids: ids.slice(position, limit === undefined ? undefined : position + limit),
    };
    if (optionalBoolean(args, 'calculateTotal', false)) out.total = ids.length;
    return out;
  },
};

function windowStart(position: number, total: number): number {
  if (position >= 0) return Math.min(position, total);
  return Math.max(0, total + position);
}

function matches(m: Mailbox, filter: unknown): boolean {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) throw new MethodError('invalidArguments', 'filter must be an object');
  const f = filter as Record<string, unknown>;
  if ('operator' in f) {
    const conditions = f.conditions;
    if (!Array.isArray(conditions)) throw new MethodError('invalidArguments', 'a FilterOperator needs conditions');
    if (f.operator === 'AND') return conditions.every((c) => matches(m, c));
    if (f.operator === 'OR') return conditions.some((c) => matches(m, c));
    if (f.operator === 'NOT') return !conditions.some((c) => matches(m, c));
    throw new MethodError('unsupportedFilter', `unknown operator ${String(f.operator)}`);
  }
  for (const [key, value] of Object.entries(f)) {
    switch (key) {
      case 'parentId': if (m.parentId !== value) return false; break;
      case 'name':
        if (typeof value !== 'string') throw new MethodError('invalidArguments', 'filter name must be a string');
        if (!String(m.name).toLowerCase().includes(value.toLowerCase())) return false;
        break;
      case 'role': if (m.role !== value) return false; break;
      case 'hasAnyRole': if ((m.role !== null) !== value) return false; break;
      case 'isSubscribed': if (m.isSubscribed !== value) return false; break;
      default: throw new MethodError('unsupportedFilter', `unknown filter condition ${key}`);
    }
  }
  return true;
}

function comparator(sort: unknown): (a: Mailbox, b: Mailbox) => number {
  if (sort === undefined || sort === null) return (a, b) => (a.sortOrder as number) - (b.sortOrder as number) || String(a.name).localeCompare(String(b.name));
  if (!Array.isArray(sort)) throw new MethodError('invalidArguments', 'sort must be a list of comparators');
  const keys = sort.map((c) => {
    const property = (c as Record<string, unknown> | null)?.property;
    if (property !== 'name' && property !== 'sortOrder') throw new MethodError('unsupportedSort', `cannot sort mailboxes by ${String(property)}`);
    return { property, asc: (c as Record<string, unknown>).isAscending !== false };
  });
  return (a, b) => {
    for (const k of keys) {
      const d = k.property === 'name' ? String(a.name).localeCompare(String(b.name)) : (a.sortOrder as number) - (b.sortOrder as number);
      if (d !== 0) return k.asc ? d : -d;
    }
    return String(a.id).localeCompare(String(b.id));
  };
}
