/**
 * Email/copy (RFC 8621 §4.7, RFC 8620 §5.4) copies between two accounts; a user here has one account (their
 * mailbox), so there is never another to copy from: fromAccountNotFound (Email/set mailboxIds moves within it).
 */
import { MAIL } from '../capabilities';
import { checkAccount, requiredString } from '../args';
import { MethodError } from '../errors';
import type { JmapMethod } from '../method';

export const emailCopy: JmapMethod = {
  name: 'Email/copy',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const from = requiredString(args, 'fromAccountId');
    if (from === ctx.account.accountId) {
      throw new MethodError('invalidArguments', 'fromAccountId must be another account than accountId; within one account use Email/set mailboxIds', { arguments: ['fromAccountId'] });
    }
    throw new MethodError('fromAccountNotFound', `no account ${from} for this user: each user has one account`);
  },
};
