/** Quota/query (RFC 9425 §4.3): the one quota when it matches the filter (name, scope, resourceType, type). */
import { QUOTA } from '../capabilities';
import { checkAccount, optionalUnsigned, optionalInt } from '../args';
import { MethodError } from '../errors';
import type { JmapMethod } from '../method';
import { quotaState, toQuota } from '../quota';

const FILTERS = ['name', 'scope', 'resourceType', 'type'];

export const quotaQuery: JmapMethod = {
  name: 'Quota/query',
  capability: QUOTA,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const filter = (args.filter ?? {}) as Record<string, unknown>;
    if (typeof filter !== 'object' || Array.isArray(filter)) throw new MethodError('invalidArguments', 'filter must be an object');
    for (const [key, value] of Object.entries(filter)) {
      if (!FILTERS.includes(key)) throw new MethodError('unsupportedFilter', `Quota filters are ${FILTERS.join(', ')}, not ${key}`);
      if (typeof value !== 'string') throw new MethodError('invalidArguments', `filter ${key} must be a string`);
    }
    if (args.sort !== undefined && args.sort !== null) {
      if (!Array.isArray(args.sort) || args.sort.some((c) => !['name', 'used'].includes((c as Record<string, unknown>)?.property as string))) {
        throw new MethodError('unsupportedSort', 'Quotas sort by name or used');
      }
    }
    const usage = await ctx.store.quota(ctx.account.mailboxId);
    const quota = toQuota(usage, ctx.account.name);
    const matches = (!filter.name || String(quota.name).toLowerCase().includes(String(filter.name).toLowerCase()))
      && (!filter.scope || filter.scope === quota.scope)
      && (!filter.resourceType || filter.resourceType === quota.resourceType)
      && (!filter.type || (quota.types as string[]).includes(filter.type as string));
    const ids = matches ? [quota.id as string] : [];
    const position = Math.max(0, Math.min(optionalInt(args, 'position') ?? 0, ids.length));
    const limit = optionalUnsigned(args, 'limit');
    const out: Record<string, unknown> = {
      accountId: ctx.account.accountId, queryState: quotaState(usage), canCalculateChanges: false, position,
      ids: ids.slice(position, limit === undefined ? undefined : position + limit),
    };
    if (args.calculateTotal === true) out.total = ids.length;
    return out;
  },
};
