/** The mail log: written by the nodes' writer, read through GET /api/logs/mail with filters and tenant scoping, purged by age. */
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeMailLogs, writeMailLog } from '@dizi/delivery/adapters/postgres/mail-log';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant, SeededTenant } from './tenancy-fixture';

describe('mail log', () => {
  let api: TestApi;
  let pool: Pool;
  let op: string;
  let acme: SeededTenant;
  let beacon: SeededTenant;
  let acmeAdmin: string;
  let acmeDomainAdmin: string;
  let westDomainAdmin: string;
  let acmeUser: string;
  let beaconAdmin: string;
  const messageId = '6f1c1f3e-2f6a-4a36-9a52-0a4a1b7e9d10';
  const hour = 3_600_000;
  const now = Date.now();

  beforeAll(async () => {
    api = await startTestApi();
    pool = new Pool({ connectionString: api.db.url, max: 2 });
    pool.on('error', () => undefined); // idle clients see the teardown's DROP DATABASE
    op = await api.operatorToken();
    acme = await seedTenant(
      api.db.dataSource,
      'Acme',
      ['acme.test', 'west.acme.test'],
      [
        { local: 'boss', role: 'tenant_admin' },
        { local: 'dom', role: 'domain_admin' },
        { local: 'wdom', domain: 'west.acme.test', role: 'domain_admin' },
        { local: 'lee' },
      ],
      TEST_PASSWORD,
    );
    beacon = await seedTenant(api.db.dataSource, 'Beacon', ['beacon.test'], [{ local: 'boss', role: 'tenant_admin' }], TEST_PASSWORD);
    acmeAdmin = await api.login('boss@acme.test', TEST_PASSWORD);
    acmeDomainAdmin = await api.login('dom@acme.test', TEST_PASSWORD);
    westDomainAdmin = await api.login('wdom@west.acme.test', TEST_PASSWORD);
    acmeUser = await api.login('lee@acme.test', TEST_PASSWORD);
    beaconAdmin = await api.login('boss@beacon.test', TEST_PASSWORD);

    await writeMailLog(pool, [
      {
        level: 'info', kind: 'session', node: 'mx1', sessionId: 'S1', clientIp: '192.0.2.10', helo: 'out.partner.test',
        mailFrom: 'Pat@Partner.test', recipients: ['lee@acme.test'], size: 2048, result: 'accepted', reason: '250 queued', tenantId: acme.id,
        messageId, at: new Date(now - 2 * hour),
      },
      {
        level: 'info', kind: 'delivery', node: 'mx1', sessionId: 'S1', messageId, mailFrom: 'pat@partner.test', recipients: ['lee@acme.test'],
        result: 'delivered', reason: 'INBOX', tenantId: acme.id, at: new Date(now - hour),
      },
      {
        level: 'warn', kind: 'session', node: 'mx2', sessionId: 'S2', clientIp: '198.51.100.7', helo: 'spammer',
        mailFrom: 'bulk@spam.test', recipients: ['nobody@acme.test'], result: 'rejected', reason: '550 5.1.1 unknown recipient', tenantId: null,
        at: new Date(now - 30 * 60_000),
      },
      {
        level: 'error', kind: 'outbound', node: 'mx2', sessionId: null, mailFrom: 'ceo@beacon.test', recipients: ['x@remote.test'],
        result: 'deferred', reason: '421 4.7.0 try again later', tenantId: beacon.id, at: new Date(now - 10 * 60_000),
      },
    ]);
    // No time given: the database's now(); NUL from a hostile client is dropped, not an error.
    await writeMailLog(pool, { level: 'info', kind: 'session', node: 'mx1', sessionId: 'S3', helo: 'evil\u0000helo', result: 'closed', tenantId: null });
  });
  afterAll(async () => {
    await pool?.end();
    await api?.close();
  });

  const list = (token: string, query = '') => api.request('GET', `/api/logs/mail${query}`, { token });

  it('fills the search column with sender, recipients and reason in lower case', async () => {
    const rows = await api.db.dataSource.query(`SELECT session_id, search, helo, at FROM mail_log ORDER BY id`);
    expect(rows[0].search).toBe('pat@partner.test lee@acme.test 250 queued');
    expect(rows[4].helo).toBe('evilhelo');
    expect(Math.abs(new Date(rows[4].at).getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('lists everything, newest first, for operators', async () => {
    const r = await list(op);
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(5);
    expect(r.body.totalIsLowerBound).toBe(false);
    expect(r.body.items.map((i: any) => i.sessionId)).toEqual(['S3', null, 'S2', 'S1', 'S1']);
    expect(r.body.items[4]).toMatchObject({
      level: 'info', kind: 'session', node: 'mx1', clientIp: '192.0.2.10', helo: 'out.partner.test', mailFrom: 'Pat@Partner.test',
      recipients: ['lee@acme.test'], size: 2048, result: 'accepted', reason: '250 queued', tenantId: acme.id, messageId,
    });
  });

  it('filters by time range, level, kind, session, message and text', async () => {
    const ids = async (query: string) => (await list(op, query)).body.items.map((i: any) => `${i.sessionId}/${i.result}`);
    const from = new Date(now - 90 * 60_000).toISOString();
    const to = new Date(now - 20 * 60_000).toISOString();
    expect(await ids(`?${new URLSearchParams({ from, to })}`)).toEqual(['S2/rejected', 'S1/delivered']);
    expect(await ids('?level=warn')).toEqual(['null/deferred', 'S2/rejected']);
    expect(await ids('?level=error')).toEqual(['null/deferred']);
    expect(await ids('?kind=delivery')).toEqual(['S1/delivered']);
    expect(await ids('?sessionId=S1')).toEqual(['S1/delivered', 'S1/accepted']);
    expect(await ids(`?messageId=${messageId}`)).toEqual(['S1/delivered', 'S1/accepted']);
    expect(await ids('?q=PARTNER')).toEqual(['S1/delivered', 'S1/accepted']);
    expect(await ids('?q=5.1.1')).toEqual(['S2/rejected']);
    expect(await ids(`?q=${encodeURIComponent('100%')}`)).toEqual([]);
    expect(await ids('?q=remote.test&kind=outbound')).toEqual(['null/deferred']);
    const page = await list(op, '?limit=2&offset=1');
    expect(page.body.items.map((i: any) => i.sessionId)).toEqual([null, 'S2']);
    expect(page.body.total).toBe(5);
  });

  it('refuses bad filters naming the field', async () => {
    const r = await list(op, '?level=debug');
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('level');
    const t = await list(op, `?from=${new Date(now).toISOString()}&to=${new Date(now - hour).toISOString()}`);
    expect(t.status).toBe(400);
    expect(t.body.field).toBe('from');
  });

  it("shows tenant admins only their tenant's records", async () => {
    const acmeRows = (await list(acmeAdmin)).body;
    expect(acmeRows.total).toBe(2);
    expect(acmeRows.items.every((i: any) => i.tenantId === acme.id)).toBe(true);
    const beaconRows = (await list(beaconAdmin, '?q=partner')).body;
    expect(beaconRows.items).toEqual([]);
    expect((await list(beaconAdmin)).body.items.map((i: any) => i.result)).toEqual(['deferred']);
    expect((await list(acmeAdmin, `?tenantId=${acme.id}`)).body.total).toBe(2);
    // Another tenant's id answers like one that does not exist.
    const other = await list(acmeAdmin, `?tenantId=${beacon.id}`);
    expect(other.status).toBe(404);
    expect(other.body).toEqual((await list(acmeAdmin, '?tenantId=00000000-0000-4000-8000-000000000000')).body);
    // Operators filter by tenant.
    expect((await list(op, `?tenantId=${beacon.id}`)).body.items.map((i: any) => i.result)).toEqual(['deferred']);
  });

  it("shows tenant admins their deliveries, bounces and outbound attempts, written without a tenant", async () => {
    const at = new Date(now - 5 * 60_000);
    await writeMailLog(pool, [
      { level: 'info', kind: 'delivery', node: 'mx1', messageId, mailFrom: 'pat@partner.test', recipients: ['boss@acme.test'], result: 'delivered', reason: 'INBOX', at },
      { level: 'warn', kind: 'bounce', node: 'mx1', messageId, mailFrom: 'pat@partner.test', recipients: ['gone@acme.test'], result: 'bounced 5.1.1', reason: 'no such user', at },
      { level: 'warn', kind: 'outbound', node: 'mx2', messageId, mailFrom: 'boss@acme.test', recipients: ['far@remote.test'], result: 'deferred', reason: '451 later', at },
    ]);
    const acmeRows = (await list(acmeAdmin)).body.items.filter((i: any) => i.at === at.toISOString());
    expect(acmeRows.map((i: any) => i.kind).sort()).toEqual(['bounce', 'delivery', 'outbound']);
    expect(acmeRows.every((i: any) => i.tenantId === acme.id)).toBe(true);
    // Not Beacon's.
    expect((await list(beaconAdmin, '?q=far@remote.test')).body.items).toEqual([]);
    await pool.query(`DELETE FROM mail_log WHERE at = $1`, [at]);
  });

  it("shows domain admins exactly their domain's deliveries, bounces and outbound attempts; filters never widen it", async () => {
    const at = new Date(now - 3 * 60_000);
    await writeMailLog(pool, [
      { level: 'info', kind: 'delivery', node: 'mx1', messageId, mailFrom: 'pat@partner.test', recipients: ['Lee@ACME.test'], result: 'delivered', reason: 'INBOX', at },
      { level: 'warn', kind: 'outbound', node: 'mx2', messageId, mailFrom: 'boss@acme.test', recipients: ['far@remote.test'], result: 'deferred', reason: '451 later', at },
      { level: 'warn', kind: 'bounce', node: 'mx1', messageId, mailFrom: 'pat@partner.test', recipients: ['gone@west.acme.test'], result: 'bounced 5.1.1', reason: 'no such user', at },
      { level: 'info', kind: 'delivery', node: 'mx1', messageId, mailFrom: 'lee@acme.test', recipients: ['ceo@beacon.test'], result: 'delivered', reason: 'INBOX', at },
      // A session of Acme's naming an acme.test recipient: sessions may span domains, so they stay with tenant admins.
      { level: 'info', kind: 'session', node: 'mx1', sessionId: 'S9', clientIp: '192.0.2.99', mailFrom: 'pat@partner.test', recipients: ['lee@acme.test', 'gone@west.acme.test'], result: 'accepted', tenantId: acme.id, at },
    ]);
    const mine = async (token: string, query = '') => {
      const r = await list(token, query);
      expect(r.status).toBe(200);
      return r.body.items.filter((i: any) => i.at === at.toISOString()).map((i: any) => `${i.kind}:${i.recipients[0].toLowerCase()}`).sort();
    };
    expect(await mine(acmeDomainAdmin)).toEqual(['delivery:lee@acme.test', 'outbound:far@remote.test']);
    expect(await mine(westDomainAdmin)).toEqual(['bounce:gone@west.acme.test']);
    expect(await mine(acmeAdmin)).toEqual(['bounce:gone@west.acme.test', 'delivery:lee@acme.test', 'outbound:far@remote.test', 'session:lee@acme.test']);
    expect(await mine(beaconAdmin)).toEqual(['delivery:ceo@beacon.test']);
    // Filters only narrow: the tenant's own id, a search for the other domain, sessions, the other domain's words.
    expect(await mine(acmeDomainAdmin, `?tenantId=${acme.id}`)).toEqual(['delivery:lee@acme.test', 'outbound:far@remote.test']);
    expect(await mine(acmeDomainAdmin, '?q=west.acme.test')).toEqual([]);
    expect(await mine(acmeDomainAdmin, '?q=beacon')).toEqual([]);
    expect(await mine(acmeDomainAdmin, '?kind=session')).toEqual([]);
    expect(await mine(westDomainAdmin, '?kind=delivery')).toEqual([]);
    // Another tenant: 404 like a tenant that does not exist.
    const cross = await list(acmeDomainAdmin, `?tenantId=${beacon.id}`);
    expect(cross.status).toBe(404);
    // Only deliveries, bounces and outbound attempts of their own domain, ever (no other row leaks in through the count).
    const all = await list(acmeDomainAdmin, '?limit=500');
    expect(all.body.items.length).toBe(all.body.total);
    expect(all.body.items.every((i: any) => i.kind !== 'session' && i.tenantId === acme.id)).toBe(true);
    const [{ n }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM mail_log WHERE domain_id = $1`, [acme.domains[0].id]);
    expect(all.body.total).toBe(n);
    await pool.query(`DELETE FROM mail_log WHERE at = $1`, [at]);
  });

  it('refuses users and the signed-out', async () => {
    const r = await list(acmeUser);
    expect(r.status).toBe(403);
    expect(r.body.message).toMatch(/domain admins/);
    expect((await api.request('GET', '/api/logs/mail')).status).toBe(401);
  });

  it('purges records older than the retention, in batches', async () => {
    await writeMailLog(
      pool,
      Array.from({ length: 25 }, (_, i) => ({ level: 'info' as const, kind: 'delivery' as const, node: 'mx9', result: 'delivered', at: new Date(now - (40 + i) * 86_400_000) })),
    );
    await expect(purgeMailLogs(pool, 0)).rejects.toThrow(/at least 1 day/);
    expect(await purgeMailLogs(pool, 30, 10)).toBe(25);
    const [{ n }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM mail_log`);
    expect(n).toBe(5);
    expect(await purgeMailLogs(pool, 1)).toBe(0);
  });
});
