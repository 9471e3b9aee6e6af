/**
 * search-tokens.ts (and distinct-words.ts under it) against their versions before the per-word hashing rewrite
 * (reference-search-tokens.ts): the same lexemes in the same order, INCOMPLETE_INDEX_TOKEN and the byte cap included,
 * for generated texts (ASCII, mixed case, digits, addresses, Latin-1 and other accents, CJK, characters outside the
 * BMP, long words, repeated words and stretches, byte parts and string parts, small budgets) and for the texts the
 * summariser gives for the mime benchmark's messages. `SEARCH_DIFF_TEXTS` raises the number of generated texts.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { searchTextParts, summariseMessage } from '../src/message-summary';
import { searchQueryTokens, searchTokens, searchTokensOf, type SearchTextPart } from '../src/search-tokens';
import * as reference from './reference-search-tokens';
import { multipartMessage, variedMessage } from './sample-messages';

const GENERATED = Number(process.env.SEARCH_DIFF_TEXTS ?? 3000);

/** A small deterministic PRNG (xorshift): the same texts on every run. */
function prng(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return Math.floor(((x >>> 0) / 2 ** 32) * n);
  };
}

const ASCII_WORDS = ['the', 'The', 'THE', 'quick', 'Quick', 'fox', 'a', 'I', 'x1', '1x', '2025', '0', 'v1', 'abcdefgh', 'abcdefghi',
  'ABCDEFGHIJKLMNOP', 'abcdefghijklmnopq', 'internationalization', 'Internationalisation', 'x86', 'q', 'zz'];
const LATIN1_WORDS = ['Zürich', 'ZÜRICH', 'naïve', 'déjà', 'Straße', 'STRASSE', 'façade', 'Ærø', 'µm', 'ªº', 'x²', '¹³', 'ÿ', 'Ÿ'];
const OTHER_WORDS = ['Ωμέγα', 'ΑΣ', 'İstanbul', 'ﬁne', 'e\u0301', 'Москва', '海淀区', '北京', '中', 'ひらがな', 'カタカナ', '한국어', '𠀀x',
  '⺀', '〇', '½', '¼x', 'x¾y', '\ud800', '\udc00z'];
const ADDRESSES = ['alice@example.org', 'Bob.Smith@Acme.TEST', 'a.b+c@d-e.f.org', 'x@y', 'c@d@e.org.', 'müller@bücher.de', '海淀@x.cn',
  '𠀀a@b.cn', 'a@b.c-d@e.f', '⺀海@b.cn', 'a@b.海⺀', '_x%y@z.io', '@', '.@.'];
const ASCII_SEPARATORS = [' ', ' ', ' ', '  ', '\r\n', '\n', '\t', '.', ', ', '-', '_', '@', '', ''];
const LATIN1_SEPARATORS = [...ASCII_SEPARATORS, '\u00a0', '·', '×', '¨', '´', '¸', '¯', '«', '»'];
const SEPARATORS = [...LATIN1_SEPARATORS, '—', '\u3000', '、'];

/** A random text: words of every kind between separators, with now and then a stretch copied from earlier on. */
function text(rnd: (n: number) => number, size: number): string {
  const pools = [ASCII_WORDS, ASCII_WORDS, ASCII_WORDS, LATIN1_WORDS, OTHER_WORDS, ADDRESSES];
  // Most texts keep to one script, as most mail does: ASCII, Latin-1, or anything.
  const kinds = rnd(3) === 0 ? 3 : rnd(2) === 0 ? 4 : 6;
  const separators = kinds === 3 ? ASCII_SEPARATORS : kinds === 4 ? LATIN1_SEPARATORS : SEPARATORS;
  let out = '';
  while (out.length < size) {
    const r = rnd(20);
    if (r === 0 && out.length > 4) {
      // A repeated stretch, from anywhere earlier: it may start or end inside a word.
      const from = rnd(out.length);
      out += out.slice(from, from + 1 + rnd(200));
    } else if (r === 1) {
      out += 'x'.repeat(60 + rnd(10));
    } else if (r === 2) {
      out += String(rnd(100_000));
    } else {
      const pool = pools[rnd(kinds)];
      out += pool[rnd(pool.length)];
    }
    out += separators[rnd(separators.length)];
  }
  return out;
}

/** The same text in parts, ASCII ones as bytes now and then (as the summariser hands them over). */
function parts(rnd: (n: number) => number, whole: string): SearchTextPart[] {
  return whole.split('\n').map((part) => (Buffer.byteLength(part) === part.length && rnd(3) > 0 ? Buffer.from(part, 'latin1') : part));
}

function same(parts: SearchTextPart[], maxBytes?: number): void {
  const label = JSON.stringify(parts.map((p) => (typeof p === 'string' ? p : `<bytes>${p.toString('latin1')}`))).slice(0, 300);
  expect(searchTokensOf(parts, maxBytes), label).toEqual(reference.searchTokensOf(parts, maxBytes));
}

/** The mime benchmark's messages (bench/mime-summary/run.ts), built the same way. */
function benchMessages(): Array<[string, Buffer]> {
  const plain = (bytes: number) => {
    const head = 'From: Bench Sender <sender@outside.test>\r\nTo: alice@acme.test\r\nSubject: bench message 1\r\n'
      + 'Message-ID: <bench-1-0@outside.test>\r\nDate: Tue, 14 Oct 2025 09:12:31 GMT\r\nMIME-Version: 1.0\r\n'
      + 'Content-Type: text/plain; charset=us-ascii\r\n\r\n';
    const line = 'The quick brown fox jumps over the lazy dog while the mail node counts bytes ok\r\n'.slice(-78);
    let body = '';
    for (let i = 0; head.length + body.length < bytes; i++) body += `${(1 + i) % 10}${line.slice(1)}`;
    return Buffer.from(head + body, 'latin1');
  };
  // The benchmark's own generator (which repeats itself after a while), and one that does not.
  let seed = 12345;
  const lcg = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const xorshift = prng(54321);
  return [
    ['plain 300 KB', plain(300 * 1024)],
    ['plain 10 KB', plain(10 * 1024)],
    ['varied words 300 KB', variedMessage(300 * 1024, lcg)],
    ['varied words 300 KB, not repeating', variedMessage(300 * 1024, () => xorshift(2 ** 30) / 2 ** 30)],
    ['multipart 10 KB', multipartMessage(plain(5 * 1024).toString('latin1').split('\r\n\r\n')[1], 10 * 1024)],
  ];
}

describe('searchTokensOf against the reference implementation', () => {
  it('gives the same lexemes for generated texts, as strings and as parts, within and past the byte cap', () => {
    const rnd = prng(2025);
    for (let n = 0; n < GENERATED; n++) {
      const whole = text(rnd, rnd(4) === 0 ? rnd(6000) : rnd(300));
      const maxBytes = rnd(4) === 0 ? 40 + rnd(whole.length * 4) : undefined;
      same([whole], maxBytes);
      same(parts(rnd, whole), maxBytes);
      expect(searchTokens(whole, maxBytes)).toEqual(reference.searchTokens(whole, maxBytes));
      if (n % 10 === 0) expect(searchQueryTokens(whole.slice(0, 200))).toEqual(reference.searchQueryTokens(whole.slice(0, 200)));
    }
  });

  it('gives the same lexemes for long texts of many distinct words, repeated stretches and words across 2 KB blocks', () => {
    const rnd = prng(7);
    for (let n = 0; n < 12; n++) {
      const whole = text(rnd, 20_000 + rnd(60_000));
      same([whole]);
      same(parts(rnd, whole));
      same([whole], 2000 + rnd(20_000));
    }
    // Words of every length around the block size and the 16 bytes a word's key holds, ending at the text's end.
    for (let length = 1; length < 40; length++) {
      const word = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ'.slice(0, length);
      for (const pad of [0, 1, 2, 3, 2045, 2046, 2047, 2048, 2049]) {
        const whole = `${'.'.repeat(pad)}${word} ${word}x ${word}`;
        same([whole]);
        same([Buffer.from(whole, 'latin1')]);
        same([`é${whole}`]);
      }
    }
  });

  it('gives the same lexemes for the texts of the mime benchmark\'s messages', async () => {
    for (const [name, raw] of benchMessages()) {
      const summary = await summariseMessage(Readable.from([raw]));
      const textParts = searchTextParts(summary.searchText);
      expect(searchTokensOf(textParts), name).toEqual(reference.searchTokensOf(textParts));
      expect(searchTokensOf(textParts, 20_000), name).toEqual(reference.searchTokensOf(textParts, 20_000));
    }
  });
});
