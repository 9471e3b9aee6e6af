/** EmailSubmission/get (RFC 8621 §7.1): the submissions sent (undoStatus final), kept for SUBMISSION_TTL_SECONDS. */
import { SUBMISSION } from '../capabilities';
import { checkAccount, idsOf, propertiesOf } from '../args';
import { MethodError } from '../errors';
import type { JmapMethod } from '../method';

const PROPERTIES = ['id', 'identityId', 'emailId', 'threadId', 'envelope', 'sendAt', 'undoStatus', 'deliveryStatus', 'dsnBlobIds', 'mdnBlobIds'];

export const emailSubmissionGet: JmapMethod = {
  name: 'EmailSubmission/get',
  capability: SUBMISSION,
  async run(args, ctx) {
    checkAccount(args, ctx);
    if (!ctx.sender) throw new MethodError('accountNotSupportedByMethod', 'this server cannot send mail over JMAP');
    const ids = idsOf(args, ctx);
    if (!ids) throw new MethodError('requestTooLarge', 'ask for submissions by id');
    const properties = propertiesOf(args, PROPERTIES, PROPERTIES);
    const found = await ctx.sender.find(ctx.account.accountId, ids);
    const list = found.map((s) => Object.fromEntries(properties.map((p) => [p, s[p] ?? null])));
    const seen = new Set(found.map((s) => s.id));
    // Sent submissions never change: one state for all.
    return { accountId: ctx.account.accountId, state: 'final', list, notFound: [...new Set(ids.filter((id) => !seen.has(id)))] };
  },
};
