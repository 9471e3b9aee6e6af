/**
 * DNS list queries (RFC 5782): the client address reversed under an IP list's zone (DNSBL/DNSWL), a domain name under
 * a domain list's zone (RHSBL). A list says "listed" with an A record in 127.0.0.0/8; other answers (a resolver that
 * redirects NXDOMAIN, a list refusing an open resolver with 127.255.255.x) are not listings.
 */
import ipaddr from 'ipaddr.js';
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import type { ReputationResolver } from './ports';

export type DnsList = SmtpSettings['dnsLists'][number];

/** `192.0.2.1` → `1.2.0.192`; IPv6 as 32 nibbles, least significant first; null for what is not an address. */
export function reversedAddress(ip: string): string | null {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(ip);
  } catch {
    return null;
  }
  const bytes = addr.toByteArray();
  if (addr.kind() === 'ipv4') return bytes.reverse().join('.');
  return bytes.flatMap((b) => [b >> 4, b & 15]).reverse().map((n) => n.toString(16)).join('.');
}

export interface ListHit {
  list: DnsList;
  answers: string[];
}

/** The name to query, or null (an address we cannot reverse, a domain list given an address literal). */
export function listQuery(list: DnsList, subject: string): string | null {
  if (list.type === 'ip') {
    const rev = reversedAddress(subject);
    return rev ? `${rev}.${list.zone}` : null;
  }
  const domain = subject.toLowerCase().replace(/\.$/, '');
  if (!domain || domain.startsWith('[') || !domain.includes('.')) return null;
  return `${domain}.${list.zone}`;
}

function listed(list: DnsList, answers: string[]): string[] {
  const codes = answers.filter((a) => a.startsWith('127.') && !a.startsWith('127.255.255.'));
  return list.answers.length ? codes.filter((a) => list.answers.includes(a)) : codes;
}

/** Asks every list of `type` in parallel; lists that failed to answer are in `failed`, not in `hits`. */
export async function queryLists(
  resolver: ReputationResolver, lists: readonly DnsList[], type: DnsList['type'], subject: string, cacheSeconds: number,
): Promise<{ hits: ListHit[]; failed: string[] }> {
  const hits: ListHit[] = [];
  const failed: string[] = [];
  await Promise.all(
    lists.filter((l) => l.type === type).map(async (list) => {
      const name = listQuery(list, subject);
      if (!name) return;
      const answers = await resolver.addresses(name, cacheSeconds);
      if (answers === 'unknown') return void failed.push(list.zone);
      const codes = listed(list, answers);
      if (codes.length) hits.push({ list, answers: codes });
    }),
  );
  // Settings order, so the reply names the first listed zone the operator wrote, whatever answered first.
  hits.sort((a, b) => lists.indexOf(a.list) - lists.indexOf(b.list));
  return { hits, failed };
}

export function formatWeight(w: number): string {
  return `${w >= 0 ? '+' : ''}${Math.round(w * 10) / 10}`;
}
