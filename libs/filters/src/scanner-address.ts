/** Where a scanning daemon listens, as the settings write it: `host:port`, `[v6]:port`, `/path` or `unix:/path`. */
import type { NetConnectOpts } from 'node:net';

export function scannerConnectOptions(address: string): NetConnectOpts {
  const a = address.trim();
  if (a.startsWith('unix:')) return { path: a.slice('unix:'.length) };
  if (a.startsWith('/')) return { path: a };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(a);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw new RangeError(`not a scanner address (host:port or a unix socket path): ${address}`);
  return { host: m[1] ?? m[2], port };
}
