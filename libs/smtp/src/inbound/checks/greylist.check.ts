/**
 * RCPT (MX only, last): greylisting. The first attempt of a (client network, sender, recipient) triplet is answered
 * 451 4.7.1; a retry after greylistDelaySeconds passes, and so does the triplet for greylistPassDays after. A network
 * that passed greylistAutoPassAfter triplets is not greylisted any more (postgrey's auto-whitelist). Signed-in users
 * and allow-listed clients (ipAllowList, a DNSWL hit), and senders the recipient wrote to (automatic whitelist), are
 * never greylisted; a store that fails lets the mail through.
 */
import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { ipInList } from '../ip-list';
import type { Check, RcptInput } from '../pipeline';
import { CONTINUE, defer } from '../verdict';

/** IPv4 /24, IPv6 /64: senders retry from another address of the same pool. */
export function greylistNetwork(ip: string): string {
  try {
    const addr = ipaddr.process(ip);
    if (addr.kind() === 'ipv4') return `${(addr as ipaddr.IPv4).octets.slice(0, 3).join('.')}.0/24`;
    const parts = (addr as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
    return `${parts.join(':')}::/64`;
  } catch {
    return ip;
  }
}

/** The recipient wrote to this sender before (automatic whitelist); a store that fails trusts nobody. */
async function trusts(deps: RcptInput['deps'], settings: RcptInput['settings'], sender: string, recipient: string, session: RcptInput['session']): Promise<boolean> {
  if (!settings.autoWhitelistEnabled || !deps.trust || !sender) return false;
  try {
    return (await deps.trust.trustedBy(sender, [recipient])).length > 0;
  } catch (err) {
    session.reputation.findings.push(`automatic whitelist unavailable: ${String(err).slice(0, 80)}`);
    return false;
  }
}

export const greylistCheck: Check<RcptInput> = {
  name: 'greylist',
  async run({ session, settings, deps, recipient }) {
    if (!settings.greylistEnabled || !deps.greylist || session.listener !== 'mx' || session.user) return CONTINUE;
    if (session.reputation.allowListed || ipInList(session.clientIp, settings.ipAllowList)) return CONTINUE;
    const network = greylistNetwork(session.clientIp);
    const sender = session.transaction?.mailFrom ?? '';
    if (await trusts(deps, settings, sender, recipient, session)) return CONTINUE;
    const triplet = createHash('sha256').update(`${network}\0${sender}\0${recipient}`).digest('base64url').slice(0, 32);
    const hour = 3_600_000;
    let outcome;
    try {
      outcome = await deps.greylist.attempt({
        triplet, network, now: (deps.now ?? Date.now)(),
        delayMs: settings.greylistDelaySeconds * 1000,
        retryWindowMs: settings.greylistRetryWindowHours * hour,
        passMs: settings.greylistPassDays * 24 * hour,
        autoPassAfter: settings.greylistAutoPassAfter,
      });
    } catch (err) {
      session.reputation.findings.push(`greylist unavailable: ${String(err).slice(0, 80)}`);
      return CONTINUE;
    }
    if (outcome.pass) return CONTINUE;
    const wait = Math.max(1, Math.ceil(outcome.waitMs / 1000));
    return defer(451, '4.7.1', `Greylisted, please try again in ${wait} seconds`);
  },
};
