/**
 * demo.test as a careless owner published it, for the DNS check page: MX, DMARC, two SRV records and MTA-STS
 * right; SPF and DKIM wrong (another value); the submission, POP3 and autodiscover SRV records missing.
 */
import type { UnboundRecord } from '@dizi/testing/unbound';

export const DEMO_ZONE: UnboundRecord[] = [
  { type: 'MX', name: 'demo.test', value: '10 mail.demo.test.' },
  { type: 'TXT', name: 'demo.test', value: 'v=spf1 a -all' },
  { type: 'TXT', name: 'dizi._domainkey.demo.test', value: 'v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQColdKey' },
  { type: 'TXT', name: '_dmarc.demo.test', value: 'v=DMARC1; p=reject; rua=mailto:dmarc@demo.test' },
  { type: 'SRV', name: '_submissions._tcp.demo.test', value: '0 1 465 mail.demo.test.' },
  { type: 'SRV', name: '_imaps._tcp.demo.test', value: '0 1 993 mail.demo.test.' },
  { type: 'TXT', name: '_mta-sts.demo.test', value: 'v=STSv1; id=20261201' },
];

/** What the check must say of each record of demo.test (`type name` → status). */
export const DEMO_ZONE_VERDICTS: Record<string, string> = {
  'MX demo.test': 'found',
  'TXT demo.test': 'wrong',
  'TXT dizi._domainkey.demo.test': 'wrong',
  'TXT _dmarc.demo.test': 'found',
  'SRV _submissions._tcp.demo.test': 'found',
  'SRV _submission._tcp.demo.test': 'missing',
  'SRV _imaps._tcp.demo.test': 'found',
  'SRV _pop3s._tcp.demo.test': 'missing',
  'SRV _autodiscover._tcp.demo.test': 'missing',
  'TXT _mta-sts.demo.test': 'found',
};
