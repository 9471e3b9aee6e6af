/**
 * MAIL, signed-in sessions (the submission ports): the envelope sender must be one of the user's own addresses — the
 * mailbox, an alias delivering to it, or a "send as" identity a domain admin granted — whatever its domain, as
 * Postfix's reject_sender_login_mismatch does; 553 5.7.1 otherwise (RFC 5321 §3.6.2 "mailbox name not allowed").
 * The null sender is for bounces, which an MTA writes, not a user: refused here too. The From: header is held to
 * the same rule once the message is in (from-header.check.ts).
 */
import type { Check, MailInput } from '../pipeline';
import { CONTINUE, reject } from '../verdict';

export const senderLoginCheck: Check<MailInput> = {
  name: 'sender-login',
  async run({ sender, session, deps }) {
    const user = session.user;
    if (!user) return CONTINUE;
    if (!sender) return reject(553, '5.7.1', 'Null sender is not accepted from signed-in users');
    const r = await deps.directory.resolveSender(sender, user.mailboxId);
    if (!r.owned) return reject(553, '5.7.1', `Sender address rejected: not owned by user ${user.address}`);
    return CONTINUE;
  },
};
