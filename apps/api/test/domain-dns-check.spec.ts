/**
 * The domain DNS check against a real resolver: unbound serving one domain published right, one with some
 * records right and some wrong, one with nothing; and a resolver that does not answer.
 */
import { createSocket, Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUnbound, Unbound, UnboundRecord } from '@dizi/testing/unbound';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant } from './tenancy-fixture';

interface Checked {
  kind: string;
  type: string;
  name: string;
  value: string;
  status: string;
  reason?: string;
  found: string[];
}

// A DKIM key as the domain row holds it (base64 of the SubjectPublicKeyInfo); the zone publishes it.
const KEY = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA' + 'q'.repeat(300) + 'IDAQAB';

/** right.test as its owner should publish it, written out by hand from the records the issue names. */
const RIGHT: UnboundRecord[] = [
  { type: 'MX', name: 'right.test', value: '10 mail.right.test.' },
  { type: 'TXT', name: 'right.test', value: 'v=spf1 mx ~all' },
  { type: 'TXT', name: 'dizi._domainkey.right.test', value: `v=DKIM1; k=rsa; p=${KEY}` },
  { type: 'TXT', name: '_dmarc.right.test', value: 'v=DMARC1; p=reject' },
  { type: 'SRV', name: '_submissions._tcp.right.test', value: '0 1 465 mail.right.test.' },
  { type: 'SRV', name: '_submission._tcp.right.test', value: '0 1 587 mail.right.test.' },
  { type: 'SRV', name: '_imaps._tcp.right.test', value: '0 1 993 mail.right.test.' },
  { type: 'SRV', name: '_pop3s._tcp.right.test', value: '5 0 995 MAIL.right.test.' },
  { type: 'SRV', name: '_autodiscover._tcp.right.test', value: '0 1 443 mail.right.test.' },
  { type: 'TXT', name: '_mta-sts.right.test', value: 'v=STSv1; id=20261207T1' },
];

/** mixed.test: MX, DKIM, the submission SRV record right; the rest wrong in each of the ways the check knows. */
const MIXED: UnboundRecord[] = [
  { type: 'MX', name: 'mixed.test', value: '10 mail.mixed.test.' },
  { type: 'MX', name: 'mixed.test', value: '20 backup.elsewhere.test.' },
  { type: 'TXT', name: 'mixed.test', value: 'v=spf1 include:_spf.elsewhere.test -all' },
  { type: 'TXT', name: 'mixed.test', value: 'google-site-verification=abc' },
  { type: 'TXT', name: 'dizi._domainkey.mixed.test', value: `v=DKIM1; k=rsa; p=${KEY}` },
  { type: 'TXT', name: '_dmarc.mixed.test', value: 'v=DMARC1; p=none' },
  { type: 'SRV', name: '_submission._tcp.mixed.test', value: '0 1 587 mail.mixed.test.' },
  { type: 'SRV', name: '_imaps._tcp.mixed.test', value: '0 1 143 mail.mixed.test.' },
  { type: 'SRV', name: '_pop3s._tcp.mixed.test', value: '0 1 995 pop.elsewhere.test.' },
  { type: 'TXT', name: '_mta-sts.mixed.test', value: 'v=STSv1; id=2026120701' },
  { type: 'TXT', name: '_mta-sts.mixed.test', value: 'v=STSv1; id=2026120702' },
];

async function seedDomains(api: TestApi) {
  const t = await seedTenant(api.db.dataSource, 'Quay Mail', ['right.test', 'mixed.test', 'empty.test'], [{ local: 'deb', domain: 'mixed.test', role: 'domain_admin' }], TEST_PASSWORD);
  await api.db.dataSource.query(`UPDATE domain SET dkim_public_key = $1 WHERE tenant_id = $2`, [KEY, t.id]);
}

describe('domain DNS check', () => {
  let api: TestApi;
  let unbound: Unbound;
  let op: string;
  let deb: string;
  let outsider: string;
  const byName = (records: Checked[]) => Object.fromEntries(records.map((r) => [`${r.type} ${r.name}`, r]));

  beforeAll(async () => {
    unbound = await startUnbound([...RIGHT, ...MIXED], ['right.test', 'mixed.test', 'empty.test']);
    api = await startTestApi({ DNS_SERVERS: unbound.server });
    op = await api.operatorToken();
    await seedDomains(api);
    await seedTenant(api.db.dataSource, 'Pier Mail', ['pier.test'], [{ local: 'pia', role: 'tenant_admin' }], TEST_PASSWORD);
    deb = await api.login('deb@mixed.test', TEST_PASSWORD);
    outsider = await api.login('pia@pier.test', TEST_PASSWORD);
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await unbound?.stop();
  });

  it('lists the records to publish: MX, SPF, DKIM, DMARC, the autoconfiguration SRV records and MTA-STS', async () => {
    const r = await api.request('GET', '/api/domains/mixed.test/dns', { token: deb });
    expect(r.status).toBe(200);
    expect(r.body.records.map((x: Checked) => `${x.type} ${x.name} ${x.type === 'SRV' ? x.value : ''}`.trim())).toEqual([
      'MX mixed.test', 'TXT mixed.test', 'TXT dizi._domainkey.mixed.test', 'TXT _dmarc.mixed.test',
      'SRV _submissions._tcp.mixed.test 0 1 465 mail.mixed.test.', 'SRV _submission._tcp.mixed.test 0 1 587 mail.mixed.test.',
      'SRV _imaps._tcp.mixed.test 0 1 993 mail.mixed.test.', 'SRV _pop3s._tcp.mixed.test 0 1 995 mail.mixed.test.',
      'SRV _autodiscover._tcp.mixed.test 0 1 443 mail.mixed.test.', 'TXT _mta-sts.mixed.test',
    ]);
  });

  it('finds every record of a domain published as the list says', async () => {
    const r = await api.request('GET', '/api/domains/right.test/dns/check', { token: op });
    expect(r.status).toBe(200);
    expect(r.body.records).toHaveLength(10);
    for (const rec of r.body.records as Checked[]) {
      expect(rec.status, `${rec.type} ${rec.name}`).toBe('found');
      expect(rec.found.length, `${rec.type} ${rec.name}`).toBeGreaterThan(0);
    }
  });

  it('tells exactly which records are wrong, why, and what the resolver gave', async () => {
    const r = await api.request('GET', '/api/domains/mixed.test/dns/check', { token: deb });
    expect(r.status).toBe(200);
    const got = byName(r.body.records);
    const statuses = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, v.reason ? `${v.status}:${v.reason}` : v.status]));
    expect(statuses).toEqual({
      'MX mixed.test': 'found',
      'TXT mixed.test': 'wrong:different',
      'TXT dizi._domainkey.mixed.test': 'found',
      'TXT _dmarc.mixed.test': 'wrong:weak-policy',
      'SRV _submissions._tcp.mixed.test': 'missing',
      'SRV _submission._tcp.mixed.test': 'found',
      'SRV _imaps._tcp.mixed.test': 'wrong:different',
      'SRV _pop3s._tcp.mixed.test': 'wrong:different',
      'SRV _autodiscover._tcp.mixed.test': 'missing',
      'TXT _mta-sts.mixed.test': 'wrong:duplicate',
    });
    expect(got['MX mixed.test'].found.sort()).toEqual(['10 mail.mixed.test.', '20 backup.elsewhere.test.']);
    expect(got['TXT mixed.test'].value).toBe('v=spf1 mx -all');
    expect(got['TXT mixed.test'].found.sort()).toEqual(['google-site-verification=abc', 'v=spf1 include:_spf.elsewhere.test -all']);
    expect(got['SRV _imaps._tcp.mixed.test']).toMatchObject({ value: '0 1 993 mail.mixed.test.', found: ['0 1 143 mail.mixed.test.'] });
    expect(got['TXT _dmarc.mixed.test']).toMatchObject({ value: 'v=DMARC1; p=quarantine; rua=mailto:postmaster@mixed.test', found: ['v=DMARC1; p=none'] });
    expect(got['SRV _submissions._tcp.mixed.test'].found).toEqual([]);
    expect(Date.parse(r.body.checkedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('shows a domain nobody published as missing everywhere', async () => {
    const r = await api.request('GET', '/api/domains/empty.test/dns/check', { token: op });
    expect((r.body.records as Checked[]).map((x) => x.status)).toEqual(Array(10).fill('missing'));
  });

  it("answers 404 for another tenant's domain and for a domain the domain admin does not administer, and 401 signed out", async () => {
    expect((await api.request('GET', '/api/domains/mixed.test/dns/check', { token: outsider })).status).toBe(404);
    expect((await api.request('GET', '/api/domains/right.test/dns/check', { token: deb })).status).toBe(404);
    expect((await api.request('GET', '/api/domains/mixed.test/dns/check')).status).toBe(401);
  });

  it('says "error" (not missing) when the resolver does not answer', async () => {
    // A UDP socket that reads queries and never replies.
    const silent: Socket = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    const port = silent.address().port;
    const dead = await startTestApi({ DNS_SERVERS: `127.0.0.1:${port}`, DNS_TIMEOUT_MS: '200' });
    try {
      await seedDomains(dead);
      const r = await dead.request('GET', '/api/domains/mixed.test/dns/check', { token: await dead.operatorToken() });
      expect(r.status).toBe(200);
      expect(new Set((r.body.records as Checked[]).map((x) => x.status))).toEqual(new Set(['error']));
    } finally {
      await dead.close();
      silent.close();
    }
  });
});
