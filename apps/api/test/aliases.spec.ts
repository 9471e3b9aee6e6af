/** Aliases: one address to many, the per-domain catch-all, address uniqueness across mailboxes/groups/aliases, and who may touch them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApi } from './harness';
import { ApiDomain, auditActions, insertMailbox, SignedInMailbox, startHarbourWorld } from './mail-admin-fixture';

describe('aliases', () => {
  let api: TestApi;
  let op: string;
  let a: ApiDomain;
  let b: ApiDomain;
  let tenantAdmin: SignedInMailbox;
  let adminA: SignedInMailbox;
  let adminB: SignedInMailbox;
  let userA: SignedInMailbox;
  let otherTenantAdmin: SignedInMailbox;

  const rows = (address: string) => api.db.dataSource.query(`SELECT * FROM alias WHERE address = $1`, [address]);
  const create = (token: string, body: unknown) => api.request('POST', '/api/aliases', { token, body });

  beforeAll(async () => {
    ({ api, op, a, b, tenantAdmin, adminA, adminB, userA, otherTenantAdmin } = await startHarbourWorld());
  });
  afterAll(() => api?.close());

  it('creates an alias with normalised, deduplicated destinations, local and remote, and audits it', async () => {
    const r = await create(adminA.token, { address: ' Sales@A.TEST ', destinations: ['Ann@A.test', 'ann@a.test', 'Partner@Remote.Example', 'bob@b.test'] });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({
      address: 'sales@a.test', localPart: 'sales', catchAll: false, domainId: a.id, tenantId: a.tenantId, enabled: true,
      destinations: ['ann@a.test', 'partner@remote.example', 'bob@b.test'],
    });
    expect(new Date(r.body.createdAt).toISOString()).toBe(r.body.createdAt);
    const [row] = await rows('sales@a.test');
    expect(row.destinations).toEqual(['ann@a.test', 'partner@remote.example', 'bob@b.test']);
    expect(await auditActions(api, r.body.id)).toEqual(['alias.create']);
  });

  it('takes domain + localPart, reads by id and by address, patches and deletes, each change audited', async () => {
    const r = await create(tenantAdmin.token, { domain: b.id, localPart: 'Info', destinations: ['x@remote.example'], enabled: false });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ address: 'info@b.test', enabled: false, domainId: b.id });

    expect((await api.request('GET', `/api/aliases/${r.body.id}`, { token: adminB.token })).body.address).toBe('info@b.test');
    const byAddress = await api.request('GET', '/api/aliases/INFO@b.test', { token: adminB.token });
    expect(byAddress.status).toBe(200);
    expect(byAddress.body.id).toBe(r.body.id);

    const p = await api.request('PATCH', '/api/aliases/info@b.test', { token: adminB.token, body: { enabled: true, destinations: ['Y@remote.example', 'admin@b.test'] } });
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    expect(p.body).toMatchObject({ enabled: true, destinations: ['y@remote.example', 'admin@b.test'] });
    const [row] = await rows('info@b.test');
    expect(row.enabled).toBe(true);
    expect(row.destinations).toEqual(['y@remote.example', 'admin@b.test']);

    const d = await api.request('DELETE', `/api/aliases/${r.body.id}`, { token: adminB.token });
    expect(d.status).toBe(204);
    expect(await rows('info@b.test')).toHaveLength(0);
    expect((await api.request('GET', `/api/aliases/${r.body.id}`, { token: adminB.token })).status).toBe(404);
    expect(await auditActions(api, r.body.id)).toEqual(['alias.create', 'alias.update', 'alias.delete']);
  });

  it('allows one catch-all per domain, addressed as *@domain or localPart *', async () => {
    const first = await create(adminA.token, { address: '*@a.test', destinations: ['admin@a.test'] });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ address: '*@a.test', localPart: '*', catchAll: true });

    const again = await create(tenantAdmin.token, { address: '*@A.test', destinations: ['boss@a.test'] });
    expect(again.status).toBe(409);
    expect(again.body.field).toBe('address');
    const againByParts = await create(tenantAdmin.token, { domain: 'a.test', localPart: '*', destinations: ['boss@a.test'] });
    expect(againByParts.status).toBe(409);
    expect(againByParts.body.field).toBe('localPart');
    expect(await rows('*@a.test')).toHaveLength(1);

    const other = await create(tenantAdmin.token, { domain: 'b.test', localPart: '*', destinations: ['admin@b.test'] });
    expect(other.status).toBe(201);
    expect(other.body.catchAll).toBe(true);

    const get = await api.request('GET', `/api/aliases/${encodeURIComponent('*@a.test')}`, { token: adminA.token });
    expect(get.status).toBe(200);
    expect(get.body.id).toBe(first.body.id);
  });

  it('answers 400 naming the field for bad input', async () => {
    const cases: [unknown, string][] = [
      [{ address: 'list@a.test' }, 'destinations'],
      [{ address: 'list@a.test', destinations: [] }, 'destinations'],
      [{ address: 'list@a.test', destinations: Array.from({ length: 1001 }, (_, i) => `u${i}@remote.example`) }, 'destinations'],
      [{ address: 'list@a.test', destinations: ['ok@a.test', 'not an address'] }, 'destinations.1'],
      [{ address: 'list@a.test', destinations: ['ok@a.test', 'x@bad_domain'] }, 'destinations.1'],
      [{ address: 'list@a.test', destinations: ['*@remote.example'] }, 'destinations.0'],
      [{ address: 'list@a.test', destinations: ['ok@a.test', 'LIST@a.test'] }, 'destinations.1'],
      [{ address: 'list@a.test', domain: 'a.test', destinations: ['ok@a.test'] }, 'address'],
      [{ destinations: ['ok@a.test'] }, 'address'],
      [{ domain: 'a.test', destinations: ['ok@a.test'] }, 'localPart'],
      [{ domain: 'a.test', localPart: 'a*b', destinations: ['ok@a.test'] }, 'localPart'],
      [{ address: '.dot@a.test', destinations: ['ok@a.test'] }, 'address'],
      [{ address: 'no-at-sign', destinations: ['ok@a.test'] }, 'address'],
      [{ address: 'list@a.test', destinations: ['ok@a.test'], enabled: 'yes' }, 'enabled'],
    ];
    for (const [body, field] of cases) {
      const r = await create(adminA.token, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.field, JSON.stringify(r.body)).toBe(field);
      expect(r.body.message.length).toBeGreaterThan(5);
    }
    expect(await rows('list@a.test')).toHaveLength(0);

    const made = await create(adminA.token, { address: 'list@a.test', destinations: ['ok@a.test'] });
    expect(made.status).toBe(201);
    const selfPatch = await api.request('PATCH', '/api/aliases/list@a.test', { token: adminA.token, body: { destinations: ['list@A.TEST'] } });
    expect(selfPatch.status).toBe(400);
    expect(selfPatch.body.field).toBe('destinations.0');
    const emptyPatch = await api.request('PATCH', '/api/aliases/list@a.test', { token: adminA.token, body: { destinations: [] } });
    expect(emptyPatch.status).toBe(400);
    expect(emptyPatch.body.field).toBe('destinations');
    const renamePatch = await api.request('PATCH', '/api/aliases/list@a.test', { token: adminA.token, body: { address: 'other@a.test' } });
    expect(renamePatch.status).toBe(400);
    expect((await rows('list@a.test'))[0].destinations).toEqual(['ok@a.test']);
  });

  it('refuses an address that is already a mailbox, a group or an alias (409, field address)', async () => {
    await insertMailbox(api, a, 'carol');
    const vsMailbox = await create(adminA.token, { address: 'Carol@a.test', destinations: ['x@remote.example'] });
    expect(vsMailbox.status).toBe(409);
    expect(vsMailbox.body).toMatchObject({ field: 'address' });
    expect(vsMailbox.body.message).toContain('mailbox');

    const group = await api.request('POST', '/api/groups', { token: adminA.token, body: { address: 'team@a.test' } });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    const vsGroup = await create(adminA.token, { address: 'team@a.test', destinations: ['x@remote.example'] });
    expect(vsGroup.status).toBe(409);
    expect(vsGroup.body).toMatchObject({ field: 'address' });
    expect(vsGroup.body.message).toContain('group');

    const vsAlias = await create(adminA.token, { address: 'sales@a.test', destinations: ['x@remote.example'] });
    expect(vsAlias.status).toBe(409);
    expect(vsAlias.body.field).toBe('address');
    expect(await api.db.dataSource.query(`SELECT 1 FROM alias WHERE address IN ('carol@a.test', 'team@a.test')`)).toHaveLength(0);
  });

  it("keeps domain admins to their own domain and tenants to their own: 404 by id, address, query or body", async () => {
    const inB = await create(adminB.token, { address: 'desk@b.test', destinations: ['admin@b.test'] });
    expect(inB.status).toBe(201);

    expect((await create(adminA.token, { address: 'x@b.test', destinations: ['x@remote.example'] })).status).toBe(404);
    expect((await create(adminA.token, { domain: b.id, localPart: 'x', destinations: ['x@remote.example'] })).status).toBe(404);
    for (const key of [inB.body.id, 'desk@b.test']) {
      expect((await api.request('GET', `/api/aliases/${key}`, { token: adminA.token })).status).toBe(404);
      expect((await api.request('PATCH', `/api/aliases/${key}`, { token: adminA.token, body: { enabled: false } })).status).toBe(404);
      expect((await api.request('DELETE', `/api/aliases/${key}`, { token: adminA.token })).status).toBe(404);
      expect((await api.request('GET', `/api/aliases/${key}`, { token: otherTenantAdmin.token })).status).toBe(404);
      expect((await api.request('DELETE', `/api/aliases/${key}`, { token: otherTenantAdmin.token })).status).toBe(404);
    }
    expect((await api.request('GET', '/api/aliases?domain=b.test', { token: adminA.token })).status).toBe(404);
    expect((await api.request('GET', `/api/aliases?domain=${a.id}`, { token: otherTenantAdmin.token })).status).toBe(404);
    expect((await create(otherTenantAdmin.token, { address: 'x@a.test', destinations: ['x@remote.example'] })).status).toBe(404);
    expect((await rows('desk@b.test'))[0].enabled).toBe(true);

    // Users manage no aliases, not even their own domain's.
    const userCreate = await create(userA.token, { address: 'mine@a.test', destinations: ['ann@a.test'] });
    expect([403, 404]).toContain(userCreate.status);
    expect(await rows('mine@a.test')).toHaveLength(0);
    expect((await api.request('GET', '/api/aliases', { token: userA.token })).status).toBe(403);
    expect((await api.request('GET', '/api/aliases/sales@a.test', { token: userA.token })).status).toBe(403);
    expect((await api.request('DELETE', '/api/aliases/sales@a.test', { token: userA.token })).status).toBe(403);
    expect(await rows('sales@a.test')).toHaveLength(1);

    const listA = await api.request('GET', '/api/aliases?limit=500', { token: adminA.token });
    expect(listA.status).toBe(200);
    expect(listA.body.items.length).toBeGreaterThan(0);
    expect(listA.body.items.every((x: any) => x.domainId === a.id)).toBe(true);
    const listOther = await api.request('GET', '/api/aliases', { token: otherTenantAdmin.token });
    expect(listOther.body).toMatchObject({ items: [], total: 0 });
    const listTenant = await api.request('GET', '/api/aliases?limit=500', { token: tenantAdmin.token });
    expect(new Set(listTenant.body.items.map((x: any) => x.domainId))).toEqual(new Set([a.id, b.id]));
  });

  it('lists by domain (id or name) with a search and paging', async () => {
    const all = await api.request('GET', '/api/aliases?domain=a.test', { token: op });
    expect(all.status).toBe(200);
    expect(all.body.items.map((x: any) => x.address)).toEqual(['*@a.test', 'list@a.test', 'sales@a.test']);
    expect(all.body.total).toBe(3);
    const page = await api.request('GET', `/api/aliases?domain=${a.id}&offset=1&limit=1`, { token: op });
    expect(page.body).toMatchObject({ total: 3, offset: 1, limit: 1 });
    expect(page.body.items.map((x: any) => x.address)).toEqual(['list@a.test']);
    const byDestination = await api.request('GET', '/api/aliases?q=partner', { token: tenantAdmin.token });
    expect(byDestination.body.items.map((x: any) => x.address)).toEqual(['sales@a.test']);
    const bad = await api.request('GET', '/api/aliases?limit=0', { token: op });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('limit');
  });

  it('documents request and response schemas in OpenAPI', () => {
    const paths = api.openApi.paths;
    expect(paths['/api/aliases'].post?.requestBody).toBeDefined();
    expect(paths['/api/aliases'].post?.responses['201']).toHaveProperty('content');
    expect(paths['/api/aliases'].get?.responses['200']).toHaveProperty('content');
    expect(paths['/api/aliases/{alias}'].patch?.responses['200']).toHaveProperty('content');
    expect(paths['/api/aliases/{alias}'].delete?.responses).toHaveProperty('204');
  });
});
