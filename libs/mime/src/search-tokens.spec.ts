import { describe, expect, it } from 'vitest';
import { searchQueryTokens, searchTokens } from './search-tokens';

describe('searchTokens', () => {
  it('indexes ICU words and overlapping bigrams of Chinese runs', () => {
    const tokens = searchTokens('北京市海淀区的财务报告');
    expect(tokens).toEqual(expect.arrayContaining(['海淀', '财务', '报告', '北京', '淀区', '务报']));
    // ICU alone splits the district name; the bigram is what makes it findable
    const icu = [...new Intl.Segmenter('zh', { granularity: 'word' }).segment('北京市海淀区的财务报告')].map((s) => s.segment);
    expect(icu).not.toContain('海淀');
  });

  it('keeps a one-character run, lower-cases Latin words and splits on punctuation', () => {
    expect(searchTokens('Hello, World! 中 Dizi-2025')).toEqual(['hello', 'world', '中', 'dizi', '2025']);
  });

  it('keeps email addresses whole and in parts', () => {
    expect(searchTokens('Mail Billing@Example.com now')).toEqual(
      ['billing@example.com', 'billing', 'example.com', 'mail', 'example', 'com', 'now'],
    );
  });

  it('returns distinct tokens, drops overlong ones and stops at the byte budget', () => {
    expect(searchTokens('a a a b')).toEqual(['a', 'b']);
    expect(searchTokens('x'.repeat(65) + ' ok')).toEqual(['ok']);
    const many = Array.from({ length: 1000 }, (_, i) => `word${i}`).join(' ');
    const capped = searchTokens(many, 100);
    expect(capped.length).toBeGreaterThan(5);
    expect(capped.reduce((n, t) => n + Buffer.byteLength(t) + 1, 0)).toBeLessThanOrEqual(100);
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
