/** Quota/changes (RFC 9425 §4.2): the one quota is updated whenever its usage or limit moved; never created or destroyed. */
import { QUOTA } from '../capabilities';
import { checkAccount, optionalUnsigned, requiredString } from '../args';
import { MethodError } from '../errors';
import type { JmapMethod } from '../method';
import { isQuotaState, QUOTA_ID, quotaState } from '../quota';

export const quotaChanges: JmapMethod = {
  name: 'Quota/changes',
  capability: QUOTA,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const sinceState = requiredString(args, 'sinceState');
    if (optionalUnsigned(args, 'maxChanges') === 0) throw new MethodError('invalidArguments', 'maxChanges must be greater than 0', { arguments: ['maxChanges'] });
    if (!isQuotaState(sinceState)) throw new MethodError('cannotCalculateChanges', 'sinceState is not a Quota state of this server');
    const newState = quotaState(await ctx.store.quota(ctx.account.mailboxId));
    return {
      accountId: ctx.account.accountId, oldState: sinceState, newState, hasMoreChanges: false,
      created: [], updated: newState === sinceState ? [] : [QUOTA_ID], destroyed: [],
    };
  },
};
