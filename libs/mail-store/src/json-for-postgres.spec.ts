import { describe, expect, it } from 'vitest';
import { jsonForPostgres } from './json-for-postgres';

/** What the old replacer-based version produced: every string value without NUL. */
function reference(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? v.replace(/\0/g, '') : v));
}

describe('jsonForPostgres', () => {
  const cases: Array<[string, unknown]> = [
    ['no NUL', { subject: 'plain', n: 1, list: ['a', 'b'], nested: { x: null } }],
    ['a NUL', { subject: 'a\0b' }],
    ['NULs in a row and at both ends', ['\0\0x\0', '\0']],
    ['the six characters \\u0000 are text, kept', { subject: '\\u0000' }],
    ['an escaped backslash before a NUL', { subject: '\\\0' }],
    ['two escaped backslashes then the text u0000', { s: '\\\\u0000' }],
    ['a backslash, a NUL, the text \\u0000', { s: '\\\0\\u0000\0' }],
    ['Chinese around a NUL', { s: '会\0议' }],
  ];
  for (const [name, value] of cases) {
    it(name, () => {
      const json = jsonForPostgres(value);
      expect(json).toBe(reference(value));
      expect(JSON.stringify(JSON.parse(json))).toBe(json);
      expect(json).not.toMatch(/(?<!\\)(?:\\\\)*\\u0000/);
    });
  }
});
