/** EmailSubmission/changes (RFC 8620 §5.2 for RFC 8621 §7.2): from the submissions' MODSEQs (created, undoStatus changed, destroyed). */
import { SUBMISSION } from '../capabilities';
import { checkAccount, optionalUnsigned, requiredString } from '../args';
import { MethodError } from '../errors';
import type { JmapMethod } from '../method';

export const emailSubmissionChanges: JmapMethod = {
  name: 'EmailSubmission/changes',
  capability: SUBMISSION,
  async run(args, ctx) {
    checkAccount(args, ctx);
    if (!ctx.sender) throw new MethodError('accountNotSupportedByMethod', 'this server cannot send mail over JMAP');
    const sinceState = requiredString(args, 'sinceState');
    const maxChanges = optionalUnsigned(args, 'maxChanges');
    if (maxChanges === 0) throw new MethodError('invalidArguments', 'maxChanges must be greater than 0', { arguments: ['maxChanges'] });
    await ctx.sender.settle(ctx.account.mailboxId);
    const changes = await ctx.sender.changes(ctx.account.mailboxId, sinceState, Math.min(maxChanges ?? ctx.limits.maxObjectsInGet, ctx.limits.maxObjectsInGet));
    if (!changes) throw new MethodError('cannotCalculateChanges', 'sinceState is not an EmailSubmission state of this account');
    const { newState, hasMoreChanges, created, updated, destroyed } = changes;
    return { accountId: ctx.account.accountId, oldState: sinceState, newState, hasMoreChanges, created, updated, destroyed };
  },
};
