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

  it('skips nothing but words seen before where stretches of text repeat, however they overlap, end or cross blocks', () => {
    let x = 5;
    const rnd = (n: number) => Math.floor(((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) * n);
    const atoms = ['ab', 'abc', 'abd', 'Ab', 'x', 'y1', 'abcdefghijklmnop', 'abcdefghijklmnopq', 'abcdefghijklmnopr', '1234', '1235'];
    const seps = [' ', ' ', '  ', '.', '\r\n', '-'];
    for (let n = 0; n < 300; n++) {
      let text = '';
      const size = rnd(4) === 0 ? 3000 + rnd(6000) : rnd(400);
      while (text.length < size) {
        // Copies of what came before (from one byte back to far back, cut anywhere), then new words now and then.
        if (text.length > 2 && rnd(3) === 0) {
          const from = rnd(text.length);
          text += text.slice(from, from + 1 + rnd(300));
        } else text += atoms[rnd(atoms.length)] + (rnd(5) === 0 ? String(rnd(1000)) : '');
        text += seps[rnd(seps.length)];
      }
      expect(asciiWords(text), text.slice(0, 200)).toEqual(reference(text));
      const lower: string[] = [];
      new DistinctWords().lowerAsciiWords(Buffer.from(text, 'latin1'), (w) => lower.push(w));
      expect(lower).toEqual(reference(text.toLowerCase()));
    }
    // The same line over and over (as the SMTP benchmark's messages are), and a word longer than a block.
    const line = 'The quick brown fox jumps over the lazy dog 0123456789\r\n';
    const repeated = line.repeat(500) + 'and then something new' + line.repeat(3) + 'q'.repeat(5000) + ' end';
    expect(asciiWords(repeated)).toEqual(reference(repeated));
    for (let pad = 2040; pad < 2056; pad++) {
      const text = `${'-'.repeat(pad)}abcdefghijklmnopqrst abcdefghijklmnopqrsu ${'z'.repeat(pad)} abcdefghijklmnopqrst last`;
      expect(asciiWords(text)).toEqual(reference(text));
    }
  });

  it('finds the one new word in a long copy of a text, wherever the copy first differs', () => {
    let x = 13;
    const rnd = (n: number) => Math.floor(((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) * n);
    const original = Array.from({ length: 600 }, () => 'abcdefghijklmnopqrstuvwxyz'.slice(rnd(20)).slice(0, 1 + rnd(9))).join(' ');
    // Offsets into the copy from its first bytes to past the first native comparisons of 256, 512 and 1024 bytes.
    for (let at = 0; at < 2200; at += at < 100 || (at > 300 && at < 360) || (at > 800 && at < 860) ? 1 : 7) {
      const text = `${original} ${original.slice(0, at)}Q${original.slice(at + 1)}`;
      expect(asciiWords(text), String(at)).toEqual(reference(text));
    }
  });

  it('reads Latin-1 text as bytes, each word normalised as normalizeSearchText would, first places in order', () => {
    let x = 9;
    const rnd = (n: number) => Math.floor(((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) * n);
    // Every Latin-1 character but the three that NFKC turns into more than one letter or digit (½ becomes 1⁄2).
    const chars = Array.from({ length: 256 }, (_, c) => String.fromCharCode(c)).filter((c) => !'¼½¾'.includes(c));
    const atoms = ['Zürich', 'ZÜRICH', 'zürich', 'Straße', 'µm', 'ªº', 'x²', 'ÿ', 'The', 'the', 'façade', 'Ærø'];
    for (let n = 0; n < 500; n++) {
      const text = Array.from({ length: rnd(40) }, () => (rnd(2) ? atoms[rnd(atoms.length)] : chars[rnd(chars.length)])).join('');
      const out: string[] = [];
      new DistinctWords().normalisedLatin1Words(Buffer.from(text, 'latin1'), (w) => out.push(w));
      expect([...new Set(out)], JSON.stringify(text)).toEqual(reference(text.normalize('NFKC').toLowerCase()));
    }
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
