/**
 * RCPT: the address must take mail. Unknown users, disabled domains, domains with SMTP switched off and
 * suspended mailboxes all get the same reply, so probing reveals nothing. Past the allowance of unknown
 * recipients each further one waits longer; at twice the allowance the session ends (directory harvest).
 */
import type { Check, RcptInput } from '../pipeline';
import { CONTINUE, defer, reject } from '../verdict';

export const UNKNOWN_RECIPIENT_TEXT = 'Recipient address rejected: mailbox unavailable';
export const UNPAID_RECIPIENT_TEXT = 'Recipient address temporarily unavailable, try again later';

export const recipientExistsCheck: Check<RcptInput> = {
  name: 'recipient-exists',
  async run({ session, settings, deps, resolution }) {
    const r = await resolution();
    if (r.kind !== 'unavailable') return CONTINUE;
    // A tenant suspended for an unpaid bill takes its mail again once paid: senders keep it queued meanwhile.
    if (r.reason === 'tenant-unpaid') return defer(450, '4.2.1', UNPAID_RECIPIENT_TEXT);
    session.unknownRecipients += 1;
    const over = session.unknownRecipients - settings.maxUnknownRecipients;
    const delayMs = over > 0 ? over * deps.tarpitStepMs : 0;
    if (session.unknownRecipients >= 2 * settings.maxUnknownRecipients) {
      return defer(421, '4.7.0', 'Too many unknown recipients, closing connection', delayMs);
    }
    return reject(550, '5.1.1', UNKNOWN_RECIPIENT_TEXT, delayMs);
  },
};
