/**
 * RCPT: an alias, group or catch-all is expanded now, as delivery would expand it, so that what delivery would
 * refuse is refused here rather than bounced after 250 to a sender that may be forged (backscatter):
 * - nothing deliverable because the sender may not post to the group: 550 5.7.1;
 * - nothing deliverable for another reason (suspended or missing mailboxes, disabled domains, loops): the same
 *   reply as an unknown user, so probing reveals nothing;
 * - every mailbox it reaches is full: 452 4.2.2 (or 552 5.2.2 when the declared SIZE fits none), as for a mailbox.
 * Some destinations failing while others take the mail is no refusal (delivery notes them, no bounce). A group with
 * more members than rcptExpansionMaxMembers has only its posting policy decided here: walking thousands of members
 * on every RCPT would let any sender make us do that work.
 */
import type { Check, RcptInput } from '../pipeline';
import { CONTINUE, defer, reject } from '../verdict';
import { UNKNOWN_RECIPIENT_TEXT } from './recipient-exists.check';

export const recipientExpansionCheck: Check<RcptInput> = {
  name: 'recipient-expansion',
  async run({ session, settings, deps, declaredSize, resolution, recipient }) {
    const r = await resolution();
    if (r.kind !== 'local' || r.target === 'mailbox') return CONTINUE;
    const sender = { address: session.transaction?.mailFrom ?? '', authenticated: !!session.user };
    const e = await deps.directory.expandRecipient(recipient, sender, { maxGroupMembers: settings.rcptExpansionMaxMembers });
    if (e.partial && !e.failures.length) return CONTINUE;
    if (e.remotes > 0) return CONTINUE;
    if (e.mailboxes.length === 0) {
      if (e.failures.some((f) => f.status === '5.7.1')) return reject(550, '5.7.1', 'Recipient address rejected: you may not post to this group');
      return reject(550, '5.1.1', UNKNOWN_RECIPIENT_TEXT);
    }
    if (declaredSize !== null && e.mailboxes.every((m) => declaredSize > m.quotaBytes)) {
      return reject(552, '5.2.2', 'Message is larger than the recipient mailbox quota');
    }
    const full = (m: { quotaBytes: number; usedBytes: number }) => m.usedBytes >= m.quotaBytes || (declaredSize !== null && m.usedBytes + declaredSize > m.quotaBytes);
    if (e.mailboxes.every(full)) return defer(452, '4.2.2', 'Recipient mailbox is full, try again later');
    return CONTINUE;
  },
};
