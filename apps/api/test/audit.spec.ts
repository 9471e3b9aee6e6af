/** The audit log read API: changes recorded with before and after, secrets left out, filters, and tenant scoping. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimKeyField } from '@dizi/auth/keys-at-rest';
import { SecretBox } from '@dizi/auth/secret-box';
import { MailboxEntity } from '@dizi/db/entities/mailbox.entity';
import { AuditService } from '../src/modules/audit/audit.service';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { hashOnce } from './tenancy-fixture';

const SETTINGS_KEY = randomBytes(32);
const settingsBox = new SecretBox(SETTINGS_KEY);

describe('audit log', () => {
  let api: TestApi;
  let op: string;
  let harbour: string;
  let quay: string;
  let pier: string;
  let harbourDomain: string;
  let dockDomain: string;
  let harbourAdmin: string;
  let harbourUser: string;
  let quayAdmin: string;
  const dkimKeys: string[] = [];

  const call = (path: string, token = op) => api.request('GET', path, { token });
  const ok = async (r: Promise<{ status: number; body: any }>, status = 200) => {
    const reply = await r;
    expect(reply.status, JSON.stringify(reply.body)).toBe(status);
    return reply.body;
  };
  const addMailbox = async (tenantId: string, domainId: string, address: string, role: string) => {
    await api.db.dataSource.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, role, password_hash, quota_bytes) VALUES ($1, $2, $3, $4, $5, $6, 1048576)`,
      [tenantId, domainId, address.split('@')[0], address, role, await hashOnce(TEST_PASSWORD)],
    );
    return api.login(address, TEST_PASSWORD);
  };
  // The stored key is sealed (issue 12 item 10): the audit must hold neither the sealed text nor the PEM inside it.
  const sealedDkimKeys: string[] = [];
  const dkimOf = async (id: string) => {
    const sealed = (await api.db.dataSource.query(`SELECT dkim_private_key FROM domain WHERE id = $1`, [id]))[0].dkim_private_key as string;
    sealedDkimKeys.push(sealed);
    return settingsBox.open(sealed, dkimKeyField(id));
  };

  beforeAll(async () => {
    api = await startTestApi({ SETTINGS_ENCRYPTION_KEY: SETTINGS_KEY.toString('base64') });
    op = await api.operatorToken();
    harbour = (await ok(api.request('POST', '/api/tenants', { token: op, body: { name: 'Harbour Mail' } }), 201)).id;
    quay = (await ok(api.request('POST', '/api/tenants', { token: op, body: { name: 'Quay Post' } }), 201)).id;
    pier = (await ok(api.request('POST', '/api/tenants', { token: op, body: { name: 'Pier Mail' } }), 201)).id;
    await ok(api.request('PATCH', `/api/tenants/${harbour}`, { token: op, body: { name: 'Harbour Mail Ltd', maxDomains: 5 } }));
    await ok(api.request('DELETE', `/api/tenants/${pier}`, { token: op, body: { confirm: 'Pier Mail' } }), 204);

    harbourDomain = (await ok(api.request('POST', '/api/domains', { token: op, body: { tenantId: harbour, name: 'harbour.example' } }), 201)).id;
    await ok(api.request('PATCH', `/api/domains/${harbourDomain}`, { token: op, body: { maxMailboxes: 10 } }));
    dockDomain = (await ok(api.request('POST', '/api/domains', { token: op, body: { tenantId: harbour, name: 'dock.example' } }), 201)).id;
    const quayDomain = (await ok(api.request('POST', '/api/domains', { token: op, body: { tenantId: quay, name: 'quay.example' } }), 201)).id;
    dkimKeys.push(await dkimOf(harbourDomain), await dkimOf(dockDomain), await dkimOf(quayDomain));
    await ok(api.request('DELETE', `/api/domains/${dockDomain}`, { token: op, body: { confirm: 'dock.example' } }), 204);

    harbourAdmin = await addMailbox(harbour, harbourDomain, 'postmaster@harbour.example', 'tenant_admin');
    harbourUser = await addMailbox(harbour, harbourDomain, 'deckhand@harbour.example', 'user');
    quayAdmin = await addMailbox(quay, quayDomain, 'postmaster@quay.example', 'tenant_admin');
  });
  afterAll(() => api?.close());

  it('records creating, updating and deleting a tenant with who, when, before and after', async () => {
    const page = await ok(call(`/api/audit?objectType=tenant&objectId=${harbour}`));
    expect(page.items.map((e: any) => e.action)).toEqual(['tenant.update', 'tenant.create']);
    const [update, create] = page.items;
    expect(update).toMatchObject({
      actor: { kind: 'operator-account', name: 'op', role: 'operator' },
      tenantId: harbour,
      objectType: 'tenant',
      objectId: harbour,
      before: { name: 'Harbour Mail', maxDomains: null },
      after: { name: 'Harbour Mail Ltd', maxDomains: 5 },
    });
    expect(update.ip).toMatch(/127\.0\.0\.1/);
    expect(Date.parse(update.at)).toBeGreaterThan(Date.now() - 120_000);
    expect(Date.parse(update.at)).toBeGreaterThanOrEqual(Date.parse(create.at));
    expect(create.before).toBeNull();
    expect(create.after).toMatchObject({ id: harbour, name: 'Harbour Mail', status: 'active' });

    const deleted = await ok(call(`/api/audit?tenantId=${pier}&action=tenant.delete`));
    expect(deleted.total).toBe(1);
    expect(deleted.items[0].before).toMatchObject({ id: pier, name: 'Pier Mail' });
    expect(deleted.items[0].after).toBeNull();
  });

  it('records creating, updating and deleting a domain with before and after, newest first', async () => {
    const page = await ok(call(`/api/audit?objectType=domain&tenantId=${harbour}`));
    expect(page.items.map((e: any) => `${e.action} ${e.objectId}`)).toEqual([
      `domain.delete ${dockDomain}`,
      `domain.create ${dockDomain}`,
      `domain.update ${harbourDomain}`,
      `domain.create ${harbourDomain}`,
    ]);
    const [del, , update, create] = page.items;
    expect(create.after).toMatchObject({ name: 'harbour.example', tenantId: harbour, maxMailboxes: null });
    expect(update.before).toMatchObject({ name: 'harbour.example', maxMailboxes: null });
    expect(update.after).toMatchObject({ name: 'harbour.example', maxMailboxes: 10 });
    expect(del.before).toMatchObject({ name: 'dock.example', usage: { mailboxes: 0 } });
    expect(del.after).toBeNull();
    const ids = page.items.map((e: any) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });

  it('never shows secrets (DKIM private keys, password hashes) in before or after', async () => {
    // A mailbox change recorded with the full entity, password hash loaded, as a mailbox service would.
    const mailbox = await api.db.dataSource
      .getRepository(MailboxEntity)
      .createQueryBuilder('m')
      .addSelect('m.passwordHash')
      .where('m.address = :a', { a: 'postmaster@harbour.example' })
      .getOneOrFail();
    expect(mailbox.passwordHash).toMatch(/\$argon2id\$/);
    await api.db.dataSource.transaction((m) =>
      api.app.get(AuditService).record(m, { role: 'operator', kind: 'operator-account', id: 'test', name: 'op' }, '127.0.0.1', {
        action: 'mailbox.update', objectType: 'mailbox', objectId: mailbox.id, tenantId: harbour, before: mailbox, after: { ...mailbox, displayName: 'Harbour Postmaster' },
      }),
    );

    const all = await ok(call('/api/audit?limit=500'));
    expect(all.total).toBeGreaterThanOrEqual(10);
    const text = JSON.stringify(all.items);
    const mailboxEvent = all.items.find((e: any) => e.action === 'mailbox.update');
    expect(mailboxEvent.after).toMatchObject({ address: 'postmaster@harbour.example', displayName: 'Harbour Postmaster' });
    expect(Object.keys(mailboxEvent.before)).not.toContain('passwordHash');

    const raw: { t: string }[] = await api.db.dataSource.query(`SELECT concat(before::text, ' ', after::text) AS t FROM audit_event`);
    const secrets = [mailbox.passwordHash, ...dkimKeys, ...sealedDkimKeys];
    expect(dkimKeys).toHaveLength(3);
    for (const key of dkimKeys) expect(key).toMatch(/BEGIN PRIVATE KEY/);
    for (const haystack of [text, ...raw.map((r) => r.t)]) {
      for (const secret of secrets) expect(haystack).not.toContain(secret);
      // Any line of a PEM body would do: look for the longest one too.
      for (const key of dkimKeys) expect(haystack).not.toContain(key.split('\n')[5]);
      expect(haystack).not.toMatch(/PRIVATE KEY|\$argon2|dkimPrivateKey|passwordHash/);
    }
  });

  it('filters by action (exact or prefix), object, actor and time, and pages', async () => {
    const domains = await ok(call('/api/audit?action=domain.*&limit=500'));
    expect(domains.total).toBe(5);
    expect(domains.items.every((e: any) => e.action.startsWith('domain.'))).toBe(true);
    expect((await ok(call('/api/audit?action=domain.update'))).total).toBe(1);
    expect((await ok(call('/api/audit?action=domain'))).total).toBe(0);

    const byActor = await ok(call('/api/audit?actor=op&limit=500'));
    const [{ n: byOp }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM audit_event WHERE actor_name = 'op'`);
    expect(byActor.total).toBe(byOp);
    expect((await ok(call('/api/audit?actor=nobody'))).total).toBe(0);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const past = '2000-01-01T00:00:00Z';
    expect((await ok(call(`/api/audit?from=${encodeURIComponent(future)}`))).total).toBe(0);
    expect((await ok(call(`/api/audit?to=${encodeURIComponent(past)}`))).total).toBe(0);
    const [{ n: everything }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM audit_event`);
    expect((await ok(call(`/api/audit?from=${encodeURIComponent(past)}&to=${encodeURIComponent(future)}`))).total).toBe(everything);
    const backwards = await call(`/api/audit?from=${encodeURIComponent(future)}&to=${encodeURIComponent(past)}`);
    expect(backwards.status).toBe(400);
    expect(backwards.body.field).toBe('from');
    expect((await call('/api/audit?from=yesterday')).status).toBe(400);

    const first = await ok(call('/api/audit?limit=2'));
    const second = await ok(call('/api/audit?limit=2&offset=2'));
    const four = await ok(call('/api/audit?limit=4'));
    expect([...first.items, ...second.items].map((e: any) => e.id)).toEqual(four.items.map((e: any) => e.id));
    expect(first.total).toBe(everything);
  });

  it('shows tenant admins only their tenant\'s events, and nobody below them any', async () => {
    const own = await ok(call('/api/audit?limit=500', harbourAdmin));
    const [{ n }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM audit_event WHERE tenant_id = $1`, [harbour]);
    expect(own.total).toBe(n);
    expect(own.items.length).toBe(n);
    expect(own.items.every((e: any) => e.tenantId === harbour)).toBe(true);
    expect(own.items.map((e: any) => e.action)).toEqual(expect.arrayContaining(['tenant.create', 'tenant.update', 'domain.create', 'domain.delete']));
    expect((await ok(call(`/api/audit?tenantId=${harbour}&limit=500`, harbourAdmin))).total).toBe(n);

    const notFound = await call(`/api/audit?tenantId=${quay}`, harbourAdmin);
    expect(notFound.status).toBe(404);
    expect((await call(`/api/audit?tenantId=${pier}`, harbourAdmin)).status).toBe(404);

    const other = await ok(call('/api/audit?limit=500', quayAdmin));
    // Its admin's own sign-in is an event of its tenant too.
    expect(other.items.map((e: any) => e.action).sort()).toEqual(['auth.login', 'domain.create', 'tenant.create']);
    expect(other.items.every((e: any) => e.tenantId === quay)).toBe(true);

    const asOperator = await ok(call(`/api/audit?tenantId=${quay}`));
    expect(asOperator.items.map((e: any) => e.id)).toEqual(other.items.map((e: any) => e.id));

    expect((await call('/api/audit', harbourUser)).status).toBe(403);
    expect((await api.request('GET', '/api/audit')).status).toBe(401);
  });

  it('documents the query and the response schema in OpenAPI', () => {
    const get = api.openApi.paths['/api/audit']!.get!;
    expect((get.responses['200'] as any).content['application/json'].schema.$ref).toMatch(/AuditPageDto/);
    expect((get.parameters ?? []).map((p: any) => p.name)).toEqual(
      expect.arrayContaining(['tenantId', 'action', 'objectType', 'objectId', 'actor', 'from', 'to', 'offset', 'limit']),
    );
  });
});
