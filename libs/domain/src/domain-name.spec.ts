import { describe, expect, it } from 'vitest';
import { InvalidDomainNameError, normaliseDomainName } from './domain-name';

describe('normaliseDomainName', () => {
  it.each([
    ['example.com', 'example.com', 'example.com'],
    ['  Example.COM. ', 'example.com', 'example.com'],
    ['例子.测试', 'xn--fsqu00a.xn--0zwm56d', '例子.测试'],
    ['XN--FSQU00A.XN--0ZWM56D', 'xn--fsqu00a.xn--0zwm56d', '例子.测试'],
    ['Bücher.Example', 'xn--bcher-kva.example', 'bücher.example'],
    ['mail.sub-domain.example.org', 'mail.sub-domain.example.org', 'mail.sub-domain.example.org'],
    ['a1.b2', 'a1.b2', 'a1.b2'],
  ])('%s → %s', (input, name, unicode) => {
    expect(normaliseDomainName(input)).toEqual({ name, unicode });
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['localhost', 'two labels'],
    ['bad domain.com', 'space'],
    ['user@example.com', '@'],
    ['example.com/path', 'slash'],
    ['example.com:25', 'colon'],
    ['-lead.com', 'hyphen'],
    ['trail-.com', 'hyphen'],
    ['a..com', 'label'],
    [`${'a'.repeat(64)}.com`, 'label'],
    [`${'abcdefghi.'.repeat(26)}com`, '253'],
    ['192.168.0.1', 'numeric'],
    ['under_score.com', 'label'],
  ])('refuses %j (%s)', (input, reason) => {
    let error: unknown;
    try {
      normaliseDomainName(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidDomainNameError);
    expect((error as Error).message).toContain(`"${input}" is not a valid domain name`);
    expect((error as InvalidDomainNameError).reason.toLowerCase()).toContain(reason.toLowerCase());
  });

  it('accepts the longest legal label and name', () => {
    const label = 'a'.repeat(63);
    expect(normaliseDomainName(`${label}.com`).name).toBe(`${label}.com`);
    const name = `${'abcdefghi.'.repeat(24)}com`;
    expect(name.length).toBeLessThanOrEqual(253);
    expect(normaliseDomainName(name).name).toBe(name);
  });
});
