/**
 * EHLO (run with the first MAIL FROM: smtp-server has no EHLO hook): a client that is not signed in and
 * greets with our own host name is forging its identity. smtp-server already refused malformed names.
 */
import type { Check, MailInput } from '../pipeline';
import { CONTINUE, reject } from '../verdict';

export const heloNameCheck: Check<MailInput> = {
  name: 'helo-name',
  run({ session, deps }) {
    if (!session.user && session.helo.toLowerCase() === deps.hostname.toLowerCase()) {
      return reject(550, '5.7.1', 'HELO/EHLO name is ours, not yours');
    }
    return CONTINUE;
  },
};
