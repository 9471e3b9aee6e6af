/**
 * The operators' anti-spam report: session log rows as the inbound server writes them (reply texts of the checks,
 * copied from libs/smtp/src/inbound/checks) and quarantine rows, counted per check over the period asked for.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant } from './tenancy-fixture';

describe('anti-spam report', () => {
  let api: TestApi;
  let op: string;
  let admin: string;
  const sql = (text: string, params: unknown[] = []) => api.db.dataSource.query(text, params);
  const log = (hoursAgo: number, result: string, reason: string) =>
    sql(`INSERT INTO mail_log (at, level, kind, node, result, reason) VALUES (now() - make_interval(hours => $1), 'warn', 'session', 'mx1', $2, $3)`, [hoursAgo, result, reason]);

  async function quarantined(reason: 'spam' | 'virus', hoursAgo: number): Promise<void> {
    const hash = randomBytes(32).toString('hex');
    await sql(`INSERT INTO blob (hash, size) VALUES ($1, 500)`, [hash]);
    const [m] = await sql(`INSERT INTO spool_message (blob_hash, size, mail_from, source) VALUES ($1, 500, 'x@spam.test', 'smtp') RETURNING id`, [hash]);
    const [r] = await sql(`INSERT INTO spool_recipient (message_id, address, kind, domain, held_at) VALUES ($1, 'u@acme.test', 'local', 'acme.test', now()) RETURNING id`, [m.id]);
    await sql(`INSERT INTO quarantine (recipient_id, message_id, address, reason, created_at) VALUES ($1, $2, 'u@acme.test', $3, now() - make_interval(hours => $4))`, [r.id, m.id, reason, hoursAgo]);
  }

  beforeAll(async () => {
    api = await startTestApi();
    op = await api.operatorToken();
    await seedTenant(api.db.dataSource, 'Acme', ['acme.test'], [{ local: 'boss', role: 'tenant_admin' }], TEST_PASSWORD);
    admin = await api.login('boss@acme.test', TEST_PASSWORD);
    await log(1, 'refused', '554 5.7.1 Service unavailable; client host [192.0.2.1] blocked using zen.example');
    await log(2, 'refused', '554 5.7.1 Service unavailable; client host [192.0.2.2] blocked using zen.example');
    await log(2, 'refused', '554 5.7.1 Service unavailable; client host [192.0.2.3] blocked using bl.other.example');
    await log(3, 'refused', '550 5.7.1 HELO/EHLO 192.0.2.9 is an address, not a host name');
    await log(3, 'refused', '550 5.7.25 Client host [192.0.2.4] has no reverse DNS (PTR) record');
    await log(4, 'abandoned', 'a@acme.test: 451 4.7.1 Greylisted, please try again in 300 seconds');
    // One recipient greylisted in a transaction that went through for another.
    await log(4, 'accepted', 'spam: score 1.2; b@acme.test: 451 4.7.1 Greylisted, please try again in 300 seconds');
    await log(5, 'rejected', '550 5.7.1 Message rejected: DMARC policy of bank.example (unauthenticated mail from this domain)');
    await log(5, 'rejected', '550 5.7.1 Message rejected as spam; spam: score 16.0 (BAYES_99), rejected');
    await log(6, 'rejected', '554 5.7.1 Message rejected: virus found (Eicar-Signature); virus: Eicar-Signature found, reject');
    await log(6, 'accepted', 'spam: score 7.5 (BAYES_80), Junk');
    await log(6, 'accepted', 'spam: score 0.1');
    // Outside the default week, and a delivery row: neither counts.
    await log(24 * 10, 'refused', '554 5.7.1 Service unavailable; client host [192.0.2.5] blocked using zen.example');
    await sql(`INSERT INTO mail_log (level, kind, node, result, reason) VALUES ('info', 'delivery', 'mx1', 'delivered', 'blocked using zen.example')`);
    await quarantined('spam', 1);
    await quarantined('spam', 2);
    await quarantined('virus', 3);
    await quarantined('spam', 24 * 10);
  });
  afterAll(() => api?.close());

  it('counts refusals per check and per DNS list zone, Junk and quarantine, over the last week by default', async () => {
    const res = await api.request('GET', '/api/antispam/report', { token: op });
    expect(res.status).toBe(200);
    expect(res.body.refused).toEqual({ dnsList: 3, helo: 1, reverseDns: 1, greylist: 2, dmarc: 1, spamScore: 1, virus: 1 });
    expect(res.body.dnsListZones).toEqual([{ zone: 'zen.example', refused: 2 }, { zone: 'bl.other.example', refused: 1 }]);
    expect(res.body.accepted).toBe(3);
    expect(res.body.junked).toBe(1);
    expect(res.body.quarantined).toEqual({ spam: 2, virus: 1 });
  });

  it('takes the period asked for', async () => {
    const to = new Date(Date.now() - 2.5 * 3_600_000).toISOString();
    const from = new Date(Date.now() - 30 * 86_400_000).toISOString();
    const res = await api.request('GET', `/api/antispam/report?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, { token: op });
    expect(res.status).toBe(200);
    // From 30 days to 2.5 hours ago: the 10-day-old refusal and quarantined spam, not the last 2.5 hours'.
    expect(res.body.refused).toEqual({ dnsList: 1, helo: 1, reverseDns: 1, greylist: 2, dmarc: 1, spamScore: 1, virus: 1 });
    expect(res.body.dnsListZones).toEqual([{ zone: 'zen.example', refused: 1 }]);
    expect(res.body.quarantined).toEqual({ spam: 1, virus: 1 });
    expect(res.body.from).toBe(from);
    expect(res.body.to).toBe(to);
  });

  it('refuses a bad period naming the field, and everyone but operators', async () => {
    expect((await api.request('GET', '/api/antispam/report?from=yesterday', { token: op })).status).toBe(400);
    const backwards = await api.request('GET', '/api/antispam/report?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', { token: op });
    expect(backwards.status).toBe(400);
    expect(backwards.body.message).toContain('before');
    expect((await api.request('GET', '/api/antispam/report?from=2020-01-01T00:00:00Z&to=2026-12-01T00:00:00Z', { token: op })).status).toBe(400);
    expect((await api.request('GET', '/api/antispam/report', { token: admin })).status).toBe(403);
    expect((await api.request('GET', '/api/antispam/report')).status).toBe(401);
  });
});
