/** The DNS resolver mail checks use: the configured servers (DNS_SERVERS), or the system's when none are set. */
import { promises as dns } from 'node:dns';
import type { DNSResolver } from 'mailauth';

export interface DnsResolverOptions {
  /** Milliseconds per try; a dead server must not hold an SMTP session for long. */
  timeoutMs?: number;
  tries?: number;
}

/** `servers`: the DNS_SERVERS setting (`127.0.0.1:5353,10.0.0.2`) or a list of `host[:port]`. */
export function parseDnsServers(servers: string | readonly string[]): string[] {
  return (typeof servers === 'string' ? servers.split(',') : [...servers]).map((s) => s.trim()).filter(Boolean);
}

/** A `(name, rrtype)` lookup in the shape mailauth (and the MX lookup) expect, bound to the given servers. */
export function createDnsResolver(servers: string | readonly string[], options: DnsResolverOptions = {}): DNSResolver {
  const resolver = new dns.Resolver({ timeout: options.timeoutMs ?? 3000, tries: options.tries ?? 2 });
  const list = parseDnsServers(servers);
  if (list.length) resolver.setServers(list);
  return (name, rrtype) => resolver.resolve(name, rrtype) as Promise<string[][] | string[]>;
}
