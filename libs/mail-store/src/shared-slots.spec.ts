import { describe, expect, it } from 'vitest';
import { SharedSlots } from './shared-slots';

describe('SharedSlots', () => {
  it('lends views of the shared memory, one slot each, and none past the last or bigger than a slot', () => {
    const slots = new SharedSlots(1024, 3);
    const a = slots.take(1024)!;
    const b = slots.take(10)!;
    const c = slots.take(0)!;
    expect([a.length, b.length, c.length]).toEqual([1024, 10, 0]);
    for (const v of [a, b, c]) expect(v.buffer).toBe(slots.memory);
    expect(new Set([a.byteOffset, b.byteOffset, c.byteOffset]).size).toBe(3);
    expect(slots.take(1)).toBeNull();
    expect(slots.inUse).toBe(3);
    slots.give(b);
    expect(slots.take(1025)).toBeNull();
    // What was given back last is lent first: a quiet node keeps touching the same pages.
    expect(slots.take(5)!.byteOffset).toBe(b.byteOffset);
    a.fill(7);
    expect(new Uint8Array(slots.memory, a.byteOffset, 1024).every((x) => x === 7)).toBe(true);
  });

  it('takes back only what it lent, once', () => {
    const slots = new SharedSlots(64, 2);
    const a = slots.take(8)!;
    slots.give(a);
    expect(() => slots.give(a)).toThrow(/not a lent slot/);
    expect(() => slots.give(Buffer.alloc(8))).toThrow(/not a lent slot/);
        expect(slots.inUse).toBe(0);
    expect(() => new SharedSlots(0, 1)).toThrow();
  });
});
