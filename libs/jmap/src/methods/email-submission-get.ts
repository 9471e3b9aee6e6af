/** EmailSubmission/get (RFC 8621 §7.1): the account's stored submissions, pending ones until sent, each for a week after its sendAt. */
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
    if (!ids) throw new MethodError('requestTooLarge', 'ask for submissions by id (EmailSubmission/query lists them)');
    const properties = propertiesOf(args, PROPERTIES, PROPERTIES);
    await ctx.sender.settle(ctx.account.mailboxId);
    const state = await ctx.sender.state(ctx.account.mailboxId);
    const found = await ctx.sender.find(ctx.account.mailboxId, ids);
    const list = found.map((s) => {
      // Delivery status and DSN/MDN blobs are not tracked per submission (null and empty, as RFC 8621 allows).
      const full: Record<string, unknown> = { ...s, deliveryStatus: null, dsnBlobIds: [], mdnBlobIds: [] };
      return Object.fromEntries(properties.map((p) => [p, full[p] ?? null]));
    });
    const seen = new Set(found.map((s) => s.id));
    return { accountId: ctx.account.accountId, state, list, notFound: [...new Set(ids.filter((id) => !seen.has(id)))] };
  },
};
