import { describe, expect, it } from 'vitest';
import { UidMap } from './uid-map';

/** The obvious model: a sorted array. Every answer of the map must agree with it. */
function expectSameAs(map: UidMap, model: number[]): void {
  expect([...map]).toEqual(model);
  expect(map.count).toBe(model.length);
  expect(map.max).toBe(model.length ? model[model.length - 1] : 0);
  model.forEach((uid, i) => {
    expect(map.seqOf(uid)).toBe(i + 1);
    expect(map.uidAt(i + 1)).toBe(uid);
    expect(map.has(uid)).toBe(true);
  });
  expect(map.uidAt(0)).toBe(0);
  expect(map.uidAt(model.length + 1)).toBe(0);
}

describe('UidMap', () => {
  it('keeps a folder without gaps as one run, whatever its size', () => {
    const map = UidMap.fromRuns([{ from: 1, to: 100_000 }]);
    expect(map.toRuns()).toEqual([{ from: 1, to: 100_000 }]);
    expect(map.count).toBe(100_000);
    expect(map.seqOf(54_321)).toBe(54_321);
    expect(map.uidAt(99_999)).toBe(99_999);
    map.append(100_001);
    map.append(100_005);
    expect(map.toRuns()).toEqual([{ from: 1, to: 100_001 }, { from: 100_005, to: 100_005 }]);
    expect(() => map.append(100_005)).toThrow(RangeError);
  });

  it('answers like a sorted array through appends and removals', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const model: number[] = [];
    const map = UidMap.empty();
    let next = 1;
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 20; i++) {
        next += random() < 0.2 ? 2 + Math.floor(random() * 5) : 1;
        model.push(next);
        map.append(next);
      }
      const gone = model.filter(() => random() < 0.15);
      map.removeAll([...gone, next + 100]);
      for (const g of gone) model.splice(model.indexOf(g), 1);
      expectSameAs(map, model);
    }
    expect(map.has(next + 1)).toBe(false);
    expect(map.seqOf(0)).toBe(0);
  });

  it('resolves UID and sequence ranges in ascending order, each UID once', () => {
    const map = UidMap.fromUids([2, 3, 4, 8, 9, 15, 20, 21, 22]);
    expect(map.inUidRanges([{ from: 9, to: 21 }, { from: 1, to: 3 }, { from: 3, to: 8 }])).toEqual([2, 3, 4, 8, 9, 15, 20, 21]);
    expect(map.inUidRanges([{ from: 10, to: 14 }, { from: 23, to: 2 ** 32 - 1 }])).toEqual([]);
    expect(map.atSeqRanges([{ from: 4, to: 7 }, { from: 1, to: 1 }, { from: 6, to: 9 }])).toEqual([2, 8, 9, 15, 20, 21, 22]);
    expect(map.above(8).toRuns()).toEqual([{ from: 9, to: 9 }, { from: 15, to: 15 }, { from: 20, to: 22 }]);
    expect(map.above(0).count).toBe(9);
    expect(map.above(22).count).toBe(0);
  });

  it('removes runs whole and in pieces', () => {
    const map = UidMap.fromRuns([{ from: 1, to: 10 }, { from: 20, to: 30 }]);
    map.removeAll([1, 5, 6, 10, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    expect(map.toRuns()).toEqual([{ from: 2, to: 4 }, { from: 7, to: 9 }]);
    expectSameAs(map, [2, 3, 4, 7, 8, 9]);
    map.removeAll([2, 3, 4, 7, 8, 9]);
    expectSameAs(map, []);
    map.append(40);
    expectSameAs(map, [40]);
  });
});
