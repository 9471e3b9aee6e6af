/**
 * MAIL: a signed-in mailbox's daily send limit. Answered 450 4.7.1, not 5xx: the condition ends by
 * itself at midnight (RFC 5321 §4.2.5, "the same request might succeed later"), so a queueing client
 * keeps the message and sends it then instead of losing it.
 */
import type { Check, MailInput } from '../pipeline';
import { CONTINUE, defer } from '../verdict';

export const dailySendLimitCheck: Check<MailInput> = {
  name: 'daily-send-limit',
  async run({ session, deps }) {
    if (!session.user) return CONTINUE;
    const { limit, sentToday } = await deps.directory.sendAllowance(session.user.mailboxId);
    if (limit !== null && sentToday >= limit) return defer(450, '4.7.1', `Daily sending limit of ${limit} messages reached, try again tomorrow`);
    return CONTINUE;
  },
};
