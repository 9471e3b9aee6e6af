/** Connect: operator IP lists. The allow list exempts a client from the block list and the connection limits. */
import { ipInList } from '../ip-list';
import type { Check, ConnectInput } from '../pipeline';
import { ACCEPT, CONTINUE, reject } from '../verdict';

export const clientAddressCheck: Check<ConnectInput> = {
  name: 'client-address',
  run({ session, settings }) {
    if (ipInList(session.clientIp, settings.ipAllowList)) return ACCEPT;
    if (ipInList(session.clientIp, settings.ipBlockList)) return reject(554, '5.7.1', 'Client address refused by policy');
    return CONTINUE;
  },
};
