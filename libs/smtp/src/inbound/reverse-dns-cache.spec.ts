import { describe, expect, it } from 'vitest';
import { cachingReverseResolver, type ReverseCallback } from './reverse-dns-cache';

const ask = (r: ReturnType<typeof cachingReverseResolver>, ip: string) =>
  new Promise<{ err: NodeJS.ErrnoException | null; names?: string[] }>((resolve) => r.reverse(ip, (err, names) => resolve({ err, names })));

describe('cachingReverseResolver', () => {
  it('asks once per address while the answer is fresh, shares a lookup under way, and gives each caller its own names', async () => {
    let clock = 0;
    const asked: string[] = [];
    const pending: Array<() => void> = [];
    const r = cachingReverseResolver({
      ttlMs: 1000,
      now: () => clock,
      lookup: (ip: string, cb: ReverseCallback) => {
        asked.push(ip);
        pending.push(() => cb(null, [`host-${ip}.test`]));
      },
    });
    const a = ask(r, '192.0.2.1');
    const b = ask(r, '192.0.2.1');
    pending.shift()!();
    const [ra, rb] = await Promise.all([a, b]);
    ra.names!.shift();
    expect(rb.names).toEqual(['host-192.0.2.1.test']);
    expect((await ask(r, '192.0.2.1')).names).toEqual(['host-192.0.2.1.test']);
    expect(asked).toEqual(['192.0.2.1']);
    clock = 1001;
    const c = ask(r, '192.0.2.1');
    pending.shift()!();
    await c;
    expect(asked).toEqual(['192.0.2.1', '192.0.2.1']);
  });

  it('keeps "no such name" but not a timeout', async () => {
    const asked: string[] = [];
    const r = cachingReverseResolver({
      lookup: (ip: string, cb: ReverseCallback) => {
        asked.push(ip);
        cb(Object.assign(new Error('x'), { code: ip === '192.0.2.7' ? 'ETIMEOUT' : 'ENOTFOUND' }));
      },
    });
    for (let i = 0; i < 2; i++) {
      expect((await ask(r, '192.0.2.7')).err?.code).toBe('ETIMEOUT');
      expect((await ask(r, '192.0.2.8')).err?.code).toBe('ENOTFOUND');
    }
    expect(asked).toEqual(['192.0.2.7', '192.0.2.8', '192.0.2.7']);
  });
});
