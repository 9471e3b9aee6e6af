import { describe, expect, it } from 'vitest';
import { addressMatchesPattern, InvalidAddressError, normaliseAddressPattern, normaliseLocalPart, parseAddress } from './address';

const refuses = (fn: () => unknown, reason: RegExp) => {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidAddressError);
  expect((error as InvalidAddressError).reason).toMatch(reason);
};

describe('parseAddress', () => {
  it('lower-cases the local part and normalises the domain to punycode', () => {
    expect(parseAddress(' Alice.Smith+tag@Example.COM ')).toEqual({ localPart: 'alice.smith+tag', domain: 'example.com', address: 'alice.smith+tag@example.com' });
    expect(parseAddress('info@例子.测试')).toEqual({ localPart: 'info', domain: 'xn--fsqu00a.xn--0zwm56d', address: 'info@xn--fsqu00a.xn--0zwm56d' });
    expect(parseAddress("o'brien_{x}@a.test").localPart).toBe("o'brien_{x}");
  });

  it('refuses malformed addresses with a reason', () => {
    refuses(() => parseAddress('no-at-sign.test'), /no @/);
    refuses(() => parseAddress('@a.test'), /empty/);
    refuses(() => parseAddress('.dot@a.test'), /dot/);
    refuses(() => parseAddress('dot.@a.test'), /dot/);
    refuses(() => parseAddress('two..dots@a.test'), /dot/);
    refuses(() => parseAddress('sp ace@a.test'), /letters/);
    refuses(() => parseAddress(`${'x'.repeat(65)}@a.test`), /64/);
    refuses(() => parseAddress('alice@localhost'), /two labels/);
    refuses(() => parseAddress('alice@bad domain.test'), /space/);
  });

  it('takes the last @ as the separator', () => {
    refuses(() => parseAddress('a@b@c.test'), /letters/);
  });
});

describe('normaliseLocalPart', () => {
  it('accepts the longest local part', () => {
    expect(normaliseLocalPart('A'.repeat(64))).toBe('a'.repeat(64));
  });
});

describe('address patterns', () => {
  it('normalises wildcards and plain addresses', () => {
    expect(normaliseAddressPattern('*@Example.COM')).toBe('*@example.com');
    expect(normaliseAddressPattern('@例子.测试')).toBe('*@xn--fsqu00a.xn--0zwm56d');
    expect(normaliseAddressPattern('Bob@A.test')).toBe('bob@a.test');
    refuses(() => normaliseAddressPattern('*@nodot'), /two labels/);
  });

  it('matches by domain for wildcards and exactly otherwise', () => {
    expect(addressMatchesPattern('Bob@A.test', '*@a.test')).toBe(true);
    expect(addressMatchesPattern('bob@sub.a.test', '*@a.test')).toBe(false);
    expect(addressMatchesPattern('bob@evila.test', '*@a.test')).toBe(false);
    expect(addressMatchesPattern('BOB@a.test', 'bob@a.test')).toBe(true);
    expect(addressMatchesPattern('bobby@a.test', 'bob@a.test')).toBe(false);
  });
});
