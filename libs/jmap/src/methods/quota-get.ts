/** Quota/get (RFC 9425 §4.1): the account's storage quota and usage. */
import { QUOTA } from '../capabilities';
import { checkAccount, idsOf, propertiesOf } from '../args';
import type { JmapMethod } from '../method';
import { QUOTA_ID, QUOTA_PROPERTIES, quotaState, toQuota } from '../quota';

export const quotaGet: JmapMethod = {
  name: 'Quota/get',
  capability: QUOTA,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const ids = idsOf(args, ctx);
    const properties = propertiesOf(args, QUOTA_PROPERTIES, QUOTA_PROPERTIES);
    const usage = await ctx.store.quota(ctx.account.mailboxId);
    const quota = toQuota(usage, ctx.account.name);
    const list = ids === null || ids.includes(QUOTA_ID)
      ? [Object.fromEntries(['id', ...properties.filter((p) => p !== 'id')].map((p) => [p, quota[p]]))]
      : [];
    return { accountId: ctx.account.accountId, state: quotaState(usage), list, notFound: [...new Set((ids ?? []).filter((id) => id !== QUOTA_ID))] };
  },
};
