/**
 * EmailSubmission/query (RFC 8621 §7.3): the account's stored submissions filtered by identityIds, emailIds,
 * threadIds, undoStatus, before/after (sendAt), sorted by emailId, threadId or sentAt (ties by id), paged by
 * position and limit. Query changes are not kept (canCalculateChanges false).
 */
import { SUBMISSION } from '../capabilities';
import { checkAccount, optionalInt, optionalUnsigned } from '../args';
import { MethodError } from '../errors';
import type { JmapMethod } from '../method';
import type { SubmissionFilter, SubmissionSort, UndoStatus } from '../submissions';

const LISTS = ['identityIds', 'emailIds', 'threadIds'] as const;
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export const emailSubmissionQuery: JmapMethod = {
  name: 'EmailSubmission/query',
  capability: SUBMISSION,
  async run(args, ctx) {
    checkAccount(args, ctx);
    if (!ctx.sender) throw new MethodError('accountNotSupportedByMethod', 'this server cannot send mail over JMAP');
    const filter = parseFilter(args.filter);
    const sort = parseSort(args.sort);
    const position = optionalInt(args, 'position') ?? 0;
    if (position < 0) throw new MethodError('invalidArguments', 'position must not be negative here', { arguments: ['position'] });
    if (args.anchor !== undefined && args.anchor !== null) throw new MethodError('unsupportedFilter', 'EmailSubmission/query pages by position, not anchor');
    const limit = Math.min(optionalUnsigned(args, 'limit') ?? ctx.limits.maxObjectsInGet, ctx.limits.maxObjectsInGet);
    await ctx.sender.settle(ctx.account.mailboxId);
    const queryState = await ctx.sender.state(ctx.account.mailboxId);
    const { ids, total } = await ctx.sender.query(ctx.account.mailboxId, filter, sort, position, limit);
    const out: Record<string, unknown> = { accountId: ctx.account.accountId, queryState, canCalculateChanges: false, position, ids };
    if (args.calculateTotal === true) out.total = total;
    if (limit < (optionalUnsigned(args, 'limit') ?? 0)) out.limit = limit;
    return out;
  },
};

function parseFilter(raw: unknown): SubmissionFilter {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new MethodError('invalidArguments', 'filter must be an object', { arguments: ['filter'] });
  const f = raw as Record<string, unknown>;
  if ('operator' in f) throw new MethodError('unsupportedFilter', 'EmailSubmission/query takes one FilterCondition, not operators');
  const out: SubmissionFilter = {};
  for (const [key, value] of Object.entries(f)) {
    if ((LISTS as readonly string[]).includes(key)) {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new MethodError('invalidArguments', `filter ${key} must be a list of ids`);
      out[key as (typeof LISTS)[number]] = value as string[];
    } else if (key === 'undoStatus') {
      if (!['pending', 'final', 'canceled'].includes(value as string)) throw new MethodError('invalidArguments', 'filter undoStatus is pending, final or canceled');
      out.undoStatus = value as UndoStatus;
    } else if (key === 'before' || key === 'after') {
      if (typeof value !== 'string' || !DATE.test(value) || Number.isNaN(Date.parse(value))) {
        throw new MethodError('invalidArguments', `filter ${key} must be a UTCDate like 2026-12-24T08:00:00Z`);
      }
      out[key] = value;
    } else {
      throw new MethodError('unsupportedFilter', `EmailSubmission filters are identityIds, emailIds, threadIds, undoStatus, before, after; not ${key}`);
    }
  }
  return out;
}

function parseSort(raw: unknown): SubmissionSort[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new MethodError('invalidArguments', 'sort must be a list', { arguments: ['sort'] });
  return raw.map((c) => {
    const comparator = c as Record<string, unknown>;
    if (!comparator || !['emailId', 'threadId', 'sentAt'].includes(comparator.property as string)) {
      throw new MethodError('unsupportedSort', 'EmailSubmission sorts by emailId, threadId or sentAt');
    }
    return { property: comparator.property as SubmissionSort['property'], isAscending: comparator.isAscending !== false };
  });
}
