import { describe, expect, it } from 'vitest';
import { EMPTY_CRITERIA, isEmptySearch, markedPieces, searchConditions } from './search-criteria';

describe('fielded search', () => {
  const day = (d: string) => `${d}T00:00:00Z`;
  const next = (d: string) => `${d}T24:00:00Z`;

  it('maps each filled field to its Email/query condition and leaves the rest out', () => {
    expect(isEmptySearch(EMPTY_CRITERIA)).toBe(true);
    const c = { ...EMPTY_CRITERIA, from: ' bob ', subject: '财务', attachmentName: 'plan.pdf', after: '2026-12-01', before: '2026-12-07', hasAttachment: true };
    expect(isEmptySearch(c)).toBe(false);
    expect(searchConditions(c, day, next)).toEqual([
      { from: 'bob' },
      { subject: '财务' },
      { attachmentName: 'plan.pdf' },
      { after: '2026-12-01T00:00:00Z' },
      { before: '2026-12-07T24:00:00Z' },
      { hasAttachment: true },
    ]);
    expect(searchConditions({ ...EMPTY_CRITERIA, text: '   ' }, day, next)).toEqual([]);
  });

  it('reads snippet marks as text, never as HTML', () => {
    expect(markedPieces('季度<mark>财务</mark>报告 &lt;b&gt; &amp;')).toEqual([
      { text: '季度', marked: false },
      { text: '财务', marked: true },
      { text: '报告 <b> &', marked: false },
    ]);
    expect(markedPieces('<mark>&lt;img src=x onerror=alert(1)&gt;</mark>')).toEqual([{ text: '<img src=x onerror=alert(1)>', marked: true }]);
  });
});
