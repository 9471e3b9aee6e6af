import { describe, expect, it } from 'vitest';
import { UnsafeRegexError, translateRegex } from './regex';
import { checkSieve, parseSieve, runSieve } from './sieve';

describe(':regex patterns', () => {
  it('translates POSIX bracket classes', () => {
    expect(translateRegex('^[[:digit:]]+[[:space:]][[:alpha:]]$')).toBe('^[0-9]+[ \\t\\r\\n\\v\\f][A-Za-z]$');
    expect(new RegExp(translateRegex('^[[:punct:]]+$')).test('!/@[`{~')).toBe(true);
    expect(new RegExp(translateRegex('^[[:xdigit:]]+$')).test('09afAF')).toBe(true);
  });

  it.each(['(a+)+$', '(a*)*', '(x|(ab)+)+', '((a)+b){2,}', '(a{1,5})*'])('refuses nested repetition %s', (pattern) => {
    expect(() => translateRegex(pattern)).toThrow(UnsafeRegexError);
  });

  it.each(['(a+)?', '(ab)+', '(?:x)*y+', 'a+b*(c)+', '\\(a+\\)+', '[(a+)]+', 'a{2}(b)+'])('accepts single repetition %s', (pattern) => {
    expect(() => translateRegex(pattern)).not.toThrow();
  });

  it('a script with an exponential pattern is refused at validation, and one built at run time keeps the message', () => {
    expect(checkSieve('require "regex"; if header :regex "subject" "^(a+)+$" { discard; }')).toMatch(/repeats a repeated group/);
    const script = parseSieve('require ["regex", "variables"]; set "p" "^(a+)+$"; if header :regex "subject" "${p}" { discard; }');
    const started = Date.now();
    const r = runSieve(script, { headers: [{ name: 'Subject', value: `${'a'.repeat(40)}!` }], size: 100, envelope: { from: 'a@b.c', to: 'd@e.f' } });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(r.actions).toEqual([{ type: 'keep', flags: [], implicit: true }]);
    expect(r.errors[0]).toMatch(/repeats a repeated group/);
  });
});
