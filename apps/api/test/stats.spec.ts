/** The operators' dashboard (GET /api/stats/dashboard): every figure computed by PostgreSQL from the mail log, spool and usage. */
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMailLog } from '@dizi/delivery/adapters/postgres/mail-log';
import { rollUpMailLog } from '@dizi/delivery/adapters/postgres/mail-log-rollup';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant, SeededTenant } from './tenancy-fixture';

describe('operator dashboard', () => {
  let api: TestApi;
  let pool: Pool;
  let op: string;
  let acme: SeededTenant;
  let beacon: SeededTenant;
  const hour = 3_600_000;
  // Half past the current hour at the latest, so "n hours ago" lands in a known bucket whatever the clock says.
  const base = Math.floor(Date.now() / hour) * hour + 60_000;

  beforeAll(async () => {
    api = await startTestApi();
    pool = new Pool({ connectionString: api.db.url, max: 2 });
    pool.on('error', () => undefined);
    op = await api.operatorToken();
    acme = await seedTenant(api.db.dataSource, 'Acme', ['acme.test'], [{ local: 'boss', role: 'tenant_admin' }, { local: 'lee' }], TEST_PASSWORD);
    beacon = await seedTenant(api.db.dataSource, 'Beacon', ['beacon.test'], [{ local: 'ben' }], TEST_PASSWORD);
    await pool.query(`UPDATE mailbox SET used_bytes = 5000 WHERE address = 'lee@acme.test'`);
    await pool.query(`UPDATE mailbox SET used_bytes = 7000 WHERE address = 'ben@beacon.test'`);

    const at = (hoursAgo: number) => new Date(base - hoursAgo * hour);
    const session = (hoursAgo: number, result: string, mailFrom: string, reason = '') =>
      ({ level: 'info' as const, kind: 'session' as const, node: 'mx1', result, mailFrom, recipients: ['lee@acme.test'], reason, at: at(hoursAgo) });
    await writeMailLog(pool, [
      session(0, 'accepted', 'Pat@Partner.test'),
      session(0, 'accepted', 'pat@partner.test'),
      session(1, 'accepted', 'news@list.test'),
      session(1, 'rejected', 'bulk@spam.test', '550 5.1.1 unknown recipient'),
      session(2, 'rejected', 'bulk@spam.test', '550 5.1.1 unknown recipient'),
      session(2, 'rejected', 'x@spam.test', '554 5.7.1 blocked by DNSBL'),
      { level: 'info', kind: 'outbound', node: 'mx1', result: 'delivered', mailFrom: 'lee@acme.test', recipients: ['a@remote.test'], at: at(1) },
      { level: 'warn', kind: 'outbound', node: 'mx1', result: 'deferred', mailFrom: 'lee@acme.test', recipients: ['b@remote.test'], at: at(1) },
      // Outside a 48-hour window, inside the 30 days.
      session(24 * 5, 'accepted', 'old@partner.test'),
    ]);

    // Spool: one recipient waiting since 3 hours ago, one delivered 1 hour after arriving 2 hours ago.
    const hash = 'a'.repeat(64);
    await pool.query(`INSERT INTO blob (hash, size) VALUES ($1, 10)`, [hash]);
    const m1 = await pool.query(`INSERT INTO spool_message (blob_hash, size, mail_from, source, received_at) VALUES ($1, 10, 'a@x.test', 'smtp', $2) RETURNING id`, [hash, at(3)]);
    const m2 = await pool.query(`INSERT INTO spool_message (blob_hash, size, mail_from, source, received_at) VALUES ($1, 10, 'b@x.test', 'smtp', $2) RETURNING id`, [hash, at(2)]);
    await pool.query(`INSERT INTO spool_recipient (message_id, address, kind, domain, status) VALUES ($1, 'c@remote.test', 'remote', 'remote.test', 'deferred')`, [m1.rows[0].id]);
    await pool.query(`INSERT INTO spool_recipient (message_id, address, kind, domain, status, delivered_at) VALUES ($1, 'lee@acme.test', 'local', 'acme.test', 'delivered', $2)`, [m2.rows[0].id, at(1)]);
  });
  afterAll(async () => {
    await pool?.end();
    await api?.close();
  });

  const dashboard = (token: string, query = '') => api.request('GET', `/api/stats/dashboard${query}`, { token });

  it('counts mail in, out and refused per hour, every hour of the window present', async () => {
    const r = await dashboard(op, '?hours=4');
    expect(r.status).toBe(200);
    const hours = r.body.mailPerHour;
    expect(hours).toHaveLength(4);
    expect(hours.map((h: { at: string }) => Date.parse(h.at))).toEqual([3, 2, 1, 0].map((n) => Math.floor(base / hour) * hour - n * hour));
    expect(hours.map((h: any) => [h.inbound, h.outbound, h.refused])).toEqual([[0, 0, 0], [0, 0, 2], [1, 1, 1], [2, 0, 0]]);
  });

  it('counts per day over the days asked for, and the old message only there', async () => {
    const r = await dashboard(op, '?days=30');
    expect(r.body.mailPerDay).toHaveLength(30);
    const total = (k: string) => r.body.mailPerDay.reduce((n: number, d: any) => n + d[k], 0);
    expect([total('inbound'), total('outbound'), total('refused')]).toEqual([4, 1, 3]);
    const last48 = await dashboard(op, '?hours=48');
    expect(last48.body.mailPerHour.reduce((n: number, h: any) => n + h.inbound, 0)).toBe(3);
  });

  it('groups refusals by reason and senders by address, case folded', async () => {
    const r = await dashboard(op);
    expect(r.body.refusalsByReason).toEqual([
      { reason: '550 5.1.1 unknown recipient', count: 2 },
      { reason: '554 5.7.1 blocked by DNSBL', count: 1 },
    ]);
    expect(r.body.topSenders).toEqual([
      { sender: 'pat@partner.test', messages: 2 },
      { sender: 'news@list.test', messages: 1 },
      { sender: 'old@partner.test', messages: 1 },
    ]);
  });

  it('rebuilds the queue size per hour from the spool, and the queue now', async () => {
    const r = await dashboard(op, '?hours=4');
    expect(r.body.queueNow).toEqual({ queued: 0, deferred: 1 });
    // End of the hour 3 ago: m1 waiting. 2 ago: m1 and m2. 1 ago: m2 delivered at its start, so m1 only. Now: m1.
    expect(r.body.queuePerHour.map((h: { waiting: number }) => h.waiting)).toEqual([1, 2, 1, 1]);
  });

  it('ranks tenants by storage used', async () => {
    const r = await dashboard(op);
    expect(r.body.storageByTenant.map((t: any) => [t.name, t.usedBytes, t.mailboxes])).toEqual([
      ['Beacon', 7000, 1],
      ['Acme', 5000, 2],
    ]);
    expect(r.body.storageByTenant[0].tenantId).toBe(beacon.id);
  });

  it('is for operators only', async () => {
    const admin = await api.login('boss@acme.test', TEST_PASSWORD);
    expect((await dashboard(admin)).status).toBe(403);
    expect((await api.request('GET', '/api/stats/dashboard')).status).toBe(401);
    expect((await dashboard(op, '?hours=0')).status).toBe(400);
    expect(acme.id).toBeTruthy();
  });

  it('gives the same figures from the rollups as from the raw log, however often the rollup runs', async () => {
    const figures = async (query: string) => {
      const r = await dashboard(op, query);
      expect(r.status).toBe(200);
      const { generatedAt: _, ...rest } = r.body;
      return rest;
    };
    const queries = ['?hours=4', '?hours=200&days=30', '?days=3&top=2', ''];
    const raw = await Promise.all(queries.map(figures));
    const state = async () => (await pool.query(`SELECT rolled_until FROM mail_rollup_state`)).rows[0].rolled_until as Date | null;
    expect(await state()).toBeNull();

    // Two runs at once (two scheduler nodes), small chunks so a day spans several passes, then a third run.
    const [a, b] = await Promise.all([rollUpMailLog(pool, { graceMs: 0, chunkHours: 5 }), rollUpMailLog(pool, { graceMs: 0, chunkHours: 5 })]);
    const currentHour = Math.floor(Date.now() / hour) * hour;
    // From the hour of the oldest row (5 days ago) to the current one, each hour once between the two runs.
    expect(a.hours + b.hours).toBe((currentHour - (Math.floor(base / hour) * hour - 24 * 5 * hour)) / hour);
    expect((await rollUpMailLog(pool, { graceMs: 0 })).hours).toBe(0);
    expect((await state())?.getTime()).toBe(currentHour);
    const rolled = await pool.query(`SELECT sum(inbound)::int AS inbound, sum(outbound)::int AS outbound, sum(refused)::int AS refused FROM mail_hourly`);
    // Everything but the current hour's two accepted sessions is in the rollup now.
    expect(rolled.rows[0]).toEqual({ inbound: 2, outbound: 1, refused: 3 });
    expect((await pool.query(`SELECT sum(count)::int AS n FROM mail_sender_daily`)).rows[0].n).toBe(2);

    expect(await Promise.all(queries.map(figures))).toEqual(raw);

    // A row logged in the current hour is read from the raw log, on top of the rollup.
    await writeMailLog(pool, { level: 'info', kind: 'session', node: 'mx1', result: 'rejected', mailFrom: 'late@spam.test', recipients: ['lee@acme.test'], reason: '554 5.7.1 blocked by DNSBL', at: new Date(base) });
    const after = await dashboard(op, '?hours=4');
    expect(after.body.mailPerHour.map((h: any) => h.refused)).toEqual([0, 2, 1, 1]);
    expect(after.body.refusalsByReason).toEqual([
      { reason: '550 5.1.1 unknown recipient', count: 2 },
      { reason: '554 5.7.1 blocked by DNSBL', count: 2 },
    ]);
    expect(after.headers.get('server-timing')).toMatch(/mailPerHour;dur=[\d.]+/);
  });

  it('is described in the OpenAPI document', () => {
    const op = api.openApi.paths['/api/stats/dashboard']?.get;
    expect(op).toBeDefined();
    expect(JSON.stringify(op?.responses?.['200'])).toContain('Dashboard');
  });
});
