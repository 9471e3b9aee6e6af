/** RCPT: remote domains only for signed-in mailboxes allowed to send outside (no open relay). */
import type { Check, RcptInput } from '../pipeline';
import { ACCEPT, CONTINUE, reject } from '../verdict';

export const relayCheck: Check<RcptInput> = {
  name: 'relay',
  async run({ session, resolution }) {
    const r = await resolution();
    if (r.kind !== 'remote') return CONTINUE;
    if (session.user?.mayRelay) return ACCEPT;
    return reject(554, '5.7.1', 'Relay access denied');
  },
};
