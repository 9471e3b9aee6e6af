import { describe, expect, it } from 'vitest';
import { evaluatePointer, PointerError } from './json-pointer';

describe('JMAP result reference pointers (RFC 8620 §3.7)', () => {
  const value = { ids: ['a', 'b'], list: [{ id: 't1', emailIds: ['e1', 'e2'] }, { id: 't2', emailIds: ['e3'] }], 'a/b': { '~c': 1 } };

  it('walks members and array indexes, with ~1 and ~0 escapes', () => {
    expect(evaluatePointer(value, '/ids')).toEqual(['a', 'b']);
    expect(evaluatePointer(value, '/ids/1')).toBe('b');
    expect(evaluatePointer(value, '/a~1b/~0c')).toBe(1);
    expect(evaluatePointer(value, '')).toBe(value);
  });

  it('maps * over an array and flattens arrays it yields', () => {
    expect(evaluatePointer(value, '/list/*/id')).toEqual(['t1', 't2']);
    expect(evaluatePointer(value, '/list/*/emailIds')).toEqual(['e1', 'e2', 'e3']);
  });

  it('refuses paths that do not resolve', () => {
    for (const path of ['/missing', '/ids/2', '/ids/01', '/ids/x', 'ids', '/list/*/nothing']) {
      expect(() => evaluatePointer(value, path), path).toThrow(PointerError);
    }
  });
});
