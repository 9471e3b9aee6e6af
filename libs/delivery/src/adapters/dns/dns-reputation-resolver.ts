/**
 * ReputationResolver with node's resolver (pointed at DNS_SERVERS when set): A/AAAA for DNS list queries and forward
 * confirmation, PTR for reverse DNS, each answer kept in memory for the list's cache time. Failures are not kept, and
 * lookups of one name under way are shared.
 */
import { promises as dns } from 'node:dns';
import { reversedAddress } from '@dizi/smtp/inbound/dns-lists';
import type { ReputationResolver } from '@dizi/smtp/inbound/ports';

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);
const MAX_ENTRIES = 50_000;

export class DnsReputationResolver implements ReputationResolver {
  private readonly resolver: dns.Resolver;
  private readonly cache = new Map<string, { answer: string[]; expires: number }>();
  private readonly pending = new Map<string, Promise<string[] | 'unknown'>>();

  constructor(servers: string[] = [], o: { timeoutMs?: number; now?: () => number } = {}) {
    this.resolver = new dns.Resolver({ timeout: o.timeoutMs ?? 2000, tries: 2 });
    if (servers.length) this.resolver.setServers(servers);
    this.now = o.now ?? Date.now;
  }

  private readonly now: () => number;

  addresses(name: string, cacheSeconds: number, family: 4 | 6 = 4): Promise<string[] | 'unknown'> {
    return this.cached(`${family === 6 ? 'AAAA' : 'A'} ${name}`, cacheSeconds, () =>
      family === 6 ? this.resolver.resolve6(name) : this.resolver.resolve4(name));
  }

  reverse(ip: string, cacheSeconds: number): Promise<string[] | 'unknown'> {
    // resolver.reverse() would read /etc/hosts first; the PTR query asks the configured servers only.
    const reversed = reversedAddress(ip);
    if (!reversed) return Promise.resolve([]);
    const name = `${reversed}.${reversed.length > 16 ? 'ip6' : 'in-addr'}.arpa`;
    return this.cached(`PTR ${name}`, cacheSeconds, () => this.resolver.resolvePtr(name));
  }

  private cached(key: string, cacheSeconds: number, lookup: () => Promise<string[]>): Promise<string[] | 'unknown'> {
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) return Promise.resolve(hit.answer);
    const running = this.pending.get(key);
    if (running) return running;
    const p = lookup().then(
      (answer) => answer.map((a) => a.toLowerCase().replace(/\.$/, '')),
      (e: { code?: string }) => (NOT_FOUND.has(e.code ?? '') ? [] : ('unknown' as const)),
    ).then((answer) => {
      this.pending.delete(key);
      if (answer !== 'unknown' && cacheSeconds > 0) {
        if (this.cache.size >= MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
        this.cache.delete(key);
        this.cache.set(key, { answer, expires: this.now() + cacheSeconds * 1000 });
      }
      return answer;
    });
    this.pending.set(key, p);
    return p;
  }
}
