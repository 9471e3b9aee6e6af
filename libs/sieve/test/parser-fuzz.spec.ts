// Hostile and random scripts: the parser and validator either accept or throw a SieveError, within bounded time.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSieve, runSieve } from '../src/sieve';
import { SieveError } from '../src/sieve-error';
import { testMessage } from './sieve-message';

const PIECES = [
  'require', '"fileinto"', '"variables"', '["body", "regex"]', 'if', 'elsif', 'else', 'header', 'address', 'anyof', 'allof', 'not',
  ':is', ':contains', ':matches', ':regex', ':comparator', '"i;octet"', ':count', '"ge"', 'size', ':over', '10K', '{', '}', '(', ')',
  '[', ']', ',', ';', '"a*?\\\\b"', '"${1}"', 'text:\n', '\n.\n', '..\n', 'fileinto', 'keep', 'discard', 'stop', 'set', 'body',
  '/*', '*/', '#', '\n', ' ', 'true', 'false', '"', ':', '99999999999G', 'redirect', '"x@y.z"',
];

function classify(text: string): 'ok' | 'sieve-error' {
  try {
    const script = parseSieve(text);
    runSieve(script, testMessage({ headers: 'Subject: a*b\nFrom: x@y.z' }));
    return 'ok';
  } catch (error) {
    if (error instanceof SieveError) return 'sieve-error';
    throw error;
  }
}

describe('Sieve parser fuzzing', () => {
  it('random token soup never crashes with anything but a SieveError', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }), (pieces) => {
        expect(['ok', 'sieve-error']).toContain(classify(pieces.join(' ')));
      }),
      { numRuns: 2000 },
    );
  });

  it('random bytes never crash with anything but a SieveError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        expect(['ok', 'sieve-error']).toContain(classify(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('hostile scripts within the size limit finish in bounded time', () => {
    const hostile = [
      `${'if true {'.repeat(1000)}`,
      `if header :matches "subject" "${'*a'.repeat(1000)}b" { keep; }`,
      `if ${'anyof('.repeat(2000)}`,
      `require "fileinto"; ${'fileinto "x";'.repeat(4000)}`,
      `"${'\\'.repeat(60_000)}`,
      `/*${'*'.repeat(60_000)}`,
    ];
    for (const text of hostile) {
      const started = Date.now();
      try {
        runSieve(parseSieve(text), testMessage({ headers: `Subject: ${'a'.repeat(4000)}` }));
      } catch (error) {
        expect(error).toBeInstanceOf(SieveError);
      }
      expect(Date.now() - started).toBeLessThan(2000);
    }
  });
});
