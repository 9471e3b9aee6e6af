/** Matching client addresses against operator lists of addresses and CIDR ranges (ipaddr.js). */
import ipaddr from 'ipaddr.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

// Settings arrays are replaced, never mutated, when settings reload: parse each list once.
const parsed = new WeakMap<readonly string[], Range[]>();

function ranges(list: readonly string[]): Range[] {
  let r = parsed.get(list);
  if (!r) {
    r = [];
    for (const entry of list) {
      try {
        if (entry.includes('/')) r.push(ipaddr.parseCIDR(entry));
        else {
          const ip = ipaddr.parse(entry);
          r.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
        }
      } catch {
        // The API validates entries; one it could not parse here matches nothing rather than stopping mail.
      }
    }
    parsed.set(list, r);
  }
  return r;
}

/** `::ffff:1.2.3.4` is compared as 1.2.3.4, so IPv4 lists work on dual-stack listeners. */
function normalise(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  try {
    return ipaddr.process(ip);
  } catch {
    return null;
  }
}

export function ipInList(ip: string, list: readonly string[]): boolean {
  if (list.length === 0) return false;
  const addr = normalise(ip);
  if (!addr) return false;
  return ranges(list).some(([net, bits]) => net.kind() === addr.kind() && addr.match([net, bits] as never));
}
