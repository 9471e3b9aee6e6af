import { describe, expect, it } from 'vitest';
import { formatKeyList, isSearchKeyList, parseSearchKeyList, searchKey, searchKeyList, searchKeys } from './search-key';

/** The same hashes written plainly over Buffer.from's bytes: an independent reading of the definition. */
function reference(lexeme: string): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (const x of Buffer.from(lexeme, 'utf8')) {
    a = Math.imul(a ^ x, 0x01000193);
    b = Math.imul(b ^ x, 0x5bd1e995);
    b ^= b >>> 15;
  }
  const mix = (h: number) => {
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  return Number((BigInt(mix(b) & 0x1fffff) << 32n) | BigInt(mix(a)));
}

describe('searchKey', () => {
  it('hashes the UTF-8 bytes: ASCII, Latin, CJK, astral characters and lone surrogates as Buffer.from encodes them', () => {
    const samples = ['', 'a', 'hello', 'straße', 'é', '金笛', '海淀区', '😀', 'a😀b', '\ud800', 'x\udc00y', 'ab\ud83d', 'user@example.test'];
    for (const s of samples) expect(searchKey(s), JSON.stringify(s)).toBe(reference(s));
    for (let i = 0; i < 2000; i++) {
      const s = String.fromCharCode(...Array.from({ length: 1 + (i % 9) }, (_, j) => (i * 7919 + j * 104729) % 0x10000));
      expect(searchKey(s)).toBe(reference(s));
    }
  });

  it('stays as stored: keys written by earlier versions must still be found', () => {
    // Persisted in blob_search.keys; a change here needs a migration that rekeys every blob.
    // The values frozen when keys were first stored (2026-11-28).
    expect([searchKey('hello'), searchKey('金笛'), searchKey(' index-incomplete')]).toEqual([7752882116720238, 2371170243253068, 4099560144967917]);
  });

  it('is an integer below 2^53, and distinct for the lexemes of a large vocabulary', () => {
    const seen = new Map<number, string>();
    for (let i = 0; i < 200_000; i++) {
      const word = `w${i.toString(36)}`;
      const key = searchKey(word);
      expect(Number.isSafeInteger(key) && key >= 0).toBe(true);
      expect(seen.get(key)).toBeUndefined();
      seen.set(key, word);
    }
  });
});

describe('searchKeys and key lists', () => {
  it('folds case, drops NUL and empty lexemes, and keeps each key once, ascending', () => {
    const keys = searchKeys(['Hello', 'hello', 'HEL\0LO', '', '\0', 'world']);
    expect([...keys]).toEqual([searchKey('hello'), searchKey('world')].sort((x, y) => x - y));
  });

  it('round-trips through the list form, which PostgreSQL reads as int8 values', () => {
    const words = Array.from({ length: 5000 }, (_, i) => `t${i}`);
    const list = searchKeyList(words);
    expect(isSearchKeyList(list)).toBe(true);
    expect(parseSearchKeyList(list)).toEqual([...searchKeys(words)]);
    expect(searchKeyList([])).toBe('');
    expect(parseSearchKeyList('')).toEqual([]);
  });

  it('writes every key below 2^53 as its decimal digits, whichever half holds them', () => {
    const keys = Float64Array.from([0, 7, 10, 99_999_999, 100_000_000, 100_000_001, 4_294_967_296, 1_000_000_000_000_007, 2 ** 53 - 1]);
    expect(formatKeyList(keys)).toBe([...keys].map((k) => String(k)).join(','));
    expect(formatKeyList(new Float64Array(0))).toBe('');
  });

  it('refuses what is not a key list', () => {
    for (const bad of ['1,', ',1', '1,,2', '-1', '1.5', '1e5', '12345678901234567', '1}', "1'", ' 1', 5, null]) {
      expect(isSearchKeyList(bad), String(bad)).toBe(false);
    }
    expect(() => parseSearchKeyList('1,x')).toThrow(/not a search key list/);
  });
});
