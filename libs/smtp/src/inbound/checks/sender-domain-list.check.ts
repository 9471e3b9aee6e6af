/**
 * MAIL (MX only): the envelope sender's domain on the operators' domain lists (RHSBL). A list with action `reject`
 * refuses the sender with 550 naming the list (unless the client is on an allowlist); other hits add their weight to
 * the message's spam score. Answers are kept per session, so a client sending many messages asks once per domain.
 */
import { formatWeight, queryLists } from '../dns-lists';
import type { Check, MailInput } from '../pipeline';
import { CONTINUE, reject } from '../verdict';

export const senderDomainListCheck: Check<MailInput> = {
  name: 'sender-domain-list',
  async run({ session, settings, deps, sender }) {
    if (session.listener !== 'mx' || session.user || !sender || !deps.reputation) return CONTINUE;
    if (!settings.dnsLists.some((l) => l.type === 'domain')) return CONTINUE;
    const domain = sender.slice(sender.lastIndexOf('@') + 1);
    const rep = session.reputation;
    if (rep.domainScores.has(domain)) return CONTINUE;
    const { hits, failed } = await queryLists(deps.reputation, settings.dnsLists, 'domain', domain, settings.dnsListCacheSeconds);
    const found = { score: 0, findings: failed.length ? [`dns list unavailable: ${failed.join(',')}`] : [] };
    const allowed = rep.allowListed || hits.some((h) => h.list.action === 'allow');
    const refusing = allowed ? undefined : hits.find((h) => h.list.action === 'reject');
    if (refusing) return reject(550, '5.7.1', `Sender domain ${domain} rejected: listed by ${refusing.list.zone}`);
    for (const h of hits) {
      found.score += h.list.weight;
      found.findings.push(`${h.list.action === 'allow' ? 'dhwl' : 'rhsbl'}:${h.list.zone}(${formatWeight(h.list.weight)})`);
    }
    rep.domainScores.set(domain, found);
    return CONTINUE;
  },
};
