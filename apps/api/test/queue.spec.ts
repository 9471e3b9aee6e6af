/** The operators' mail queue (GET/retry/delete) and transport routes, against rows written the way the mail nodes write them. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant, SeededTenant } from './tenancy-fixture';

describe('mail queue', () => {
  let api: TestApi;
  let op: string;
  let acme: SeededTenant;
  let acmeAdmin: string;
  let acmeUser: string;
  let beaconAdmin: string;
  const ids: Record<string, string> = {};
  let messageId: string;

  const sql = (text: string, params: unknown[] = []) => api.db.dataSource.query(text, params);

  /** A spooled message from `from` (authenticated as `authMailboxId`) to `recipients`, as SMTP commits it. */
  async function spool(from: string, authMailboxId: string | null, recipients: Array<[string, 'local' | 'remote']>, ageMinutes: number): Promise<string> {
    const hash = randomBytes(32).toString('hex');
    await sql(`INSERT INTO blob (hash, size) VALUES ($1, 1234)`, [hash]);
    const [m] = await sql(
      `INSERT INTO spool_message (blob_hash, size, mail_from, source, auth_mailbox_id, received_at)
       VALUES ($1, 1234, $2, $3, $4, now() - make_interval(mins => $5)) RETURNING id`,
      [hash, from, authMailboxId ? 'submission' : 'smtp', authMailboxId, ageMinutes],
    );
    for (const [address, kind] of recipients) {
      const [r] = await sql(`INSERT INTO spool_recipient (message_id, address, kind, domain) VALUES ($1, $2, $3, $4) RETURNING id::text`, [m.id, address, kind, address.split('@')[1]]);
      ids[address] = r.id;
    }
    return m.id;
  }

  beforeAll(async () => {
    api = await startTestApi();
    op = await api.operatorToken();
    acme = await seedTenant(api.db.dataSource, 'Acme', ['acme.test'], [{ local: 'boss', role: 'tenant_admin' }, { local: 'pat', role: 'user' }], TEST_PASSWORD);
    await seedTenant(api.db.dataSource, 'Beacon', ['beacon.test'], [{ local: 'boss', role: 'tenant_admin' }], TEST_PASSWORD);
    acmeAdmin = await api.login('boss@acme.test', TEST_PASSWORD);
    acmeUser = await api.login('pat@acme.test', TEST_PASSWORD);
    beaconAdmin = await api.login('boss@beacon.test', TEST_PASSWORD);
    const pat = acme.mailboxes.find((m) => m.address === 'pat@acme.test')!;

    messageId = await spool('pat@acme.test', pat.id, [['lee@remote.test', 'remote'], ['kim@slow.test', 'remote']], 30);
    await sql(
      `UPDATE spool_recipient SET status = 'deferred', attempts = 3, last_attempt_at = now(), next_attempt_at = now() + interval '8 minutes',
              last_error = '450 4.2.1 Mailbox busy, try later', last_reply = '450 4.2.1 Mailbox busy, try later'
        WHERE id = $1`,
      [ids['kim@slow.test']],
    );
    await spool('', null, [['boss@acme.test', 'local']], 5);
    await spool('someone@partner.test', null, [['done@remote.test', 'remote']], 60);
    await sql(`UPDATE spool_recipient SET status = 'delivered', delivered_at = now() WHERE id = $1`, [ids['done@remote.test']]);
  });
  afterAll(() => api?.close());

  const call = (method: string, path: string, token: string, body?: unknown) => api.request(method, path, { token, body });

  it('lists the recipients that wait, oldest first, with sender, size, attempts, next attempt and why', async () => {
    const r = await call('GET', '/api/queue', op);
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(3);
    expect(r.body.items.map((e: any) => e.recipient)).toEqual(['lee@remote.test', 'kim@slow.test', 'boss@acme.test']);
    const kim = r.body.items[1];
    expect(kim).toMatchObject({
      id: ids['kim@slow.test'], messageId, sender: 'pat@acme.test', kind: 'remote', domain: 'slow.test', status: 'deferred', source: 'submission',
      size: 1234, attempts: 3, lastError: '450 4.2.1 Mailbox busy, try later',
    });
    expect(Date.parse(kim.nextAttemptAt) - Date.now()).toBeGreaterThan(7 * 60_000);
    expect(r.body.items[2]).toMatchObject({ sender: '', kind: 'local', status: 'queued', attempts: 0, lastError: null });
  });

  it('filters by status, destination domain and text', async () => {
    const ids_ = async (q: string) => (await call('GET', `/api/queue${q}`, op)).body.items.map((e: any) => e.recipient);
    expect(await ids_('?status=deferred')).toEqual(['kim@slow.test']);
    expect(await ids_('?status=queued')).toEqual(['lee@remote.test', 'boss@acme.test']);
    expect(await ids_('?domain=SLOW.test')).toEqual(['kim@slow.test']);
    expect(await ids_('?q=PAT@acme')).toEqual(['lee@remote.test', 'kim@slow.test']);
    expect(await ids_('?q=boss')).toEqual(['boss@acme.test']);
    expect(await ids_('?q=100%25')).toEqual([]);
    const page = await call('GET', '/api/queue?offset=1&limit=1', op);
    expect(page.body).toMatchObject({ total: 3, offset: 1, limit: 1 });
    expect(page.body.items.map((e: any) => e.recipient)).toEqual(['kim@slow.test']);
    const bad = await call('GET', '/api/queue?status=delivered', op);
    expect(bad.status).toBe(400);
  });

  it('keeps the queue from everyone but operators; a tenant admin may look at an entry of their own tenant', async () => {
    for (const token of [acmeAdmin, acmeUser, beaconAdmin]) expect((await call('GET', '/api/queue', token)).status).toBe(403);
    expect((await call('GET', `/api/queue/${ids['kim@slow.test']}`, acmeAdmin)).body).toMatchObject({ recipient: 'kim@slow.test', status: 'deferred' });
    // another tenant's entry, a user, a missing entry, a malformed id: all the same 404
    for (const [token, id] of [[beaconAdmin, ids['kim@slow.test']], [acmeUser, ids['kim@slow.test']], [op, '999999'], [op, 'abc']] as const) {
      const r = await call('GET', `/api/queue/${id}`, token);
      expect(r.status).toBe(404);
      expect(r.body.message).toBe('queue entry not found');
    }
    expect((await call('POST', `/api/queue/${ids['kim@slow.test']}/retry`, beaconAdmin)).status).toBe(404);
    expect((await call('POST', `/api/queue/${ids['kim@slow.test']}/retry`, acmeAdmin)).status).toBe(403);
    expect((await call('DELETE', `/api/queue/${ids['kim@slow.test']}`, acmeAdmin)).status).toBe(403);
    const [row] = await sql(`SELECT status, next_attempt_at > now() + interval '7 minutes' AS later FROM spool_recipient WHERE id = $1`, [ids['kim@slow.test']]);
    expect(row).toEqual({ status: 'deferred', later: true });
  });

  it('retries now: next_attempt_at becomes now, so the sweepers pick it up, and the retry is audited', async () => {
    const r = await call('POST', `/api/queue/${ids['kim@slow.test']}/retry`, op);
    expect(r.status).toBe(200);
    expect(Math.abs(Date.parse(r.body.nextAttemptAt) - Date.now())).toBeLessThan(5000);
    const [row] = await sql(`SELECT status, attempts, next_attempt_at <= now() AS due FROM spool_recipient WHERE id = $1`, [ids['kim@slow.test']]);
    expect(row).toEqual({ status: 'deferred', attempts: 3, due: true });
    const [audit] = await sql(`SELECT action, object_id, tenant_id FROM audit_event WHERE action = 'queue.retry'`);
    expect(audit).toEqual({ action: 'queue.retry', object_id: ids['kim@slow.test'], tenant_id: acme.id });
    // a final recipient cannot be retried
    const done = await call('POST', `/api/queue/${ids['done@remote.test']}/retry`, op);
    expect(done.status).toBe(409);
    expect(done.body.message).toContain('already delivered');
  });

  it('deletes a waiting recipient without a bounce, and closes the message once nothing of it waits', async () => {
    expect((await call('DELETE', `/api/queue/${ids['lee@remote.test']}`, op)).status).toBe(204);
    let [m] = await sql(`SELECT done_at FROM spool_message WHERE id = $1`, [messageId]);
    expect(m.done_at).toBeNull();
    expect((await call('DELETE', `/api/queue/${ids['kim@slow.test']}`, op)).status).toBe(204);
    [m] = await sql(`SELECT done_at FROM spool_message WHERE id = $1`, [messageId]);
    expect(m.done_at).not.toBeNull();
    const rows = await sql(`SELECT address, status FROM spool_recipient WHERE message_id = $1 ORDER BY id`, [messageId]);
    expect(rows).toEqual([{ address: 'lee@remote.test', status: 'deleted' }, { address: 'kim@slow.test', status: 'deleted' }]);
    // no bounce: nothing new was spooled
    const [{ n }] = await sql(`SELECT count(*)::int AS n FROM spool_message WHERE source = 'system'`);
    expect(n).toBe(0);
    expect((await call('DELETE', `/api/queue/${ids['lee@remote.test']}`, op)).status).toBe(409);
    expect((await call('GET', '/api/queue', op)).body.items.map((e: any) => e.recipient)).toEqual(['boss@acme.test']);
    const audits = await sql(`SELECT action, object_id FROM audit_event WHERE action = 'queue.delete' ORDER BY at`);
    expect(audits.map((a: any) => a.object_id)).toEqual([ids['lee@remote.test'], ids['kim@slow.test']]);
  });

  it('manages transport routes (operators only), audited', async () => {
    const created = await call('POST', '/api/transport-routes', op, { domain: 'Partner.TEST', host: 'Relay.Partner.test.', port: 2525, requireTls: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ domain: 'partner.test', host: 'relay.partner.test', port: 2525, requireTls: true });
    const ip = await call('POST', '/api/transport-routes', op, { domain: 'ip.test', host: '[192.0.2.25]' });
    expect(ip.body).toMatchObject({ host: '192.0.2.25', port: 25, requireTls: false });
    const dup = await call('POST', '/api/transport-routes', op, { domain: 'partner.test', host: 'other.test' });
    expect(dup.status).toBe(409);
    expect(dup.body.field).toBe('domain');
    const badHost = await call('POST', '/api/transport-routes', op, { domain: 'x.test', host: 'not a host' });
    expect(badHost.status).toBe(400);
    expect(badHost.body.message).toMatch(/^host: /);
    const badDomain = await call('POST', '/api/transport-routes', op, { domain: 'nodot', host: 'a.test' });
    expect(badDomain.status).toBe(400);
    expect(badDomain.body.field).toBe('domain');

    expect((await call('GET', '/api/transport-routes', op)).body.items.map((r: any) => r.domain)).toEqual(['ip.test', 'partner.test']);
    expect((await call('GET', '/api/transport-routes', acmeAdmin)).status).toBe(403);
    expect((await call('POST', '/api/transport-routes', acmeAdmin, { domain: 'y.test', host: 'a.test' })).status).toBe(403);
    expect((await call('DELETE', `/api/transport-routes/${created.body.id}`, acmeAdmin)).status).toBe(404);

    expect((await call('DELETE', `/api/transport-routes/${created.body.id}`, op)).status).toBe(204);
    expect((await call('DELETE', `/api/transport-routes/${created.body.id}`, op)).status).toBe(404);
    expect(await sql(`SELECT domain FROM transport_route ORDER BY domain`)).toEqual([{ domain: 'ip.test' }]);
    const audits = await sql(`SELECT action FROM audit_event WHERE object_type = 'transport_route' ORDER BY at`);
    expect(audits.map((a: any) => a.action)).toEqual(['transport_route.create', 'transport_route.create', 'transport_route.delete']);
  });
});
