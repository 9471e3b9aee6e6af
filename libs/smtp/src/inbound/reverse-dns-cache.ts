/**
 * The reverse-DNS lookup smtp-server makes for every connection, answered from a short cache: a sending host opens a
 * connection per message, and each one asked the resolver (and waited for it) again. Lookups of one address already
 * under way are shared. Temporary failures are not kept.
 */
import { reverse as dnsReverse } from 'node:dns';

export type ReverseCallback = (err: NodeJS.ErrnoException | null, hostnames?: string[]) => void;

export interface ReverseResolver {
  reverse(ip: string, callback: ReverseCallback): void;
}

/** How long an answer is kept; PTR records rarely change faster, and a minute bounds a stale name. */
export const REVERSE_DNS_CACHE_MS = 60_000;
const MAX_ENTRIES = 10_000;
const TEMPORARY = new Set(['ETIMEOUT', 'ESERVFAIL', 'ECONNREFUSED', 'ECANCELLED', 'EREFUSED']);

export function cachingReverseResolver(o: { ttlMs?: number; lookup?: ReverseResolver['reverse']; now?: () => number } = {}): ReverseResolver {
  const ttlMs = o.ttlMs ?? REVERSE_DNS_CACHE_MS;
  const lookup = o.lookup ?? dnsReverse;
  const now = o.now ?? Date.now;
  const cache = new Map<string, { err: NodeJS.ErrnoException | null; names: string[]; expires: number }>();
  const waiting = new Map<string, ReverseCallback[]>();
  return {
    reverse(ip, callback) {
      const hit = cache.get(ip);
      // smtp-server takes names off the array it is given: each caller gets its own copy.
      if (hit && hit.expires > now()) return queueMicrotask(() => callback(hit.err, [...hit.names]));
      const queue = waiting.get(ip);
      if (queue) return void queue.push(callback);
      waiting.set(ip, [callback]);
      lookup(ip, (err, names) => {
        const callbacks = waiting.get(ip) ?? [];
        waiting.delete(ip);
        if (!err || !TEMPORARY.has(err.code ?? '')) {
          if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
          cache.delete(ip);
          cache.set(ip, { err, names: names ?? [], expires: now() + ttlMs });
        }
        for (const cb of callbacks) cb(err, [...(names ?? [])]);
      });
    },
  };
}
