/**
 * MAIL, sessions nobody signed in to (the MX port): an address in a domain hosted here may only be used by its
 * signed-in owner (no spoofing of local users from outside). Signed-in sessions are held to sender-login.check.ts.
 */
import type { Check, MailInput } from '../pipeline';
import { CONTINUE, reject } from '../verdict';

export const localSenderCheck: Check<MailInput> = {
  name: 'local-sender',
  async run({ sender, session, deps }) {
    if (!sender || session.user) return CONTINUE;
    const r = await deps.directory.resolveSender(sender, null);
    if (r.local) return reject(550, '5.7.1', 'Sender address is local; authenticate on the submission port to send as it');
    return CONTINUE;
  },
};
