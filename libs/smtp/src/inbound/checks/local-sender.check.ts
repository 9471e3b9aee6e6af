/** MAIL: an address in a domain hosted here may only be used by a session signed in as its owner (no spoofing of local users). */
import type { Check, MailInput } from '../pipeline';
import { CONTINUE, reject } from '../verdict';

export const localSenderCheck: Check<MailInput> = {
  name: 'local-sender',
  async run({ sender, session, deps }) {
    if (!sender) return CONTINUE;
    const r = await deps.directory.resolveSender(sender, session.user?.mailboxId ?? null);
    if (r.local && !r.owned) {
      return session.user
        ? reject(550, '5.7.1', 'Sender address is not yours; send as an address of your own mailbox')
        : reject(550, '5.7.1', 'Sender address is local; authenticate on the submission port to send as it');
    }
    return CONTINUE;
  },
};
