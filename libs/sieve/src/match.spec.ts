import { describe, expect, it } from 'vitest';
import { compareValues, globMatch, matchValues } from './match';

describe('Sieve :matches wildcards', () => {
  it('captures as RFC 5229 §3.2 shows: the first "*" takes the shortest text', () => {
    expect(globMatch('[acme-users] [fwd] version 1.0 is out', '[*] *', 'i;ascii-casemap')).toEqual(['acme-users', '[fwd] version 1.0 is out']);
    expect(globMatch('coyote@example.org', '*@*.*', 'i;ascii-casemap')).toEqual(['coyote', 'example', 'org']);
  });

  it('"?" matches exactly one character, including one outside the BMP', () => {
    expect(globMatch('a😀c', 'a?c', 'i;octet')).toEqual(['😀']);
    expect(globMatch('ac', 'a?c', 'i;octet')).toBeNull();
  });

  it('a backslash makes "*", "?" and "\\\\" literal', () => {
    expect(globMatch('a*b', 'a\\*b', 'i;octet')).toEqual([]);
    expect(globMatch('axb', 'a\\*b', 'i;octet')).toBeNull();
    expect(globMatch('a?', 'a\\?', 'i;octet')).toEqual([]);
    expect(globMatch('a\\b', 'a\\\\b', 'i;octet')).toEqual([]);
  });

  it('folds only ASCII under i;ascii-casemap and keeps the original case in captures', () => {
    expect(globMatch('Hello World', 'hello *', 'i;ascii-casemap')).toEqual(['World']);
    expect(globMatch('Hello', 'hello', 'i;octet')).toBeNull();
    expect(globMatch('É', 'é', 'i;ascii-casemap')).toBeNull();
  });

  it('matches the whole string and handles empty text and patterns', () => {
    expect(globMatch('', '*', 'i;octet')).toEqual(['']);
    expect(globMatch('', '', 'i;octet')).toEqual([]);
    expect(globMatch('abc', 'b', 'i;octet')).toBeNull();
    expect(globMatch('abc', '*c*', 'i;octet')).toEqual(['ab', '']);
  });

  it('stays fast on a pattern that makes backtracking regexes explode', () => {
    const text = 'a'.repeat(20_000);
    const pattern = `${'*a'.repeat(30)}b`;
    const started = Date.now();
    expect(globMatch(text, pattern, 'i;octet')).toBeNull();
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('Sieve comparators and relational match (RFC 4790, RFC 5231)', () => {
  it('orders i;ascii-numeric by leading digits, with non-numbers as positive infinity', () => {
    expect(compareValues('10', '9', 'i;ascii-numeric')).toBe(1);
    expect(compareValues('007', '7', 'i;ascii-numeric')).toBe(0);
    expect(compareValues('12abc', '12', 'i;ascii-numeric')).toBe(0);
    expect(compareValues('abc', '99999', 'i;ascii-numeric')).toBe(1);
    expect(compareValues('abc', 'xyz', 'i;ascii-numeric')).toBe(0);
    expect(compareValues('123456789012345678901234567890', '123456789012345678901234567891', 'i;ascii-numeric')).toBe(-1);
  });

  it('orders i;octet by code point and i;ascii-casemap ignoring ASCII case', () => {
    expect(compareValues('B', 'a', 'i;octet')).toBe(-1);
    expect(compareValues('B', 'a', 'i;ascii-casemap')).toBe(1);
    expect(compareValues('\uffff', '😀', 'i;octet')).toBe(-1);
  });

  it(':value and :count with each relational operator', () => {
    const numeric = (relation: any) => ({ comparator: 'i;ascii-numeric' as const, type: 'value' as const, relation });
    expect(matchValues(['5'], ['3'], numeric('gt')).matched).toBe(true);
    expect(matchValues(['5'], ['5'], numeric('ge')).matched).toBe(true);
    expect(matchValues(['5'], ['5'], numeric('lt')).matched).toBe(false);
    expect(matchValues(['5'], ['6'], numeric('le')).matched).toBe(true);
    expect(matchValues(['5'], ['5'], numeric('eq')).matched).toBe(true);
    expect(matchValues(['5'], ['5'], numeric('ne')).matched).toBe(false);
    const count = (relation: any) => ({ comparator: 'i;ascii-numeric' as const, type: 'count' as const, relation });
    expect(matchValues(['a', 'b', 'c'], ['2'], count('gt')).matched).toBe(true);
    expect(matchValues([], ['0'], count('eq')).matched).toBe(true);
    expect(matchValues(['a'], ['1'], count('ne')).matched).toBe(false);
  });

  it(':contains and :regex, with captures from the regex groups', () => {
    expect(matchValues(['Hello World'], ['WORLD'], { comparator: 'i;ascii-casemap', type: 'contains' }).matched).toBe(true);
    expect(matchValues(['Hello World'], ['WORLD'], { comparator: 'i;octet', type: 'contains' }).matched).toBe(false);
    expect(matchValues(['ticket #1234 open'], ['#([0-9]+) (\\w+)'], { comparator: 'i;octet', type: 'regex' })).toEqual({
      matched: true,
      captures: ['#1234 open', '1234', 'open'],
    });
  });
});
