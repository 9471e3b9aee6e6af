import { describe, expect, it } from 'vitest';
import { normalizeTokens } from './message-rules';

describe('normalizeTokens', () => {
  it('lowercases, strips NUL, drops empty, duplicate and over-long tokens, keeping the first order', () => {
    expect(normalizeTokens(['Hello', 'wo\0rld', 'HELLO', '\0', '', 'x'.repeat(2001), 'é'.repeat(1001), 'é'.repeat(1000), 'World']))
      .toEqual(['hello', 'world', 'é'.repeat(1000)]);
  });

  it('stops adding once the vector would pass what PostgreSQL takes', () => {
    const tokens = Array.from({ length: 2000 }, (_, i) => `${String(i).padStart(4, '0')}${'a'.repeat(996)}`);
    const kept = normalizeTokens(tokens);
    // 1,008 bytes each counted: 892 fit under 900,000.
    expect(kept).toHaveLength(892);
    expect(kept).toEqual(tokens.slice(0, 892));
  });
});
