/** The DNS resolver mail checks use: the configured servers (DNS_SERVERS), or the system's when none are set. */
import { promises as dns } from 'node:dns';
import type { DNSResolver } from 'mailauth';

export interface DnsResolverOptions {
  /** Milliseconds per try; a dead server must not hold an SMTP session for long. */
  timeoutMs?: number;
  tries?: number;
  /**
   * Keep answers (and "no such name/record") this long, and ask once for a name that several sessions want at the
   * same moment. Node does not tell the TTL of TXT answers, so this is a fixed bound on staleness; 0: no cache.
   */
  cacheMs?: number;
  /** Most names kept; the oldest go first. */
  cacheEntries?: number;
  now?: () => number;
}

/** Answers a resolver may keep: the data, or the name or record not existing. Timeouts and SERVFAIL are not kept. */
const DEFINITE_ERRORS = new Set(['ENOTFOUND', 'ENODATA']);

/** `servers`: the DNS_SERVERS setting (`127.0.0.1:5353,10.0.0.2`) or a list of `host[:port]`. */
export function parseDnsServers(servers: string | readonly string[]): string[] {
  return (typeof servers === 'string' ? servers.split(',') : [...servers]).map((s) => s.trim()).filter(Boolean);
}

/** A `(name, rrtype)` lookup in the shape mailauth (and the MX lookup) expect, bound to the given servers. */
export function createDnsResolver(servers: string | readonly string[], options: DnsResolverOptions = {}): DNSResolver {
  const resolver = new dns.Resolver({ timeout: options.timeoutMs ?? 3000, tries: options.tries ?? 2 });
  const list = parseDnsServers(servers);
  if (list.length) resolver.setServers(list);
  const ask = (name: string, rrtype: string) => resolver.resolve(name, rrtype) as Promise<string[][] | string[]>;
  const cacheMs = options.cacheMs ?? 0;
  return cacheMs > 0 ? cached(ask, cacheMs, options.cacheEntries ?? 10_000, options.now ?? Date.now) : ask;
}

type Lookup = (name: string, rrtype: string) => Promise<string[][] | string[]>;

function cached(ask: Lookup, ttlMs: number, maxEntries: number, now: () => number): Lookup {
  const entries = new Map<string, { until: number; answer: Promise<string[][] | string[]> }>();
  return (name, rrtype) => {
    const key = `${rrtype} ${name.toLowerCase()}`;
    const hit = entries.get(key);
    if (hit && hit.until > now()) return hit.answer;
    if (hit) entries.delete(key);
    // Held while in flight too, so concurrent sessions asking the same share one query.
    const answer = ask(name, rrtype);
    const entry = { until: Number.POSITIVE_INFINITY, answer };
    entries.set(key, entry);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    answer.then(
      () => (entry.until = now() + ttlMs),
      (err: { code?: string }) => {
        if (DEFINITE_ERRORS.has(err?.code ?? '')) entry.until = now() + ttlMs;
        else if (entries.get(key) === entry) entries.delete(key);
      },
    );
    return answer;
  };
}
