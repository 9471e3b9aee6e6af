/**
 * Connect (MX only): the client address on the operators' DNS lists. An allowlist hit (DNSWL) exempts the client from
 * the block lists' refusals and from greylisting; a block list with action `reject` refuses with 554 naming the list;
 * every hit adds its weight to the spam score of the session's messages. Lists that do not answer decide nothing.
 */
import { formatWeight, queryLists } from '../dns-lists';
import type { Check, ConnectInput } from '../pipeline';
import { CONTINUE, reject } from '../verdict';

export const dnsListCheck: Check<ConnectInput> = {
  name: 'dns-list',
  async run({ session, settings, deps }) {
    if (session.listener !== 'mx' || !deps.reputation || !settings.dnsLists.some((l) => l.type === 'ip')) return CONTINUE;
    const { hits, failed } = await queryLists(deps.reputation, settings.dnsLists, 'ip', session.clientIp, settings.dnsListCacheSeconds);
    const rep = session.reputation;
    if (failed.length) rep.findings.push(`dns list unavailable: ${failed.join(',')}`);
    rep.allowListed = hits.some((h) => h.list.action === 'allow');
    if (!rep.allowListed) {
      const refusing = hits.find((h) => h.list.action === 'reject');
      if (refusing) {
        rep.findings.push(`dnsbl:${refusing.list.zone}=${refusing.answers.join('/')}`);
        return reject(554, '5.7.1', `Service unavailable; client host [${session.clientIp}] blocked using ${refusing.list.zone}`);
      }
    }
    for (const h of hits) {
      rep.score += h.list.weight;
      rep.findings.push(`${h.list.action === 'allow' ? 'dnswl' : 'dnsbl'}:${h.list.zone}(${formatWeight(h.list.weight)})`);
    }
    return CONTINUE;
  },
};
