/** Per-mailbox forwarding and auto-reply: the owner and the mailbox's admins, with the send-outside rules. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant, SeededTenant } from './tenancy-fixture';

describe('mailbox delivery settings', () => {
  let api: TestApi;
  let op: string;
  let acme: SeededTenant;
  const token: Record<string, string> = {};

  beforeAll(async () => {
    api = await startTestApi();
    op = await api.operatorToken();
    acme = await seedTenant(
      api.db.dataSource,
      'Acme',
      ['acme.test', 'sales.acme.test'],
      [
        { local: 'lee' },
        { local: 'kim' },
        { local: 'dom', role: 'domain_admin' },
        { local: 'boss', role: 'tenant_admin' },
        { local: 'sam', domain: 'sales.acme.test', role: 'domain_admin' },
      ],
      TEST_PASSWORD,
    );
    await seedTenant(api.db.dataSource, 'Beacon', ['beacon.test'], [{ local: 'eve' }], TEST_PASSWORD);
    for (const a of ['lee@acme.test', 'kim@acme.test', 'dom@acme.test', 'boss@acme.test', 'sam@sales.acme.test', 'eve@beacon.test']) {
      token[a] = await api.login(a, TEST_PASSWORD);
    }
  });
  afterAll(() => api?.close());

  const row = async (address: string) =>
    (await api.db.dataSource.query(`SELECT d.* FROM mailbox_delivery d JOIN mailbox m ON m.id = d.mailbox_id WHERE m.address = $1`, [address]))[0];
  const put = (who: string, mailbox: string, body: unknown) => api.request('PUT', `/api/mailboxes/${encodeURIComponent(mailbox)}/delivery`, { token: token[who] ?? who, body });
  const get = (who: string, mailbox: string) => api.request('GET', `/api/mailboxes/${encodeURIComponent(mailbox)}/delivery`, { token: token[who] ?? who });

  it('shows the defaults before anything is set', async () => {
    const r = await get('lee@acme.test', 'lee@acme.test');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      mailbox: 'lee@acme.test',
      forwardTo: [],
      keepCopy: true,
      autoReply: { enabled: false, subject: '', body: '', startsAt: null, endsAt: null },
      updatedAt: null,
    });
  });

  it('lets the owner set forwarding and an auto-reply, stored and audited', async () => {
    const startsAt = '2026-12-20T00:00:00.000Z';
    const endsAt = '2027-01-04T00:00:00.000Z';
    const body = {
      forwardTo: ['Kim@ACME.test', 'kim@acme.test', 'partner@remote.test'],
      keepCopy: false,
      autoReply: { enabled: true, subject: 'Away', body: 'Back on 4 January.', startsAt, endsAt },
    };
    const r = await put('lee@acme.test', 'lee@acme.test', body);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ forwardTo: ['kim@acme.test', 'partner@remote.test'], keepCopy: false, autoReply: body.autoReply });
    const stored = await row('lee@acme.test');
    expect(stored).toMatchObject({
      forward_to: ['kim@acme.test', 'partner@remote.test'], forward_keep_copy: false, auto_reply_enabled: true, auto_reply_subject: 'Away',
      auto_reply_body: 'Back on 4 January.',
    });
    expect(new Date(stored.auto_reply_starts_at).toISOString()).toBe(startsAt);
    expect(new Date(stored.auto_reply_ends_at).toISOString()).toBe(endsAt);
    expect((await get('lee@acme.test', 'lee@acme.test')).body).toEqual(r.body);
    const [event] = await api.db.dataSource.query(`SELECT actor_name, tenant_id, before, after FROM audit_event WHERE action = 'mailbox.delivery.update'`);
    expect(event).toMatchObject({ actor_name: 'lee@acme.test', tenant_id: acme.id });
    expect(event.before.forwardTo).toEqual([]);
    expect(event.after.forwardTo).toEqual(['kim@acme.test', 'partner@remote.test']);
  });

  it('replaces the whole settings: fields left out go back to their defaults, quota_warned_at is kept', async () => {
    await api.db.dataSource.query(`UPDATE mailbox_delivery SET quota_warned_at = now() WHERE mailbox_id = (SELECT id FROM mailbox WHERE address = 'lee@acme.test')`);
    const r = await put('lee@acme.test', 'lee@acme.test', { forwardTo: ['kim@acme.test'] });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ forwardTo: ['kim@acme.test'], keepCopy: true, autoReply: { enabled: false, subject: '', body: '' } });
    expect((await row('lee@acme.test')).quota_warned_at).not.toBeNull();
  });

  it('forgets who already got an auto-reply when a new one is turned on', async () => {
    const [lee] = await api.db.dataSource.query(`SELECT id FROM mailbox WHERE address = 'lee@acme.test'`);
    await api.db.dataSource.query(`INSERT INTO auto_reply_sent (mailbox_id, sender) VALUES ($1, 'pat@partner.test')`, [lee.id]);
    await put('lee@acme.test', 'lee@acme.test', { autoReply: { enabled: true, body: 'On leave.' } });
    const [{ n }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM auto_reply_sent WHERE mailbox_id = $1`, [lee.id]);
    expect(n).toBe(0);
    // The same reply again (e.g. a changed forwarding) does not answer everyone twice.
    await api.db.dataSource.query(`INSERT INTO auto_reply_sent (mailbox_id, sender) VALUES ($1, 'pat@partner.test')`, [lee.id]);
    await put('lee@acme.test', 'lee@acme.test', { forwardTo: ['kim@acme.test'], autoReply: { enabled: true, body: 'On leave.' } });
    const [{ m }] = await api.db.dataSource.query(`SELECT count(*)::int AS m FROM auto_reply_sent WHERE mailbox_id = $1`, [lee.id]);
    expect(m).toBe(1);
  });

  it("lets the mailbox's admins and operators in, not other users", async () => {
    expect((await get('dom@acme.test', 'lee@acme.test')).status).toBe(200);
    expect((await get('boss@acme.test', 'lee@acme.test')).status).toBe(200);
    expect((await get(op, 'lee@acme.test')).status).toBe(200);
    const byAdmin = await put('dom@acme.test', 'lee@acme.test', { forwardTo: ['kim@acme.test'], keepCopy: true });
    expect(byAdmin.status).toBe(200);

    const before = await row('lee@acme.test');
    // Another user of the same domain, a domain admin of another domain, another tenant: all as if the mailbox did not exist.
    for (const who of ['kim@acme.test', 'sam@sales.acme.test', 'eve@beacon.test']) {
      const r = await put(who, 'lee@acme.test', { forwardTo: ['eve@beacon.test'] });
      expect(r.status, who).toBe(404);
      expect((await get(who, 'lee@acme.test')).status, who).toBe(404);
    }
    expect(await row('lee@acme.test')).toEqual(before);
  });

  it('refuses remote forwarding for a mailbox that may not send outside, or in a local-only domain', async () => {
    await api.db.dataSource.query(`UPDATE mailbox SET may_send_outside = false WHERE address = 'kim@acme.test'`);
    const r = await put('kim@acme.test', 'kim@acme.test', { forwardTo: ['lee@acme.test', 'me@gmail.test'] });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('forwardTo.1');
    expect(r.body.message).toMatch(/may not send outside/);
    // Local targets are always fine, also in another tenant's domain.
    expect((await put('kim@acme.test', 'kim@acme.test', { forwardTo: ['lee@acme.test', 'eve@beacon.test'] })).status).toBe(200);

    await api.db.dataSource.query(`UPDATE mailbox SET may_send_outside = true WHERE address = 'kim@acme.test'`);
    await api.db.dataSource.query(`UPDATE domain SET local_only = true WHERE name = 'acme.test'`);
    const localOnly = await put('kim@acme.test', 'kim@acme.test', { forwardTo: ['me@gmail.test'] });
    expect(localOnly.status).toBe(400);
    expect(localOnly.body.field).toBe('forwardTo.0');
    expect(localOnly.body.message).toMatch(/local-only/);
    await api.db.dataSource.query(`UPDATE domain SET local_only = false WHERE name = 'acme.test'`);
    expect((await put('kim@acme.test', 'kim@acme.test', { forwardTo: ['me@gmail.test'] })).status).toBe(200);
    expect((await row('kim@acme.test')).forward_to).toEqual(['me@gmail.test']);
  });

  it('refuses invalid settings naming the field, changing nothing', async () => {
    const before = await row('kim@acme.test');
    const cases: [unknown, string][] = [
      [{ forwardTo: ['not an address'] }, 'forwardTo.0'],
      [{ forwardTo: ['kim@acme.test'] }, 'forwardTo.0'],
      [{ forwardTo: [], keepCopy: false }, 'keepCopy'],
      [{ forwardTo: Array.from({ length: 11 }, (_, i) => `x${i}@acme.test`) }, 'forwardTo'],
      [{ autoReply: { enabled: true, body: '  ' } }, 'autoReply.body'],
      [{ autoReply: { enabled: true, subject: 'a\r\nBcc: x@y.test', body: 'x' } }, 'autoReply.subject'],
      [{ autoReply: { enabled: true, body: 'x', startsAt: '2027-01-02T00:00:00Z', endsAt: '2027-01-01T00:00:00Z' } }, 'autoReply.endsAt'],
      [{ autoReply: { enabled: true, body: 'x', startsAt: 'tomorrow' } }, 'autoReply.startsAt'],
      [{ forwardto: ['a@acme.test'] }, '(body)'],
    ];
    for (const [body, field] of cases) {
      const r = await put('kim@acme.test', 'kim@acme.test', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.field, JSON.stringify(body)).toBe(field);
    }
    expect(await row('kim@acme.test')).toEqual(before);
  });
});
