import { describe, expect, it } from 'vitest';
import { ReadAhead } from './read-ahead';

const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('ReadAhead', () => {
  it('hands reads back in the order they were started, whatever order they finish in', async () => {
    const ahead = new ReadAhead<number>({ count: 8, bytes: 1e9 });
    [30, 5, 20, 1].forEach((ms, i) => ahead.push(i, 1, later(ms, Buffer.from(String(i)))));
    const out: string[] = [];
    while (ahead.length) {
      const { item, data } = await ahead.take();
      out.push(`${item}:${data!.toString()}`);
    }
    expect(out).toEqual(['0:0', '1:1', '2:2', '3:3']);
  });

  it('asks for reads in bursts: full at the count or the bytes, again only once half is taken', async () => {
    const ahead = new ReadAhead<number>({ count: 4, bytes: 100 });
    let n = 0;
    while (ahead.wantsMore()) ahead.push(n++, 1, Promise.resolve(null));
    expect(n).toBe(4);
    await ahead.take();
    expect(ahead.wantsMore()).toBe(false);
    await ahead.take();
    expect(ahead.wantsMore()).toBe(true);
    while (ahead.length) await ahead.take();
    ahead.push(0, 60, Promise.resolve(null));
    ahead.push(1, 60, Promise.resolve(null));
    expect(ahead.wantsMore()).toBe(false);
  });

  it('rejects a failed read where it is taken, not as an unhandled rejection before', async () => {
    const ahead = new ReadAhead<number>({ count: 4, bytes: 100 });
    ahead.push(0, 1, later(20, Buffer.from('a')));
    ahead.push(1, 1, Promise.reject(new Error('gone')));
    await later(30, null);
    expect((await ahead.take()).data!.toString()).toBe('a');
    await expect(ahead.take()).rejects.toThrow('gone');
  });
});
