/** Queue actions: hold and release (one), retry/hold/release/delete over many, and the age and held filters. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant } from './tenancy-fixture';

describe('mail queue actions', () => {
  let api: TestApi;
  let op: string;
  let acmeAdmin: string;
  const ids: Record<string, string> = {};

  const sql = (text: string, params: unknown[] = []) => api.db.dataSource.query(text, params);
  const call = (method: string, path: string, token: string, body?: unknown) => api.request(method, path, { token, body });
  const row = async (address: string) =>
    (await sql(`SELECT status, held_at, next_attempt_at = 'infinity' AS never, next_attempt_at <= now() AS due, attempts FROM spool_recipient WHERE id = $1`, [ids[address]]))[0] as {
      status: string;
      held_at: Date | null;
      never: boolean;
      due: boolean;
      attempts: number;
    };

  /** A spooled message to `recipients`, received `ageMinutes` ago, as SMTP commits it. */
  async function spool(from: string, recipients: string[], ageMinutes: number): Promise<void> {
    const hash = randomBytes(32).toString('hex');
    await sql(`INSERT INTO blob (hash, size) VALUES ($1, 500)`, [hash]);
    const [m] = await sql(
      `INSERT INTO spool_message (blob_hash, size, mail_from, source, received_at) VALUES ($1, 500, $2, 'smtp', now() - make_interval(mins => $3)) RETURNING id`,
      [hash, from, ageMinutes],
    );
    for (const address of recipients) {
      const [r] = await sql(`INSERT INTO spool_recipient (message_id, address, kind, domain) VALUES ($1, $2, 'remote', $3) RETURNING id::text`, [m.id, address, address.split('@')[1]]);
      ids[address] = r.id;
    }
  }

  beforeAll(async () => {
    api = await startTestApi();
    op = await api.operatorToken();
    await seedTenant(api.db.dataSource, 'Acme', ['acme.test'], [{ local: 'boss', role: 'tenant_admin' }], TEST_PASSWORD);
    acmeAdmin = await api.login('boss@acme.test', TEST_PASSWORD);
    await spool('a@partner.test', ['one@far.test', 'two@far.test'], 180);
    await spool('b@partner.test', ['three@near.test'], 5);
    await spool('c@partner.test', ['done@near.test'], 5);
    await sql(`UPDATE spool_recipient SET status = 'delivered', delivered_at = now() WHERE id = $1`, [ids['done@near.test']]);
  });
  afterAll(() => api?.close());

  it('holds a recipient: nothing reschedules it until it is released, and release makes it due at once', async () => {
    const held = await call('POST', `/api/queue/${ids['one@far.test']}/hold`, op);
    expect(held.status).toBe(200);
    expect(held.body).toMatchObject({ nextAttemptAt: null });
    expect(held.body.heldAt).not.toBeNull();
    expect((await row('one@far.test')).never).toBe(true);
    // A delivery attempt that was already running fails and reschedules the row, as the outbound worker does:
    // the hold stays.
    await sql(
      `UPDATE spool_recipient SET status = 'deferred', attempts = attempts + 1, last_attempt_at = now(), next_attempt_at = now() + interval '8 minutes',
              last_error = '451 4.4.1 no answer' WHERE id = $1 AND status IN ('queued', 'deferred')`,
      [ids['one@far.test']],
    );
    expect(await row('one@far.test')).toMatchObject({ status: 'deferred', attempts: 1, never: true });
    // What the sweepers ask for: it is not due.
    const [{ due }] = await sql(`SELECT count(*)::int AS due FROM spool_recipient WHERE id = $1 AND status IN ('queued', 'deferred') AND next_attempt_at <= now()`, [ids['one@far.test']]);
    expect(due).toBe(0);
    // Held twice, or retried while held, says what to do instead.
    const again = await call('POST', `/api/queue/${ids['one@far.test']}/hold`, op);
    expect(again.status).toBe(409);
    const retry = await call('POST', `/api/queue/${ids['one@far.test']}/retry`, op);
    expect(retry.status).toBe(409);
    expect(retry.body.message).toContain('release it');

    const released = await call('POST', `/api/queue/${ids['one@far.test']}/release`, op);
    expect(released.status).toBe(200);
    expect(released.body.heldAt).toBeNull();
    const after = await row('one@far.test');
    expect(after.held_at).toBeNull();
    expect(after.never).toBe(false);
    expect(after.due).toBe(true);
    expect(released.body.nextAttemptAt).not.toBeNull();
    expect((await call('POST', `/api/queue/${ids['one@far.test']}/release`, op)).status).toBe(409);
    const audit = await call('GET', '/api/audit?action=queue.hold', op);
    expect(audit.body.items.some((e: { objectId: string }) => e.objectId === ids['one@far.test'])).toBe(true);
  });

  it('filters held entries and by age', async () => {
    await call('POST', `/api/queue/${ids['two@far.test']}/hold`, op);
    const list = async (q: string) => (await call('GET', `/api/queue${q}`, op)).body.items.map((e: { recipient: string }) => e.recipient);
    expect(await list('?held=true')).toEqual(['two@far.test']);
    expect(await list('?held=false')).toEqual(['one@far.test', 'three@near.test']);
    expect(await list('?olderThanMinutes=60')).toEqual(['one@far.test', 'two@far.test']);
    expect(await list('?olderThanMinutes=600')).toEqual([]);
    expect((await call('GET', '/api/queue?olderThanMinutes=0', op)).status).toBe(400);
  });

  it('applies one action to many entries and reports each outcome', async () => {
    const bulk = await call('POST', '/api/queue/actions', op, { action: 'hold', ids: [ids['one@far.test'], ids['two@far.test'], ids['three@near.test'], ids['done@near.test'], '999999'] });
    expect(bulk.status).toBe(200);
    expect(bulk.body.done).toBe(2);
    expect(bulk.body.results.map((r: { outcome: string }) => r.outcome)).toEqual(['done', 'conflict', 'done', 'conflict', 'not_found']);
    expect(bulk.body.results[1].message).toContain('held already');
    expect(bulk.body.results[3].message).toContain('already delivered');
    expect((await row('three@near.test')).held_at).not.toBeNull();

    const release = await call('POST', '/api/queue/actions', op, { action: 'release', ids: [ids['one@far.test'], ids['two@far.test'], ids['three@near.test']] });
    expect(release.body.done).toBe(3);
    const del = await call('POST', '/api/queue/actions', op, { action: 'delete', ids: [ids['one@far.test'], ids['two@far.test']] });
    expect(del.body.done).toBe(2);
    expect((await row('one@far.test')).status).toBe('deleted');
    expect((await row('two@far.test')).status).toBe('deleted');
    // The message had no other recipient waiting: it is finished.
    const [{ done_at }] = await sql(`SELECT m.done_at FROM spool_message m JOIN spool_recipient r ON r.message_id = m.id WHERE r.id = $1`, [ids['one@far.test']]);
    expect(done_at).not.toBeNull();
    const retry = await call('POST', '/api/queue/actions', op, { action: 'retry', ids: [ids['three@near.test']] });
    expect(retry.body.results).toEqual([{ id: ids['three@near.test'], outcome: 'done', message: null }]);
  });

  it('a quarantined recipient released or deleted from the queue closes its quarantine entry too', async () => {
    await spool('spam@partner.test', ['q-release@near.test', 'q-delete@near.test'], 5);
    for (const address of ['q-release@near.test', 'q-delete@near.test']) {
      // As the content filter spools a message above the quarantine score: recipient held, one quarantine row.
      await sql(`UPDATE spool_recipient SET held_at = now() WHERE id = $1`, [ids[address]]);
      await sql(`INSERT INTO quarantine (recipient_id, message_id, address, reason, detail, spam_score) SELECT id, message_id, address, 'spam', 'score 10', 10 FROM spool_recipient WHERE id = $1`, [ids[address]]);
    }
    const listed = async () => (await call('GET', '/api/quarantine', op)).body.items.map((e: { recipient: string }) => e.recipient).sort();
    expect(await listed()).toEqual(['q-delete@near.test', 'q-release@near.test']);
    const entry = async (address: string) =>
      (await sql(`SELECT released_at IS NOT NULL AS released, deleted_at IS NOT NULL AS deleted FROM quarantine WHERE recipient_id = $1`, [ids[address]]))[0];

    expect((await call('POST', `/api/queue/${ids['q-release@near.test']}/release`, op)).status).toBe(200);
    expect(await entry('q-release@near.test')).toEqual({ released: true, deleted: false });
    expect((await row('q-release@near.test')).due).toBe(true);
    const del = await call('POST', '/api/queue/actions', op, { action: 'delete', ids: [ids['q-delete@near.test']] });
    expect(del.body.done).toBe(1);
    expect(await entry('q-delete@near.test')).toEqual({ released: false, deleted: true });
    expect(await listed()).toEqual([]);
    // Closed means closed: the quarantine API no longer offers either entry for release.
    expect((await call('POST', `/api/quarantine/${ids['q-release@near.test']}/release`, op)).status).toBe(404);
    const audit = await call('GET', '/api/audit?action=queue.release', op);
    const mine = audit.body.items.find((e: { objectId: string }) => e.objectId === ids['q-release@near.test']);
    expect(mine.after).toMatchObject({ quarantineReleased: true });
  });

  it('refuses bad requests naming the field, and everyone but operators', async () => {
    for (const body of [{ action: 'hold', ids: [] }, { action: 'bounce', ids: ['1'] }, { action: 'hold', ids: ['x'] }, { action: 'hold', ids: Array(501).fill('1') }, { action: 'hold', ids: ['1'], extra: 1 }]) {
      expect((await call('POST', '/api/queue/actions', op, body)).status, JSON.stringify(body).slice(0, 60)).toBe(400);
    }
    expect((await call('POST', '/api/queue/actions', acmeAdmin, { action: 'hold', ids: [ids['three@near.test']] })).status).toBe(403);
    expect((await call('POST', `/api/queue/${ids['three@near.test']}/hold`, acmeAdmin)).status).toBe(404);
    expect((await row('three@near.test')).held_at).toBeNull();
  });
});
