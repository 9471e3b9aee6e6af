import { describe, expect, it } from 'vitest';
import { DistinctWords } from './distinct-words';

/** What asciiWords stands for: the regular-expression split of search-tokens.ts, first occurrences only. */
function reference(text: string): string[] {
  return [...new Set(text.split(/[^\p{L}\p{N}]+/u).filter(Boolean))];
}

function asciiWords(text: string, words = new DistinctWords()): string[] {
  const out: string[] = [];
  words.asciiWords(text, (w) => out.push(w));
  return out;
}

describe('DistinctWords', () => {
  it('finds the runs of ASCII letters and digits once each, in order, up to the text\'s end', () => {
    expect(asciiWords('The quick, the QUICK and the quick2 -- fox_1 @x.y\r\nend')).toEqual(
      ['The', 'quick', 'the', 'QUICK', 'and', 'quick2', 'fox', '1', 'x', 'y', 'end'],
    );
    expect(asciiWords('')).toEqual([]);
    expect(asciiWords(' \t\r\n')).toEqual([]);
  });

  it('matches the regular-expression split on every ASCII character and on many distinct words', () => {
    const every = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c)).join('');
    expect(asciiWords(every + every)).toEqual(reference(every));
    let x = 1;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    // tens of thousands of words of 1 to 20 bytes, many sharing their first 8: the table grows many times
    const prefixes = ['', 'a', 'abcdefg', 'abcdefgh', 'Abcdefgh', 'internat'];
    const word = () => prefixes[Math.floor(rnd() * prefixes.length)] + Math.floor(rnd() * 40_000).toString(36).slice(0, 1 + Math.floor(rnd() * 4));
    const text = Array.from({ length: 60_000 }, () => word() + (rnd() < 0.2 ? '-' : ' ')).join('');
    expect(asciiWords(text)).toEqual(reference(text));
    const runs = Array.from({ length: 40 }, (_, n) => 'x'.repeat(n + 1) + ' ' + 'y'.repeat(n + 1) + 'x ').join('');
    expect(asciiWords(runs + runs)).toEqual(reference(runs));
  });

  it('tells apart words whose hashes collide: in their first, second or later eight bytes', () => {
    const fnv1a = (w: string) => [...w].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 0x811c9dc5 | 0);
    for (const [a, b] of [['7yzla', 'e6apa'], ['abcdcuzl', 'abcd12ap'], ['abcdefgh9rjf', 'abcdefghapfh']]) {
      expect(fnv1a(a)).toBe(fnv1a(b));
      expect(asciiWords(`${a} ${b} ${a} ${b}`)).toEqual([a, b]);
    }
  });

  it('remembers words across texts, and add() apart', () => {
    const words = new DistinctWords();
    expect(asciiWords('a b', words)).toEqual(['a', 'b']);
    expect(asciiWords('b c a', words)).toEqual(['c']);
    expect(words.add('海淀')).toBe(true);
    expect(words.add('海淀')).toBe(false);
  });

  it('finds the words of any text, each at its first place, as the regular-expression split does', () => {
    let x = 3;
    const rnd = (n: number) => Math.floor(((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) * n);
    const atoms = ['abc', 'ABC', 'naïve', 'déjà', 'vu', '—', '·', '\u00a0', 'Ωμέγα', '海淀', '𠀀x', '\ud800', 'x1', '1x', '-', ' ', '  ', '\n', 'é', 'e\u0301'];
    for (let n = 0; n < 500; n++) {
      const text = Array.from({ length: rnd(30) }, () => atoms[rnd(atoms.length)]).join('');
      const out: string[] = [];
      new DistinctWords().words(text, (w) => out.push(w));
      expect([...new Set(out)], JSON.stringify(text)).toEqual(reference(text));
    }
  });
});
