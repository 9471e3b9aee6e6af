// IMAP sequence sets (`1,3:5,7:*`) and the SEARCHRES `$` marker, resolved against the session's view.
import type { NumberRange } from '@dizi/mail-store/ports/message-store';

/** `*` is kept as Infinity until resolved against the largest number in use. */
export type SequenceSet = { saved: true } | { saved: false; ranges: NumberRange[] };

const PART = /^(\d+|\*)(?::(\d+|\*))?$/;

/** null when malformed; 'too-many' past `maxRanges` (counted before anything is split or allocated). */
export function parseSequenceSet(text: string): SequenceSet | null;
export function parseSequenceSet(text: string, maxRanges: number): SequenceSet | 'too-many' | null;
export function parseSequenceSet(text: string, maxRanges = Infinity): SequenceSet | 'too-many' | null {
  if (text === '$') return { saved: true };
  let commas = 0;
  for (let i = text.indexOf(','); i >= 0 && commas < maxRanges; i = text.indexOf(',', i + 1)) commas++;
  if (commas >= maxRanges) return 'too-many';
  const ranges: NumberRange[] = [];
  for (const part of text.split(',')) {
    const m = PART.exec(part);
    if (!m) return null;
    const a = m[1] === '*' ? Infinity : Number(m[1]);
    const b = m[2] === undefined ? a : m[2] === '*' ? Infinity : Number(m[2]);
    if (a === 0 || b === 0 || (Number.isFinite(a) && a > 0xffffffff) || (Number.isFinite(b) && b > 0xffffffff)) return null;
    ranges.push({ from: Math.min(a, b), to: Math.max(a, b) });
  }
  return { saved: false, ranges };
}

/** `*` becomes `max` (a range like `10:*` with max 5 is `5:10`, as RFC 3501 says). */
export function resolveRanges(ranges: NumberRange[], max: number): NumberRange[] {
  return ranges.map((r) => {
    const from = r.from === Infinity ? max : r.from;
    const to = r.to === Infinity ? max : r.to;
    return { from: Math.min(from, to), to: Math.max(from, to) };
  });
}

export function inRanges(n: number, ranges: NumberRange[]): boolean {
  for (const r of ranges) if (n >= r.from && n <= r.to) return true;
  return false;
}

/** Ascending numbers → compact set text (`1:3,5`). */
export function formatSequenceSet(numbers: number[]): string {
  const sorted = [...numbers].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Numbers in the given order, consecutive runs collapsed (COPYUID keeps source and target aligned). */
export function formatOrderedSet(numbers: number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    parts.push(i === j ? String(numbers[i]) : `${numbers[i]}:${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
