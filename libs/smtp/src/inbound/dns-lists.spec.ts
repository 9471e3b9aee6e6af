import { describe, expect, it } from 'vitest';
import { DEFAULT_SMTP_SETTINGS } from '@dizi/contracts/mail-settings.contract';
import { greylistNetwork } from './checks/greylist.check';
import { spamThresholds } from './checks/spam-score.check';
import { DnsList, listQuery, queryLists, reversedAddress } from './dns-lists';
import type { ReputationResolver } from './ports';

const list = (over: Partial<DnsList>): DnsList => ({ zone: 'bl.test', type: 'ip', action: 'score', weight: 3, answers: [], ...over });

describe('DNS list queries (RFC 5782)', () => {
  it('reverses IPv4 octets and IPv6 nibbles, and reads IPv4-mapped IPv6 as IPv4', () => {
    expect(reversedAddress('192.0.2.99')).toBe('99.2.0.192');
    expect(reversedAddress('::ffff:192.0.2.99')).toBe('99.2.0.192');
    expect(reversedAddress('2001:db8:1:2:3:4:567:89ab')).toBe('b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2');
    expect(reversedAddress('not an address')).toBeNull();
  });

  it('names the query under the zone; a domain list takes domains, never address literals', () => {
    expect(listQuery(list({}), '192.0.2.99')).toBe('99.2.0.192.bl.test');
    expect(listQuery(list({ type: 'domain', zone: 'rhs.test' }), 'Spammer.Example.')).toBe('spammer.example.rhs.test');
    expect(listQuery(list({ type: 'domain' }), '[192.0.2.1]')).toBeNull();
    expect(listQuery(list({ type: 'domain' }), 'localhost')).toBeNull();
  });

  it('counts only 127.0.0.0/8 answers (not 127.255.255.x errors), only the configured ones when given, and reports lists that failed', async () => {
    const answers: Record<string, string[] | 'unknown'> = {
      '99.2.0.192.a.test': ['127.0.0.2'],
      '99.2.0.192.b.test': ['192.0.2.1'],
      '99.2.0.192.c.test': ['127.255.255.254'],
      '99.2.0.192.d.test': ['127.0.0.4', '127.0.0.10'],
      '99.2.0.192.e.test': 'unknown',
    };
    const resolver: ReputationResolver = { addresses: async (n) => answers[n] ?? [], reverse: async () => [] };
    const lists = ['a', 'b', 'c', 'd', 'e', 'f'].map((z) => list({ zone: `${z}.test`, answers: z === 'd' ? ['127.0.0.10'] : [] }));
    const { hits, failed } = await queryLists(resolver, lists, 'ip', '192.0.2.99', 0);
    expect(hits.map((h) => [h.list.zone, h.answers])).toEqual([['a.test', ['127.0.0.2']], ['d.test', ['127.0.0.10']]]);
    expect(failed).toEqual(['e.test']);
  });
});

describe('greylisting networks and spam thresholds', () => {
  it('greylists IPv4 by /24 and IPv6 by /64', () => {
    expect(greylistNetwork('192.0.2.99')).toBe('192.0.2.0/24');
    expect(greylistNetwork('::ffff:192.0.2.7')).toBe('192.0.2.0/24');
    expect(greylistNetwork('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
  });

  it('uses a domain\'s thresholds only when every recipient is in it', () => {
    const settings = { ...DEFAULT_SMTP_SETTINGS, antispamDomainOverrides: { 'acme.test': { junkScore: 4 } } };
    expect(spamThresholds(settings, ['acme.test', 'acme.test'])).toEqual({ tag: 5, junk: 4, quarantine: 9, reject: 15 });
    expect(spamThresholds(settings, ['acme.test', 'other.test'])).toEqual({ tag: 5, junk: 7, quarantine: 9, reject: 15 });
    expect(spamThresholds(DEFAULT_SMTP_SETTINGS, [])).toEqual({ tag: 5, junk: 7, quarantine: 9, reject: 15 });
  });
});
