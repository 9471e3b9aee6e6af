import { describe, expect, it } from 'vitest';
import { DnsAnswer, expectedDnsRecords, judgeDnsAnswer } from './dns-records';

const records = expectedDnsRecords({ name: 'example.test', mailHost: 'mail.example.test', dkimSelector: 'dizi', dkimPublicKey: 'KEY123', mtaStsId: '20261207' });
const byKind = (kind: string) => records.find((r) => r.kind === kind)!;
const txt = (...values: string[]): DnsAnswer => ({ kind: 'txt', records: values.map((v) => [v]) });
const judge = (kind: string, answer: DnsAnswer) => {
  const r = judgeDnsAnswer(byKind(kind), answer, 'mail.example.test');
  return r.reason ? `${r.status}:${r.reason}` : r.status;
};

describe('DNS record judgement', () => {
  it('accepts SPF that lets the MX send and ends in -all or ~all, and only one SPF record', () => {
    expect(judge('spf', txt('v=spf1 mx -all'))).toBe('found');
    expect(judge('spf', txt('v=spf1 ip4:192.0.2.1 +mx ~all'))).toBe('found');
    expect(judge('spf', txt('v=spf1 a:mail.example.test -all'))).toBe('found');
    expect(judge('spf', txt('v=spf1 mx ?all'))).toBe('wrong:different');
    expect(judge('spf', txt('v=spf1 include:_spf.other.test -all'))).toBe('wrong:different');
    expect(judge('spf', txt('v=spf1 mx -all', 'v=spf1 a -all'))).toBe('wrong:duplicate');
    expect(judge('spf', txt('some-verification=1'))).toBe('missing');
  });

  it('reads DKIM keys split over several strings and ignores whitespace in them', () => {
    expect(judge('dkim', { kind: 'txt', records: [['v=DKIM1; k=rsa; p=KEY', '123']] })).toBe('found');
    expect(judge('dkim', txt('v=DKIM1; k=rsa; p=KEY 123'))).toBe('found');
    expect(judge('dkim', txt('v=DKIM1; p=OTHER'))).toBe('wrong:different');
  });

  it('wants a DMARC policy that acts, and an MTA-STS id of letters and digits', () => {
    expect(judge('dmarc', txt('v=DMARC1; p=reject'))).toBe('found');
    expect(judge('dmarc', txt('v=DMARC1; p=none; rua=mailto:x@example.test'))).toBe('wrong:weak-policy');
    expect(judge('dmarc', txt('v=DMARC1'))).toBe('wrong:different');
    expect(judge('mta-sts', txt('v=STSv1; id=abc123'))).toBe('found');
    expect(judge('mta-sts', txt('v=STSv1; id=not-valid!'))).toBe('wrong:different');
  });

  it('matches MX and SRV targets without regard to case or the final dot, and SRV ports exactly', () => {
    expect(judge('mx', { kind: 'mx', records: [{ priority: 5, exchange: 'MAIL.example.test' }] })).toBe('found');
    const imaps = records.find((r) => r.name === '_imaps._tcp.example.test')!;
    expect(judgeDnsAnswer(imaps, { kind: 'srv', records: [{ priority: 0, weight: 0, port: 993, name: 'mail.example.test.' }] }, 'mail.example.test').status).toBe('found');
    expect(judgeDnsAnswer(imaps, { kind: 'srv', records: [{ priority: 0, weight: 0, port: 143, name: 'mail.example.test' }] }, 'mail.example.test').status).toBe('wrong');
    expect(judge('mx', { kind: 'none' })).toBe('missing');
    expect(judge('mx', { kind: 'error', code: 'ETIMEOUT' })).toBe('error');
  });
});
