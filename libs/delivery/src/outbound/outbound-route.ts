/**
 * Where the outbound queue sends mail for a destination domain, in this order: the operators' fixed route
 * for the domain (transport_route), the relay host when settings say `always`, else the domain's MX hosts.
 * With relay mode `on_failure` the relay is the second route after a temporary failure of the first.
 * The TLS policy of the destination (settings: per domain, else global) applies to fixed routes and MX hosts.
 */
import { isIP } from 'node:net';
import type { OutboundTlsPolicy, SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import { DestinationError, resolveMxHosts, type MxResolver, type RemoteHost } from '@dizi/smtp/outbound/mx-lookup';
import type { RelayAuthMethod, TlsPolicy } from '@dizi/smtp/outbound/smtp-session';
import type { DirectoryStore } from '../ports/directory-store';

export interface OutboundRoute {
  kind: 'transport' | 'relay' | 'mx';
  hosts: RemoteHost[];
  tls: TlsPolicy;
  auth?: { user: string; pass: string; method: RelayAuthMethod };
}

/** A fixed host name or address resolved through the same resolver as MX lookups. */
export async function hostsForName(resolver: MxResolver, name: string, port: number): Promise<RemoteHost[]> {
  const host = name.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (isIP(host)) return [{ name: host, address: host, port }];
  const results = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  const addresses = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  if (addresses.length === 0) throw new DestinationError(`no address found for ${host}`, false, '4.4.3');
  return addresses.map((address) => ({ name: host, address, port }));
}

/** The operators' TLS policy for a destination domain: its own entry, else the global one. */
export function tlsPolicyFor(settings: SmtpSettings, domain: string): OutboundTlsPolicy {
  return settings.outboundTlsPolicyByDomain[domain] ?? settings.outboundTlsPolicy;
}

export function relayConfigured(settings: SmtpSettings): boolean {
  return settings.relay.mode !== 'never' && settings.relay.host.trim() !== '';
}

export async function relayRoute(resolver: MxResolver, settings: SmtpSettings): Promise<OutboundRoute> {
  const relay = settings.relay;
  return {
    kind: 'relay',
    hosts: await hostsForName(resolver, relay.host.trim(), relay.port),
    // 465 speaks TLS from the first byte; anything else upgrades with STARTTLS when offered.
    tls: relay.port === 465 ? 'implicit' : 'opportunistic',
    auth: relay.username ? { user: relay.username, pass: relay.password, method: relay.authMethod } : undefined,
  };
}

/** The first route for `domain`; throws DestinationError when DNS decides (null MX, no such domain, lookup failure). */
export async function primaryRoute(directory: Pick<DirectoryStore, 'transportRoute'>, resolver: MxResolver, settings: SmtpSettings, domain: string, mxPort = 25): Promise<OutboundRoute> {
  const verify = tlsPolicyFor(settings, domain) === 'verify';
  const transport = await directory.transportRoute(domain);
  if (transport) {
    return {
      kind: 'transport',
      hosts: await hostsForName(resolver, transport.host, transport.port),
      tls: verify ? 'verify' : transport.requireTls ? 'required' : 'opportunistic',
    };
  }
  if (settings.relay.mode === 'always' && relayConfigured(settings)) return relayRoute(resolver, settings);
  return { kind: 'mx', hosts: await resolveMxHosts(resolver, domain, mxPort), tls: verify ? 'verify' : 'opportunistic' };
}
