/** Comparators (RFC 4790: i;octet, i;ascii-casemap, i;ascii-numeric) and match types :is :contains :matches :regex :count :value. */
import { translateRegex } from './regex';

export type ComparatorName = 'i;octet' | 'i;ascii-casemap' | 'i;ascii-numeric';
export type MatchType = 'is' | 'contains' | 'matches' | 'regex' | 'count' | 'value';
export type RelationalOperator = 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne';

export interface MatchSpec {
  comparator: ComparatorName;
  type: MatchType;
  /** For :count and :value. */
  relation?: RelationalOperator;
}

export interface MatchOutcome {
  matched: boolean;
  /** Match variables (${0}, ${1}, ...) when :matches or :regex succeeded. */
  captures?: string[];
}

/** ASCII-only case folding: i;ascii-casemap leaves non-ASCII characters alone, and keeps string length (captures map back). */
/** Lower-cases A-Z only (i;ascii-casemap); runs of capitals at once, and strings without any returned as they are. */
export const asciiLower = (s: string) => (/[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (run) => run.toLowerCase()) : s);
const fold = (s: string, comparator: ComparatorName) => (comparator === 'i;ascii-casemap' ? asciiLower(s) : s);

/** RFC 4790 §9.1: the value of the leading digits; a string not starting with a digit is positive infinity. */
function numericValue(s: string): bigint | null {
  const m = /^[0-9]+/.exec(s);
  return m ? BigInt(m[0]) : null;
}

/** Orders a and b under the comparator: negative, zero or positive. */
export function compareValues(a: string, b: string, comparator: ComparatorName): number {
  if (comparator === 'i;ascii-numeric') {
    const x = numericValue(a);
    const y = numericValue(b);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = fold(a, comparator);
  const y = fold(b, comparator);
  if (comparator === 'i;octet') return compareOctets(x, y);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** i;octet orders by UTF-8 octets, which is code point order (not JavaScript's UTF-16 unit order). */
function compareOctets(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d) return d < 0 ? -1 : 1;
  }
  return x.length - y.length === 0 ? 0 : x.length < y.length ? -1 : 1;
}

function relate(order: number, relation: RelationalOperator): boolean {
  switch (relation) {
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
    case 'eq':
      return order === 0;
    case 'ne':
      return order !== 0;
  }
}

type GlobToken = { kind: 'literal'; char: string } | { kind: 'one' } | { kind: 'any' };

function globTokens(pattern: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '\\' && i + 1 < chars.length) tokens.push({ kind: 'literal', char: chars[++i] });
    else if (c === '*') tokens.push({ kind: 'any' });
    else if (c === '?') tokens.push({ kind: 'one' });
    else tokens.push({ kind: 'literal', char: c });
  }
  return tokens;
}

/**
 * Glob match without backtracking blow-up (O(text × pattern)): on a mismatch only the most recent "*" grows, so each
 * "*" takes the shortest text that lets the rest match, as RFC 5229 §3.2's "[*] *" example expects. Returns what
 * each wildcard matched, or null. "?" matches one character (a code point, not a UTF-16 unit).
 */
export function globMatch(text: string, pattern: string, comparator: ComparatorName): string[] | null {
  const original = [...text];
  const chars = comparator === 'i;ascii-casemap' ? original.map(asciiLower) : original;
  const tokens = globTokens(pattern).map((t) => (t.kind === 'literal' ? { ...t, char: fold(t.char, comparator) } : t));
  const spans: ([number, number] | undefined)[] = new Array(tokens.length);
  let ti = 0;
  let pi = 0;
  let star = -1;
  let starStart = 0;
  let starEnd = 0;
  while (ti < chars.length) {
    const tok = tokens[pi];
    if (tok && tok.kind === 'any') {
      star = pi;
      starStart = ti;
      starEnd = ti;
      spans[pi] = [ti, ti];
      pi++;
    } else if (tok && (tok.kind === 'one' || tok.char === chars[ti])) {
      if (tok.kind === 'one') spans[pi] = [ti, ti + 1];
      ti++;
      pi++;
    } else if (star !== -1) {
      starEnd++;
      spans[star] = [starStart, starEnd];
      ti = starEnd;
      pi = star + 1;
    } else return null;
  }
  while (pi < tokens.length && tokens[pi].kind === 'any') spans[pi++] = [ti, ti];
  if (pi !== tokens.length) return null;
  const captures: string[] = [];
  tokens.forEach((t, k) => {
    if (t.kind !== 'literal') captures.push(original.slice(spans[k]![0], spans[k]![1]).join(''));
  });
  return captures;
}

const regexCache = new Map<string, RegExp>();
function compileRegex(pattern: string, comparator: ComparatorName): RegExp {
  const key = `${comparator}\u0000${pattern}`;
  let re = regexCache.get(key);
  if (!re) {
    re = new RegExp(translateRegex(pattern), comparator === 'i;ascii-casemap' ? 'i' : '');
    if (regexCache.size > 500) regexCache.clear();
    regexCache.set(key, re);
  }
  return re;
}

/** One value against one key under the match type (not :count, which looks at the whole list). */
export function matchOne(value: string, key: string, spec: MatchSpec): MatchOutcome {
  const { comparator } = spec;
  switch (spec.type) {
    case 'is':
      return { matched: compareValues(value, key, comparator) === 0 };
    case 'value':
      return { matched: relate(compareValues(value, key, comparator), spec.relation ?? 'eq') };
    case 'contains':
      return { matched: fold(value, comparator).includes(fold(key, comparator)) };
    case 'matches': {
      const captures = globMatch(value, key, comparator);
      return captures ? { matched: true, captures: [value, ...captures] } : { matched: false };
    }
    case 'regex': {
      const m = compileRegex(key, comparator).exec(value);
      return m ? { matched: true, captures: m.map((g) => g ?? '') } : { matched: false };
    }
    case 'count':
      return { matched: false };
  }
}

/** The values against the keys: true when any value matches any key; :count compares the number of values. */
export function matchValues(values: string[], keys: string[], spec: MatchSpec): MatchOutcome {
  if (spec.type === 'count') {
    const count = String(values.length);
    return { matched: keys.some((k) => relate(compareValues(count, k, spec.comparator), spec.relation ?? 'eq')) };
  }
  for (const value of values) {
    for (const key of keys) {
      const outcome = matchOne(value, key, spec);
      if (outcome.matched) return outcome;
    }
  }
  return { matched: false };
}
