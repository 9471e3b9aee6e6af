import { describe, expect, it } from 'vitest';
import { INCOMPLETE_INDEX_TOKEN, normalizeSearchText, searchQueryTokens, searchTokens, searchTokensOf, substringQueryTokens } from './search-tokens';

describe('searchTokens', () => {
  it('indexes ICU words and overlapping bigrams of Chinese runs', () => {
    const tokens = searchTokens('北京市海淀区的财务报告');
    expect(tokens).toEqual(expect.arrayContaining(['海淀', '财务', '报告', '北京', '淀区', '务报']));
    // ICU alone splits the district name; the bigram is what makes it findable
    const icu = [...new Intl.Segmenter('zh', { granularity: 'word' }).segment('北京市海淀区的财务报告')].map((s) => s.segment);
    expect(icu).not.toContain('海淀');
  });

  it('keeps a one-character run, lower-cases Latin words and splits on punctuation; words come first', () => {
    expect(searchTokens('Hello, World! 中 Dizi-2025').slice(0, 5)).toEqual(['hello', 'world', '中', 'dizi', '2025']);
  });

  it('adds the 1- to 3-character pieces of every word and the characters of CJK runs', () => {
    const tokens = searchTokens('Hello 海淀区');
    expect(tokens).toEqual(expect.arrayContaining(['hello', 'h', 'e', 'l', 'o', 'he', 'el', 'll', 'lo', 'hel', 'ell', 'llo', '海', '淀', '区', '海淀', '淀区']));
    expect(tokens).not.toContain('hell');
    expect(tokens).not.toContain('海淀区'.slice(0, 3) + 'x');
    expect(tokens).not.toContain(INCOMPLETE_INDEX_TOKEN);
  });

  it('keeps email addresses whole and in parts', () => {
    expect(searchTokens('Mail Billing@Example.com now').slice(0, 7)).toEqual(
      ['billing@example.com', 'billing', 'example.com', 'mail', 'example', 'com', 'now'],
    );
  });

  it('finds addresses wherever the pattern would: next to characters outside the BMP, and past a stray @', () => {
    expect(searchTokens('to 𠀀a@b.cn_x, and c@d@e.org.').slice(0, 12)).toEqual(
      ['𠀀a@b.cn', '𠀀a', 'b.cn', 'd@e.org', 'd', 'e.org', 'to', '𠀀', 'a', 'b', 'cn', 'x'],
    );
  });

  it('returns distinct tokens, drops overlong ones and stops at the byte budget', () => {
    expect(searchTokens('a a a b')).toEqual(['a', 'b']);
    expect(searchTokens('x'.repeat(65) + ' ok')).toEqual(['ok', 'o', 'k']);
    const many = Array.from({ length: 1000 }, (_, i) => `word${i}`).join(' ');
    const capped = searchTokens(many, 100);
    expect(capped.length).toBeGreaterThan(5);
    expect(capped.reduce((n, t) => n + Buffer.byteLength(t) + 1, 0)).toBeLessThanOrEqual(100);
    // a capped index says so, first, so that substring searches check the message itself
    expect(capped[0]).toBe(INCOMPLETE_INDEX_TOKEN);
    expect(searchTokens('word1 word2', 100)).not.toContain(INCOMPLETE_INDEX_TOKEN);
  });
});

describe('searchTokensOf', () => {
  it('looks for CJK runs only in text with a character from U+1100 on: no CJK script has one below', () => {
    const cjk = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
    const below = Array.from({ length: 0x1100 }, (_, c) => String.fromCharCode(c)).filter((c) => cjk.test(c));
    expect(below).toEqual([]);
    expect(cjk.test('\u1100')).toBe(true);
    expect(searchTokens('Привет мир 海淀 ᄀ')).toEqual(expect.arrayContaining(['привет', '海淀', '海', 'ᄀ']));
  });

  it('may read Latin-1 text a character at a time: NFKC composes no two Latin-1 characters', () => {
    // What the Latin-1 reading relies on (with LATIN1_IRREGULAR): normalising a text normalises each character alone.
    const chars = Array.from({ length: 256 }, (_, c) => String.fromCharCode(c));
    const composed = chars.flatMap((a) => chars.filter((b) => (a + b).normalize('NFKC') !== a.normalize('NFKC') + b.normalize('NFKC')).map((b) => a + b));
    expect(composed).toEqual([]);
    // Combining marks (outside Latin-1) do compose, which is why only Latin-1 text is read so.
    expect(('e\u0301').normalize('NFKC')).not.toBe('e'.normalize('NFKC') + '\u0301'.normalize('NFKC'));
  });

  it('reads Latin-1 and ASCII text as bytes with the lexemes the normalised text gives', () => {
    // An em dash (beyond Latin-1, and no letter) sends the same words down the way any text is read.
    const text = 'Grüße an ZÜRICH-Team, ª¹ µm 3²\u00a0Straße; Müller@Bücher.DE sagt «Preis» ¨´ ÿ×÷ ß';
    for (const part of [text, text.replace(/[\u0080-\uffff]/g, ''), `${text} ½`]) {
      expect(searchTokens(part)).toEqual(searchTokens(`${part} —`));
      expect(searchTokens(part)[0]).toBe(part.includes('ü') ? 'müller@bücher.de' : 'mller@bcher.de');
    }
    expect(searchTokens('ª¹ µm 3²').slice(0, 3)).toEqual(['a1', 'μm', '32']);
    expect(searchTokens('x½y').slice(0, 2)).toEqual(['x1', '2y']);
  });

  it('gives the list searchTokens gives for the parts joined by line breaks, ASCII parts read as bytes', () => {
    let x = 11;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    const atoms = ['Mail', 'BILLING@Example.COM', 'a.b+c@d-e.f.org', 'x@y', '@', '.', 'c@d@e.org.', 'Dizi-2025', 'ab', 'AB',
      'abcdefghij', 'ABCDEFGHIJK', ' ', ' ', '\r\n', '\t', '_', '海淀区', '中', 'ﬁ', 'İ', 'ΑΣ', 'Straße', 'ü', '𠀀a@b.cn', 'x'.repeat(70)];
    const text = () => Array.from({ length: Math.floor(rnd() * 12) }, () => atoms[Math.floor(rnd() * atoms.length)]).join('');
    for (let n = 0; n < 2000; n++) {
      const parts = Array.from({ length: 1 + Math.floor(rnd() * 4) }, text);
      const asBytes = parts.map((p) => (Buffer.byteLength(p) === p.length && rnd() < 0.7 ? Buffer.from(p, 'latin1') : p));
      const maxBytes = rnd() < 0.3 ? 40 + Math.floor(rnd() * 200) : undefined;
      expect(searchTokensOf(asBytes, maxBytes), JSON.stringify(parts)).toEqual(searchTokens(parts.join('\n'), maxBytes));
    }
  });
});

describe('searchQueryTokens', () => {
  it('turns a Chinese query into bigrams that a matching message contains', () => {
    const doc = new Set(searchTokens('附件是北京市海淀区的财务报告，全文检索测试：金笛邮件系统'));
    for (const query of ['海淀', '财务报告', '全文检索', '金笛']) {
      const q = searchQueryTokens(query);
      expect(q.length).toBeGreaterThan(0);
      expect(q.every((t) => doc.has(t)), query).toBe(true);
    }
    expect(searchQueryTokens('财务报告')).toEqual(['财务', '务报', '报告']);
    expect(searchQueryTokens('海淀 Report')).toEqual(['海淀', 'report']);
    // a query that is not in the text fails
    expect(searchQueryTokens('上海').every((t) => doc.has(t))).toBe(false);
  });

  it('keeps an address in a query whole', () => {
    expect(searchQueryTokens('from billing@example.com')).toEqual(['billing@example.com', 'from']);
  });
});

describe('substringQueryTokens', () => {
  /** A small deterministic PRNG: the same texts on every run. */
  function prng(seed: number): () => number {
    let x = seed;
    return () => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x / 2147483648;
    };
  }
  const ALPHABET = ['a', 'b', 'c', 'd', 'E', 'ü', '1', '2', ' ', ' ', '-', '.', '@', '海', '淀', '区', '北', 'ﬁ', 'İ'];

  it('is a sound prefilter: every substring of a text has all its query lexemes among the text\'s lexemes', () => {
    const rnd = prng(7);
    for (let n = 0; n < 300; n++) {
      const text = Array.from({ length: 5 + Math.floor(rnd() * 60) }, () => ALPHABET[Math.floor(rnd() * ALPHABET.length)]).join('');
      const index = new Set(searchTokens(text));
      const normal = normalizeSearchText(text);
      for (let k = 0; k < 20; k++) {
        const from = Math.floor(rnd() * normal.length);
        const to = from + 1 + Math.floor(rnd() * (normal.length - from));
        const query = normal.slice(from, to);
        const missing = substringQueryTokens(query).filter((t) => !index.has(t));
        expect(missing, `${JSON.stringify(query)} in ${JSON.stringify(text)}`).toEqual([]);
      }
    }
  });

  it('narrows by word pieces and CJK bigrams, and by nothing when the query has no letters or digits', () => {
    expect(substringQueryTokens('sdfghjk')).toEqual(['sdf', 'dfg', 'fgh', 'ghj', 'hjk']);
    expect(substringQueryTokens('Ab c')).toEqual(['ab', 'c']);
    expect(substringQueryTokens('海淀区')).toEqual(['海淀', '淀区']);
    expect(substringQueryTokens('淀')).toEqual(['淀']);
    expect(substringQueryTokens(' -- ')).toEqual([]);
    // a query that is not in the text fails
    const index = new Set(searchTokens('asdfghjkl zxcvbnm'));
    expect(substringQueryTokens('sdfghjk').every((t) => index.has(t))).toBe(true);
    expect(substringQueryTokens('sdfxghjk').every((t) => index.has(t))).toBe(false);
  });
});
