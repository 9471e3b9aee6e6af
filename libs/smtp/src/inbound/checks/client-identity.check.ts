/**
 * MAIL (MX only, once per HELO name): what the client says it is. A HELO that is an address (bare or as a literal),
 * a HELO that is not a fully-qualified name, an address without a PTR record, and a PTR whose names do not resolve
 * back to the address are each refused, scored or ignored as the operators chose (Postfix's reject_invalid_helo_hostname,
 * reject_non_fqdn_helo_hostname, reject_unknown_reverse_client_hostname, reject_unknown_client_hostname).
 * Allow-listed clients (ipAllowList, a DNSWL hit) are exempt; a DNS failure decides nothing.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { formatWeight } from '../dns-lists';
import { ipInList } from '../ip-list';
import type { Check, MailInput } from '../pipeline';
import type { InboundSession } from '../session';
import { CONTINUE, reject, Verdict } from '../verdict';

function sameAddress(a: string, b: string): boolean {
  try {
    return ipaddr.process(a).toString() === ipaddr.process(b).toString();
  } catch {
    return false;
  }
}

type Action = 'reject' | 'score' | 'off';

function bareAddress(helo: string): boolean {
  const literal = /^\[(?:ipv6:)?([^\]]+)\]$/i.exec(helo);
  return isIP(literal ? literal[1] : helo) !== 0;
}

/** Applies one finding: a refusal, or its weight on the session's score. */
function apply(session: InboundSession, action: Action, score: number, finding: string, refusal: () => Verdict): Verdict | null {
  if (action === 'off') return null;
  if (action === 'reject') {
    session.reputation.findings.push(`${finding}, rejected`);
    return refusal();
  }
  session.reputation.score += score;
  session.reputation.findings.push(`${finding}(${formatWeight(score)})`);
  return null;
}

export const clientIdentityCheck: Check<MailInput> = {
  name: 'client-identity',
  async run({ session, settings, deps }) {
    const rep = session.reputation;
    if (session.listener !== 'mx' || session.user || rep.identityCheckedFor === session.helo) return CONTINUE;
    if (rep.allowListed || ipInList(session.clientIp, settings.ipAllowList)) return CONTINUE;
    rep.identityCheckedFor = session.helo;
    const helo = session.helo;
    if (bareAddress(helo)) {
      const v = apply(session, settings.heloBareIpAction, settings.heloBareIpScore, 'helo_bare_ip', () =>
        reject(550, '5.7.1', `HELO/EHLO ${helo} is an address, not a host name`));
      if (v) return v;
    } else if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.[a-z][a-z0-9-]*\.?$/i.test(helo)) {
      const v = apply(session, settings.heloNotFqdnAction, settings.heloNotFqdnScore, 'helo_not_fqdn', () =>
        reject(550, '5.7.1', `HELO/EHLO ${helo || '(empty)'}: need a fully-qualified host name`));
      if (v) return v;
    }
    const wantsPtr = settings.reverseDnsMissingAction !== 'off' || settings.reverseDnsMismatchAction !== 'off';
    // The client address is the same for the whole session: look it up once, whatever HELO names follow.
    if (!wantsPtr || !deps.reputation || rep.reverseChecked) return CONTINUE;
    const ip = session.clientIp.replace(/^::ffff:/i, '');
    const names = await deps.reputation.reverse(ip, settings.dnsListCacheSeconds);
    if (names === 'unknown') return CONTINUE;
    rep.reverseChecked = true;
    if (names.length === 0) {
      return apply(session, settings.reverseDnsMissingAction, settings.reverseDnsMissingScore, 'rdns_none', () =>
        reject(550, '5.7.25', `Client host [${ip}] has no reverse DNS (PTR) record`)) ?? CONTINUE;
    }
    if (settings.reverseDnsMismatchAction === 'off') return CONTINUE;
    const family = isIP(ip) === 6 ? 6 : 4;
    let anyUnknown = false;
    for (const name of names.slice(0, 10)) {
      const addrs = await deps.reputation.addresses(name, settings.dnsListCacheSeconds, family);
      if (addrs === 'unknown') anyUnknown = true;
      else if (addrs.some((a) => sameAddress(a, ip))) return CONTINUE;
    }
    if (anyUnknown) return CONTINUE;
    return apply(session, settings.reverseDnsMismatchAction, settings.reverseDnsMismatchScore, `rdns_mismatch:${names[0]}`, () =>
      reject(550, '5.7.25', `Client host [${ip}]: reverse DNS name ${names[0]} does not resolve back to it`)) ?? CONTINUE;
  },
};
