/**
 * A session's sequence number ↔ UID map, kept as runs of consecutive UIDs in one typed array: a folder of 100,000
 * messages without gaps costs a dozen bytes, and a session holding many of them stays small. Lookups are binary
 * searches over the runs.
 */
import type { NumberRange } from '@dizi/mail-store/ports/message-store';

// Each run takes three slots: first UID, last UID, and how many UIDs the runs before it hold.
const FIRST = 0;
const LAST = 1;
const BEFORE = 2;
const STRIDE = 3;

export class UidMap implements Iterable<number> {
  private data: Uint32Array;
  private runs = 0;
  private total = 0;

  private constructor(capacity: number) {
    this.data = new Uint32Array(Math.max(1, capacity) * STRIDE);
  }

  static empty(): UidMap {
    return new UidMap(1);
  }

  /** Ascending, non-overlapping runs (as the store lists them). */
  static fromRuns(runs: readonly NumberRange[]): UidMap {
    const map = new UidMap(runs.length);
    for (const r of runs) map.appendRun(r.from, r.to);
    return map;
  }

  /** Ascending UIDs. */
  static fromUids(uids: Iterable<number>): UidMap {
    const map = new UidMap(1);
    for (const uid of uids) map.append(uid);
    return map;
  }

  /** Number of UIDs (the highest sequence number). */
  get count(): number {
    return this.total;
  }

  /** Highest UID, 0 when empty. */
  get max(): number {
    return this.runs ? this.data[(this.runs - 1) * STRIDE + LAST] : 0;
  }

  has(uid: number): boolean {
    return this.runOf(uid) >= 0;
  }

  /** 1-based sequence number of a UID, 0 when it is not in the map. */
  seqOf(uid: number): number {
    const run = this.runOf(uid);
    if (run < 0) return 0;
    const at = run * STRIDE;
    return this.data[at + BEFORE] + (uid - this.data[at + FIRST]) + 1;
  }

  /** UID at a 1-based sequence number, 0 when out of range. */
  uidAt(seq: number): number {
    if (seq < 1 || seq > this.total) return 0;
    const d = this.data;
    let lo = 0;
    let hi = this.runs - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (d[mid * STRIDE + BEFORE] <= seq - 1) lo = mid;
      else hi = mid - 1;
    }
    const at = lo * STRIDE;
    return d[at + FIRST] + (seq - 1 - d[at + BEFORE]);
  }

  /** Adds a UID above every UID held. */
  append(uid: number): void {
    if (uid <= this.max) throw new RangeError(`UID ${uid} is not above ${this.max}`);
    this.appendRun(uid, uid);
  }

  /** Drops the given UIDs (ascending; absent ones are ignored) in one pass. */
  removeAll(sortedUids: readonly number[]): void {
    if (sortedUids.length === 0 || this.runs === 0) return;
    const old = this.data;
    const oldRuns = this.runs;
    this.data = new Uint32Array(Math.max(1, oldRuns + sortedUids.length) * STRIDE);
    this.runs = 0;
    this.total = 0;
    let k = 0;
    for (let r = 0; r < oldRuns; r++) {
      let from = old[r * STRIDE + FIRST];
      const to = old[r * STRIDE + LAST];
      while (k < sortedUids.length && sortedUids[k] < from) k++;
      while (k < sortedUids.length && sortedUids[k] <= to) {
        const gone = sortedUids[k++];
        if (gone > from) this.appendRun(from, gone - 1);
        from = gone + 1;
      }
      if (from <= to) this.appendRun(from, to);
    }
    this.shrink();
  }

  /** UIDs held that fall in any of the ranges, ascending and each once. */
  inUidRanges(ranges: readonly NumberRange[]): number[] {
    const out: number[] = [];
    const d = this.data;
    for (const r of mergeRanges(ranges)) {
      let run = Math.max(0, this.runAtOrBefore(r.from));
      for (; run < this.runs; run++) {
        const first = d[run * STRIDE + FIRST];
        if (first > r.to) break;
        const last = d[run * STRIDE + LAST];
        for (let uid = Math.max(first, r.from), end = Math.min(last, r.to); uid <= end; uid++) out.push(uid);
      }
    }
    return out;
  }

  /** UIDs at the sequence numbers of the ranges (which the caller checked against count), ascending and each once. */
  atSeqRanges(ranges: readonly NumberRange[]): number[] {
    const out: number[] = [];
    for (const r of mergeRanges(ranges)) {
      const to = Math.min(r.to, this.total);
      for (let seq = Math.max(1, r.from); seq <= to;) {
        const first = this.uidAt(seq);
        const at = this.runOf(first) * STRIDE;
        // The rest of this run, up to the range's end, in one go.
        const runLeft = this.data[at + LAST] - first;
        const take = Math.min(runLeft, to - seq);
        for (let i = 0; i <= take; i++) out.push(first + i);
        seq += take + 1;
      }
    }
    return out;
  }

  /** The UIDs above `uid`, as a new map. */
  above(uid: number): UidMap {
    const out = new UidMap(1);
    for (let r = Math.max(0, this.runAtOrBefore(uid)); r < this.runs; r++) {
      const first = Math.max(this.data[r * STRIDE + FIRST], uid + 1);
      const last = this.data[r * STRIDE + LAST];
      if (first <= last) out.appendRun(first, last);
    }
    return out;
  }

  *[Symbol.iterator](): Iterator<number> {
    for (let r = 0; r < this.runs; r++) {
      for (let uid = this.data[r * STRIDE + FIRST], last = this.data[r * STRIDE + LAST]; uid <= last; uid++) yield uid;
    }
  }

  /** The runs, for tests and for set formatting. */
  toRuns(): NumberRange[] {
    const out: NumberRange[] = [];
    for (let r = 0; r < this.runs; r++) out.push({ from: this.data[r * STRIDE + FIRST], to: this.data[r * STRIDE + LAST] });
    return out;
  }

  private appendRun(from: number, to: number): void {
    const d = this.data;
    if (this.runs > 0 && d[(this.runs - 1) * STRIDE + LAST] + 1 === from) {
      d[(this.runs - 1) * STRIDE + LAST] = to;
    } else {
      if ((this.runs + 1) * STRIDE > d.length) {
        const grown = new Uint32Array(Math.max(4, this.runs * 2) * STRIDE);
        grown.set(d.subarray(0, this.runs * STRIDE));
        this.data = grown;
      }
      const at = this.runs * STRIDE;
      this.data[at + FIRST] = from;
      this.data[at + LAST] = to;
      this.data[at + BEFORE] = this.total;
      this.runs++;
    }
    this.total += to - from + 1;
  }

  private shrink(): void {
    if (this.data.length > Math.max(4, this.runs * 2) * STRIDE) this.data = this.data.slice(0, Math.max(1, this.runs) * STRIDE);
  }

  /** Index of the last run starting at or below `uid`, -1 when none. */
  private runAtOrBefore(uid: number): number {
    const d = this.data;
    let lo = 0;
    let hi = this.runs - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (d[mid * STRIDE + FIRST] <= uid) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  private runOf(uid: number): number {
    const run = this.runAtOrBefore(uid);
    return run >= 0 && uid <= this.data[run * STRIDE + LAST] ? run : -1;
  }
}

function mergeRanges(ranges: readonly NumberRange[]): NumberRange[] {
  const sorted = ranges.map((r) => ({ from: Math.min(r.from, r.to), to: Math.max(r.from, r.to) })).sort((a, b) => a.from - b.from);
  const out: NumberRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push(r);
  }
  return out;
}
