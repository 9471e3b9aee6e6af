import { describe, expect, it } from 'vitest';
import { LookupCache } from './lookup-cache';

describe('LookupCache', () => {
  it('shares one lookup within the time to live, then looks up again', async () => {
    let now = 1000;
    let calls = 0;
    const cache = new LookupCache<number>(100, 10, () => now);
    const lookUp = async () => ++calls;
    expect(await Promise.all([cache.get('a', lookUp), cache.get('a', lookUp)])).toEqual([1, 1]);
    now += 99;
    expect(await cache.get('a', lookUp)).toBe(1);
    now += 1;
    expect(await cache.get('a', lookUp)).toBe(2);
    expect(await cache.get('b', lookUp)).toBe(3);
  });

  it('keeps neither failures nor answers the caller rejects', async () => {
    const cache = new LookupCache<string>(10_000);
    await expect(cache.get('x', async () => { throw new Error('down'); })).rejects.toThrow('down');
    expect(await cache.get('x', async () => 'up')).toBe('up');
    const keepYes = (v: string) => v === 'yes';
    expect(await cache.get('y', async () => 'no', keepYes)).toBe('no');
    expect(await cache.get('y', async () => 'yes', keepYes)).toBe('yes');
    expect(await cache.get('y', async () => 'other', keepYes)).toBe('yes');
  });

  it('looks up every time with no time to live, and stays within maxEntries', async () => {
    const off = new LookupCache<number>(0);
    let calls = 0;
    await off.get('k', async () => ++calls);
    await off.get('k', async () => ++calls);
    expect(calls).toBe(2);

    const small = new LookupCache<number>(10_000, 2);
    let n = 0;
    for (const k of ['a', 'b', 'c']) await small.get(k, async () => ++n);
    // 'a' was the oldest and went first; 'c' is still there.
    expect(await small.get('c', async () => ++n)).toBe(3);
    expect(await small.get('a', async () => ++n)).toBe(4);
  });
});
