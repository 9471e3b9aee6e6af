/** DomainResolver with node's resolver (optionally pointed at DNS_SERVERS): MX, else an address record (RFC 5321 §5.1). */
import { promises as dns } from 'node:dns';
import type { DomainResolver } from '@dizi/smtp/inbound/ports';

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

export class DnsDomainResolver implements DomainResolver {
  private readonly resolver = new dns.Resolver({ timeout: 5000, tries: 2 });

  constructor(servers: string[] = []) {
    if (servers.length) this.resolver.setServers(servers);
  }

  async hasMailHost(domain: string): Promise<'yes' | 'no' | 'unknown'> {
    const lookups = [() => this.resolver.resolveMx(domain), () => this.resolver.resolve4(domain), () => this.resolver.resolve6(domain)];
    for (const lookup of lookups) {
      try {
        if ((await lookup()).length > 0) return 'yes';
      } catch (e) {
        if (!NOT_FOUND.has((e as { code?: string }).code ?? '')) return 'unknown';
      }
    }
    return 'no';
  }
}
