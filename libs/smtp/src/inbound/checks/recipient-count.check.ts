/** RCPT: recipients per message (RFC 5321 §4.5.3.1.10: "too many recipients" is 452). */
import type { Check, RcptInput } from '../pipeline';
import { CONTINUE, defer } from '../verdict';

export const recipientCountCheck: Check<RcptInput> = {
  name: 'recipient-count',
  run({ session, settings }) {
    if ((session.transaction?.recipients.length ?? 0) >= settings.maxRecipients) {
      return defer(452, '4.5.3', `Too many recipients; at most ${settings.maxRecipients} per message`);
    }
    return CONTINUE;
  },
};
