/**
 * :regex patterns (draft-ietf-sieve-regex: POSIX extended regular expressions) run as JavaScript RegExps. POSIX
 * bracket classes ([:alpha:]) are translated; patterns with nested repetition ("(a+)+") are refused, since a
 * backtracking engine can take exponential time on them and a hostile script must not stall delivery.
 */

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\r\\n\\v\\f',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  cntrl: '\\x00-\\x1f\\x7f',
  print: '\\x20-\\x7e',
  graph: '\\x21-\\x7e',
};

export class UnsafeRegexError extends Error {}

/** Returns the JavaScript source for a POSIX ERE; throws (SyntaxError or UnsafeRegexError) when it cannot run safely. */
export function translateRegex(pattern: string): string {
  const source = pattern.replace(/\[:([a-z]+):\]/g, (whole, name: string) => POSIX_CLASSES[name] ?? whole);
  if (hasNestedRepetition(source)) throw new UnsafeRegexError(`regular expression "${pattern}" repeats a repeated group; simplify it`);
  new RegExp(source);
  return source;
}

/** True when a quantified group itself contains a quantifier (star height above one). */
function hasNestedRepetition(source: string): boolean {
  const groups: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      continue;
    }
    if (c === '(') {
      groups.push(false);
      continue;
    }
    if (c === ')') {
      const innerRepeats = groups.pop() ?? false;
      if (innerRepeats && groups.length) groups[groups.length - 1] = true;
      if (isRepeat(source, i + 1)) {
        if (innerRepeats) return true;
        if (groups.length) groups[groups.length - 1] = true;
      }
      continue;
    }
    if (isRepeat(source, i)) {
      if (groups.length) groups[groups.length - 1] = true;
    }
  }
  return false;
}

/** "*", "+" or "{n,m}" at `at` ("?" repeats nothing: optional or lazy). */
function isRepeat(source: string, at: number): boolean {
  const c = source[at];
  return c === '*' || c === '+' || (c === '{' && /^\{\d+(,\d*)?\}/.test(source.slice(at, at + 24)));
}
