/**
 * Where mail for a domain goes (RFC 5321 §5.1): its MX hosts by preference, the domain itself when it has
 * no MX (implicit MX), nothing at all for a null MX (RFC 7505). DNS comes through a small port so tests
 * and the mail node can point it at their own server.
 */
export interface MxResolver {
  resolveMx(name: string): Promise<Array<{ exchange: string; priority: number }>>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

export interface RemoteHost {
  /** Host name (SNI, logs, Remote-MTA); the address when there is none. */
  name: string;
  /** IP address to connect to. */
  address: string;
  port: number;
}

/** A lookup answer that decides the outcome: permanent (5xx, bounce now) or temporary (4xx, retry). */
export class DestinationError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    /** Enhanced status code for the DSN. */
    readonly status: string,
  ) {
    super(message);
    this.name = 'DestinationError';
  }
}

const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND']);

/** Node's resolver says ENOTFOUND for NXDOMAIN, ENODATA for a name without records of that type. */
function codeOf(e: unknown): string {
  return (e as { code?: string })?.code ?? '';
}

async function addressesOf(resolver: MxResolver, name: string): Promise<{ addresses: string[]; temporary: boolean }> {
  const results = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
  const addresses = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  const temporary = results.some((r) => r.status === 'rejected' && !NO_RECORDS.has(codeOf(r.reason)));
  return { addresses, temporary };
}

/** Equal preferences are shuffled (RFC 5321 §5.1) so load spreads over a domain's equal MX hosts. */
function byPreference<T extends { priority: number }>(records: T[], random: () => number): T[] {
  return records
    .map((r) => ({ r, k: random() }))
    .sort((a, b) => a.r.priority - b.r.priority || a.k - b.k)
    .map((x) => x.r);
}

export async function resolveMxHosts(resolver: MxResolver, domain: string, port = 25, random: () => number = Math.random): Promise<RemoteHost[]> {
  let mx: Array<{ exchange: string; priority: number }>;
  try {
    mx = await resolver.resolveMx(domain);
  } catch (e) {
    const code = codeOf(e);
    if (code === 'ENOTFOUND') throw new DestinationError(`domain ${domain} does not exist (DNS NXDOMAIN)`, true, '5.1.2');
    if (code !== 'ENODATA') throw new DestinationError(`MX lookup for ${domain} failed: ${code || String(e)}`, false, '4.4.3');
    mx = [];
  }
  const exchanges = mx.map((r) => ({ ...r, exchange: r.exchange.replace(/\.$/, '').toLowerCase() }));
  if (exchanges.length > 0 && exchanges.every((r) => r.exchange === '')) {
    throw new DestinationError(`domain ${domain} does not accept mail (null MX)`, true, '5.1.10');
  }
  // No MX: the domain itself is the one host (implicit MX).
  const ordered = exchanges.length > 0 ? byPreference(exchanges.filter((r) => r.exchange !== ''), random) : [{ exchange: domain, priority: 0 }];

  const hosts: RemoteHost[] = [];
  let temporary = false;
  for (const r of ordered) {
    const found = await addressesOf(resolver, r.exchange);
    temporary ||= found.temporary;
    for (const address of found.addresses) hosts.push({ name: r.exchange, address, port });
  }
  if (hosts.length > 0) return hosts;
  if (exchanges.length === 0 && !temporary) throw new DestinationError(`domain ${domain} has no MX and no address records`, true, '5.1.2');
  throw new DestinationError(`no address found for the mail hosts of ${domain} (${ordered.map((r) => r.exchange).join(', ')})`, false, '4.4.3');
}
