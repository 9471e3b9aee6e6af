import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit';

/** A flush that records its batches and answers each item doubled; items listed in `bad` fail their batch. */
function recorder(bad: number[] = [], ms = 5) {
  const batches: number[][] = [];
  let running = 0;
  let mostAtOnce = 0;
  const flush = async (items: number[]) => {
    batches.push(items);
    running += 1;
    mostAtOnce = Math.max(mostAtOnce, running);
    await new Promise((r) => setTimeout(r, ms));
    running -= 1;
    if (items.some((i) => bad.includes(i))) throw new Error(`bad item in ${items.join(',')}`);
    return items.map((i) => i * 2);
  };
  return { batches, flush, mostAtOnce: () => mostAtOnce };
}

describe('GroupCommit', () => {
  it('hands items submitted together to one flush, and what arrives meanwhile to the next', async () => {
    const r = recorder();
    const g = new GroupCommit({ flush: r.flush });
    const first = [1, 2, 3].map((i) => g.submit(i));
    await new Promise((res) => setImmediate(res));
    const later = [4, 5].map((i) => g.submit(i));
    expect(await Promise.all([...first, ...later])).toEqual([2, 4, 6, 8, 10]);
    expect(r.batches).toEqual([[1, 2, 3], [4, 5]]);
  });

  it('flushes a lone item without waiting for company', async () => {
    const r = recorder([], 0);
    const g = new GroupCommit({ flush: r.flush });
    const started = Date.now();
    expect(await g.submit(7)).toBe(14);
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('retries a failed batch item by item, so only the bad item fails', async () => {
    const r = recorder([2]);
    const g = new GroupCommit({ flush: r.flush });
    const results = await Promise.allSettled([1, 2, 3].map((i) => g.submit(i)));
    expect(results.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[0] as PromiseFulfilledResult<number>).value).toBe(2);
    expect(r.batches[0]).toEqual([1, 2, 3]);
    expect(r.batches.slice(1).sort()).toEqual([[1], [2], [3]]);
  });

  it('keeps batches within maxBatch and runs at most maxInFlight at once', async () => {
    const r = recorder();
    const g = new GroupCommit({ flush: r.flush, maxBatch: 4, maxInFlight: 2 });
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => g.submit(i)));
    expect(all).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(Math.max(...r.batches.map((b) => b.length))).toBe(4);
    expect(r.mostAtOnce()).toBe(2);
    expect(r.batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('starts a further batch beside a running one only when it is full', async () => {
    let release!: () => void;
    const gate = new Promise<void>((res) => { release = res; });
    const batches: number[][] = [];
    let running = 0;
    let mostAtOnce = 0;
    const g = new GroupCommit<number, number>({
      maxBatch: 4,
      maxInFlight: 2,
      flush: async (items) => {
        batches.push(items);
        mostAtOnce = Math.max(mostAtOnce, ++running);
        if (batches.length === 1) await gate;
        running -= 1;
        return items;
      },
    });
    const first = g.submit(0);
    await new Promise((res) => setImmediate(res));
    // Three wait beside the running batch: too few for a second one.
    const waiting = [1, 2, 3].map((i) => g.submit(i));
    await new Promise((res) => setTimeout(res, 20));
    expect(batches).toEqual([[0]]);
    // A fourth fills a batch, which may start at once.
    const fourth = g.submit(4);
    await new Promise((res) => setTimeout(res, 20));
    expect(batches).toEqual([[0], [1, 2, 3, 4]]);
    expect(mostAtOnce).toBe(2);
    release();
    expect(await Promise.all([first, ...waiting, fourth])).toEqual([0, 1, 2, 3, 4]);
  });

  it('waits delayMs for company when asked to', async () => {
    const r = recorder([], 0);
    const g = new GroupCommit({ flush: r.flush, delayMs: 50 });
    const a = g.submit(1);
    await new Promise((res) => setTimeout(res, 10));
    const b = g.submit(2);
    await Promise.all([a, b]);
    expect(r.batches).toEqual([[1, 2]]);
  });
});
