/** Operators manage tenants: create, rename, limits and plan, suspend, resume, delete. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant } from './tenancy-fixture';

describe('tenants', () => {
  let api: TestApi;
  let op: string;
  const q = (sql: string, params: unknown[] = []) => api.db.dataSource.query(sql, params);

  beforeAll(async () => {
    api = await startTestApi();
    op = await api.operatorToken();
  });
  afterAll(() => api?.close());

  const create = (body: unknown, token = op) => api.request('POST', '/api/tenants', { token, body });

  it('creates a tenant with plan and limits, and audits it', async () => {
    const r = await create({ name: '  Lighthouse Mail ', plan: 'business', maxDomains: 3, maxMailboxes: 50, maxStorageBytes: 10 * 1024 ** 3 });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      name: 'Lighthouse Mail', plan: 'business', status: 'active', maxDomains: 3, maxMailboxes: 50, maxStorageBytes: 10 * 1024 ** 3,
      usage: { domains: 0, mailboxes: 0, storageBytes: 0 },
    });
    const [row] = await q(`SELECT name, plan, max_domains, max_storage_bytes FROM tenant WHERE id = $1`, [r.body.id]);
    expect(row).toEqual({ name: 'Lighthouse Mail', plan: 'business', max_domains: 3, max_storage_bytes: String(10 * 1024 ** 3) });
    const [audit] = await q(`SELECT actor_name, after FROM audit_event WHERE action = 'tenant.create' AND object_id = $1`, [r.body.id]);
    expect(audit.actor_name).toBe('op');
    expect(audit.after.name).toBe('Lighthouse Mail');

    const plain = await create({ name: 'Plain Mail' });
    expect(plain.status).toBe(201);
    expect(plain.body).toMatchObject({ plan: 'standard', maxDomains: null, maxMailboxes: null, maxStorageBytes: null });
  });

  it('refuses a duplicate or empty name naming the field', async () => {
    const dup = await create({ name: 'lighthouse MAIL' });
    expect(dup.status).toBe(409);
    expect(dup.body.field).toBe('name');
    const empty = await create({ name: '   ' });
    expect(empty.status).toBe(400);
    expect(empty.body.field).toBe('name');
    const negative = await create({ name: 'Negative', maxDomains: -1 });
    expect(negative.status).toBe(400);
    expect(negative.body.field).toBe('maxDomains');
    const [{ n }] = await q(`SELECT count(*)::int AS n FROM tenant WHERE lower(name) IN ('lighthouse mail', 'negative')`);
    expect(n).toBe(1);
  });

  it('lists, filters and pages tenants for operators', async () => {
    await create({ name: 'Zephyr Mail' });
    const all = await api.request('GET', '/api/tenants', { token: op });
    expect(all.status).toBe(200);
    expect(all.body.items.map((t: { name: string }) => t.name)).toEqual(['Lighthouse Mail', 'Plain Mail', 'Zephyr Mail']);
    expect(all.body.total).toBe(3);
    const found = await api.request('GET', '/api/tenants?q=zeph', { token: op });
    expect(found.body.items.map((t: { name: string }) => t.name)).toEqual(['Zephyr Mail']);
    const page = await api.request('GET', '/api/tenants?offset=1&limit=1', { token: op });
    expect(page.body).toMatchObject({ total: 3, offset: 1, limit: 1 });
    expect(page.body.items.map((t: { name: string }) => t.name)).toEqual(['Plain Mail']);
    // `%` is a literal, not a wildcard.
    expect((await api.request('GET', '/api/tenants?q=%25', { token: op })).body.items).toEqual([]);
  });

  it('renames: the owner tenant admin may, other tenants are 404, a taken name is 409', async () => {
    const t = await seedTenant(api.db.dataSource, 'Harbour Mail', ['harbour-t.test'], [{ local: 'boss', role: 'tenant_admin' }, { local: 'deb', role: 'domain_admin' }], TEST_PASSWORD);
    const boss = await api.login('boss@harbour-t.test', TEST_PASSWORD);
    const deb = await api.login('deb@harbour-t.test', TEST_PASSWORD);
    const [other] = await q(`SELECT id FROM tenant WHERE name = 'Zephyr Mail'`);

    expect((await api.request('GET', '/api/tenants', { token: boss })).body.items.map((x: { id: string }) => x.id)).toEqual([t.id]);
    const renamed = await api.request('PATCH', `/api/tenants/${t.id}`, { token: boss, body: { name: 'Harbour Post' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Harbour Post');
    const recased = await api.request('PATCH', `/api/tenants/${t.id}`, { token: boss, body: { name: 'HARBOUR Post' } });
    expect(recased.status).toBe(200);
    const taken = await api.request('PATCH', `/api/tenants/${t.id}`, { token: op, body: { name: 'zephyr mail' } });
    expect(taken.status).toBe(409);
    expect(taken.body.field).toBe('name');
    expect((await api.request('PATCH', `/api/tenants/${other.id}`, { token: boss, body: { name: 'Mine Now' } })).status).toBe(404);
    expect((await api.request('GET', `/api/tenants/${other.id}`, { token: boss })).status).toBe(404);
    expect((await api.request('GET', `/api/tenants/not-a-uuid`, { token: boss })).status).toBe(404);
    // Plan and limits are the operator's.
    const plan = await api.request('PATCH', `/api/tenants/${t.id}`, { token: boss, body: { maxDomains: 100 } });
    expect(plan.status).toBe(403);
    expect((await api.request('PATCH', `/api/tenants/${t.id}`, { token: deb, body: { name: 'Deb Mail' } })).status).toBe(403);
    expect((await api.request('POST', '/api/tenants', { token: boss, body: { name: 'Own Tenant' } })).status).toBe(403);
    expect((await api.request('POST', `/api/tenants/${t.id}/suspend`, { token: boss })).status).toBe(403);
    const [row] = await q(`SELECT name, max_domains, status FROM tenant WHERE id = $1`, [t.id]);
    expect(row).toEqual({ name: 'HARBOUR Post', max_domains: null, status: 'active' });
    const [{ n }] = await q(`SELECT count(*)::int AS n FROM audit_event WHERE action = 'tenant.update' AND object_id = $1`, [t.id]);
    expect(n).toBe(2);
  });

  it('enforces domain limits and refuses limits below what is in use', async () => {
    const t = (await create({ name: 'Limited Mail', maxDomains: 1 })).body;
    const first = await api.request('POST', '/api/domains', { token: op, body: { name: 'limited-one.test', tenantId: t.id } });
    expect(first.status).toBe(201);
    const second = await api.request('POST', '/api/domains', { token: op, body: { name: 'limited-two.test', tenantId: t.id } });
    expect(second.status).toBe(409);
    expect(second.body.error).toBe('limit_reached');
    expect((await q(`SELECT name FROM domain WHERE tenant_id = $1`, [t.id])).map((d: { name: string }) => d.name)).toEqual(['limited-one.test']);

    const below = await api.request('PATCH', `/api/tenants/${t.id}`, { token: op, body: { maxDomains: 0 } });
    expect(below.status).toBe(400);
    expect(below.body.field).toBe('maxDomains');
    const raised = await api.request('PATCH', `/api/tenants/${t.id}`, { token: op, body: { maxDomains: 2, plan: 'premium', maxStorageBytes: 5000, maxMailboxes: 7 } });
    expect(raised.status).toBe(200);
    expect(raised.body).toMatchObject({ maxDomains: 2, plan: 'premium', maxStorageBytes: 5000, maxMailboxes: 7, usage: { domains: 1 } });
    expect((await api.request('POST', '/api/domains', { token: op, body: { name: 'limited-two.test', tenantId: t.id } })).status).toBe(201);
    const unlimited = await api.request('PATCH', `/api/tenants/${t.id}`, { token: op, body: { maxDomains: null } });
    expect(unlimited.body.maxDomains).toBeNull();
  });

  it('suspends and resumes', async () => {
    const t = (await create({ name: 'Sleepy Mail' })).body;
    const s = await api.request('POST', `/api/tenants/${t.id}/suspend`, { token: op });
    expect(s.status).toBe(200);
    expect(s.body.status).toBe('suspended');
    expect((await api.request('GET', '/api/tenants?status=suspended', { token: op })).body.items.map((x: { id: string }) => x.id)).toEqual([t.id]);
    const r = await api.request('POST', `/api/tenants/${t.id}/resume`, { token: op });
    expect(r.body.status).toBe('active');
    const actions = (await q(`SELECT action FROM audit_event WHERE object_id = $1 ORDER BY id`, [t.id])).map((x: { action: string }) => x.action);
    expect(actions).toEqual(['tenant.create', 'tenant.suspend', 'tenant.resume']);
  });

  it('deletes a tenant with everything it owns, only when the request repeats its name', async () => {
    const t = await seedTenant(api.db.dataSource, 'Doomed Mail', ['doomed.test'], [{ local: 'x' }, { local: 'y' }], TEST_PASSWORD);
    const token = await api.login('x@doomed.test', TEST_PASSWORD);
    const none = await api.request('DELETE', `/api/tenants/${t.id}`, { token: op });
    expect(none.status).toBe(400);
    expect(none.body.field).toBe('confirm');
    const wrong = await api.request('DELETE', `/api/tenants/${t.id}`, { token: op, body: { confirm: 'Doomed' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.field).toBe('confirm');
    expect((await q(`SELECT count(*)::int AS n FROM mailbox WHERE tenant_id = $1`, [t.id]))[0].n).toBe(2);

    const ok = await api.request('DELETE', `/api/tenants/${t.id}`, { token: op, body: { confirm: 'Doomed Mail' } });
    expect(ok.status).toBe(204);
    expect((await api.request('GET', `/api/tenants/${t.id}`, { token: op })).status).toBe(404);
    const [left] = await q(
      `SELECT (SELECT count(*) FROM domain WHERE tenant_id = $1)::int AS domains, (SELECT count(*) FROM mailbox WHERE tenant_id = $1)::int AS mailboxes`,
      [t.id],
    );
    expect(left).toEqual({ domains: 0, mailboxes: 0 });
    expect((await api.request('GET', '/api/auth/me', { token })).status).toBe(401);
    const [audit] = await q(`SELECT before FROM audit_event WHERE action = 'tenant.delete' AND object_id = $1`, [t.id]);
    expect(audit.before).toMatchObject({ name: 'Doomed Mail', usage: { domains: 1, mailboxes: 2 } });
  });
});
