/**
 * Email/query (RFC 8621 §4.4): filter and sort answered by the store over the whole mailbox from its rows and
 * indexes, a window at a time (position/limit), so a first page of a large mailbox reads about one page of rows.
 */
import type { Folder, MailboxHit, MailboxSort, MessageStore, MailboxSearch } from '@dizi/mail-store/ports/message-store';
import { MAIL } from '../capabilities';
import { checkAccount, optionalBoolean, optionalInt, optionalString, optionalUnsigned, resolveId } from '../args';
import { MethodError } from '../errors';
import { checkFilter, toMailboxSearch, type Filter } from '../email-filter';
import { emailIdOf, flagOf, messageIdOfEmail } from '../email-view';
import type { JmapMethod } from '../method';
import { emailState } from '../state';

export const EMAIL_SORT_PROPERTIES = ['receivedAt', 'size', 'from', 'to', 'subject', 'sentAt', 'hasKeyword', 'allInThreadHaveKeyword', 'someInThreadHaveKeyword'];

export const emailQuery: JmapMethod = {
  name: 'Email/query',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const filter = args.filter === undefined || args.filter === null ? null : (args.filter as Filter);
    if (filter) checkFilter(filter);
    const sort = sortOf(args.sort);
    const collapseThreads = optionalBoolean(args, 'collapseThreads', false);
    const position = optionalInt(args, 'position') ?? 0;
    const anchor = optionalString(args, 'anchor');
    const anchorOffset = optionalInt(args, 'anchorOffset') ?? 0;
    const askedLimit = optionalUnsigned(args, 'limit');
    const limit = Math.min(askedLimit ?? ctx.limits.maxObjectsInGet, ctx.limits.maxObjectsInGet);
    const calculateTotal = optionalBoolean(args, 'calculateTotal', false);

    const mailboxId = ctx.account.mailboxId;
    const folders = await ctx.store.listFolders(mailboxId);
    if (filter && typeof filter.inMailbox === 'string' && !folders.some((f) => f.id === filter.inMailbox)) {
      throw new MethodError('unsupportedFilter', `no mailbox ${String(filter.inMailbox)}`);
    }
    const search = toMailboxSearch(filter);
    const queryState = emailState(folders);
    const results = new QueryResults(ctx.store, mailboxId, search, sort, collapseThreads, queryState, folders);

    let start: number;
    let ids: string[];
    let total: number | undefined;
    if (anchor !== undefined) {
      // The anchor's place is only known by listing the results up to it: ids only, once.
      const all = await results.all();
      const wanted = messageIdOfEmail(resolveId(anchor, ctx));
      const at = wanted === null ? -1 : all.findIndex((h) => h.id === wanted);
      if (at < 0) throw new MethodError('anchorNotFound', `${anchor} is not in the results`);
      start = Math.min(Math.max(0, at + anchorOffset), all.length);
      ids = all.slice(start, start + limit).map((h) => h.id);
      total = all.length;
    } else {
      if (position < 0) {
        total = await results.total();
        start = Math.max(0, total + position);
      } else {
        start = position;
      }
      ids = (await results.window(start, limit)).map((h) => h.id);
      // Past the end: the position answered is the end of the list.
      if (ids.length === 0 && start > 0) {
        total ??= await results.total();
        start = Math.min(start, total);
      }
    }
    const out: Record<string, unknown> = {
      accountId: ctx.account.accountId,
      queryState,
      canCalculateChanges: false,
      position: start,
      ids: ids.map(emailIdOf),
    };
    if (askedLimit !== undefined && askedLimit > limit) out.limit = limit;
    if (calculateTotal) out.total = total ?? await results.total();
    return out;
  },
};

/**
 * The ordered results of one query, read from the store a window at a time. Collapsed, the first email of each
 * thread in the sort order stands for it: windows are read from the start in growing chunks until enough threads
 * are seen (a first page reads about a page of rows).
 */
class QueryResults {
  constructor(
    private readonly store: MessageStore,
    private readonly mailboxId: string,
    private readonly filter: MailboxSearch,
    private readonly sort: MailboxSort[],
    private readonly collapse: boolean,
    private readonly queryState: string,
    private readonly folders: readonly Folder[],
  ) {}

  async window(start: number, count: number): Promise<MailboxHit[]> {
    if (count === 0) return [];
    if (!this.collapse) return this.store.queryMessages(this.mailboxId, { filter: this.filter, sort: this.sort, offset: start, limit: count });
    const seen = new Set<string>();
    const shown: MailboxHit[] = [];
    let offset = 0;
    let chunk = Math.max(64, (start + count) * 2);
    for (;;) {
      const hits = await this.store.queryMessages(this.mailboxId, { filter: this.filter, sort: this.sort, offset, limit: chunk });
      for (const h of hits) {
        if (seen.has(h.threadId)) continue;
        seen.add(h.threadId);
        shown.push(h);
        if (shown.length >= start + count) return shown.slice(start);
      }
      if (hits.length < chunk) return shown.slice(start);
      offset += hits.length;
      chunk *= 2;
    }
  }

  async all(): Promise<MailboxHit[]> {
    const hits = await this.store.queryMessages(this.mailboxId, { filter: this.filter, sort: this.sort, offset: 0, limit: null });
    if (!this.collapse) return hits;
    const seen = new Set<string>();
    return hits.filter((h) => !seen.has(h.threadId) && Boolean(seen.add(h.threadId)));
  }

  /**
   * A whole folder's count is its counter; other totals are counted once per query and state (a client paging a
   * large folder asks for the same total with every page; any change of the mailbox changes the state).
   */
  async total(): Promise<number> {
    const f = this.filter;
    if (!this.collapse && f.op === 'folders' && f.ids.length === 1) {
      const folder = this.folders.find((x) => x.id === f.ids[0]);
      if (folder) return folder.messageCount;
    }
    const key = `${this.mailboxId} ${this.queryState} ${this.collapse} ${JSON.stringify(f)}`;
    const known = TOTALS.get(key);
    if (known !== undefined) {
      // Most recently used last: the oldest entry is the first to go.
      TOTALS.delete(key);
      TOTALS.set(key, known);
      return known;
    }
    const n = await this.store.countMessages(this.mailboxId, f, { threads: this.collapse });
    TOTALS.set(key, n);
    if (TOTALS.size > TOTALS_KEPT) TOTALS.delete(TOTALS.keys().next().value!);
    return n;
  }
}

/** Totals of recent queries by mailbox, state and filter, in this process. */
const TOTALS = new Map<string, number>();
const TOTALS_KEPT = 2000;

/** The sort as the store's keys; newest first by default. Ties: by id in the first key's direction (the store's). */
function sortOf(sort: unknown): MailboxSort[] {
  const list = sort === undefined || sort === null ? [{ property: 'receivedAt', isAscending: false }] : sort;
  if (!Array.isArray(list)) throw new MethodError('invalidArguments', 'sort must be a list of comparators');
  const keys = list.map((c: unknown): MailboxSort => {
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
    const reverse = item.isAscending === false;
    switch (property) {
      case 'receivedAt': return { key: 'received', reverse };
      case 'sentAt': return { key: 'sent', reverse };
      case 'size': case 'from': case 'to': case 'subject': return { key: property, reverse };
      // The thread keyword sorts are answered for the message itself, as the filters are.
      default: return { key: 'flag', flag: flagOf(item.keyword as string), reverse };
    }
  });
  return keys.length > 0 ? keys : [{ key: 'received', reverse: true }];
}
