/** Groups as mailing lists: settings, posting policies, members (addresses and wildcards) changed in one transaction each, and access rules. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApi } from './harness';
import { ApiDomain, auditActions, insertMailbox, SignedInMailbox, startHarbourWorld } from './mail-admin-fixture';

describe('groups', () => {
  let api: TestApi;
  let op: string;
  let a: ApiDomain;
  let tenantAdmin: SignedInMailbox;
  let adminA: SignedInMailbox;
  let adminB: SignedInMailbox;
  let userA: SignedInMailbox;
  let otherTenantAdmin: SignedInMailbox;

  const create = (token: string, body: unknown) => api.request('POST', '/api/groups', { token, body });
  const members = async (address: string): Promise<string[]> =>
    (
      await api.db.dataSource.query(
        `SELECT m.member FROM mail_group_member m JOIN mail_group g ON g.id = m.group_id WHERE g.address = $1 ORDER BY m.member`,
        [address],
      )
    ).map((r: { member: string }) => r.member);
  const groupRow = async (address: string) => (await api.db.dataSource.query(`SELECT * FROM mail_group WHERE address = $1`, [address]))[0];

  beforeAll(async () => {
    ({ api, op, a, tenantAdmin, adminA, adminB, userA, otherTenantAdmin } = await startHarbourWorld());
  });
  afterAll(() => api?.close());

  it('creates a group with settings and normalised, deduplicated members, and audits it', async () => {
    const r = await create(adminA.token, {
      address: 'Team@A.test', name: 'Team', description: 'everyone at work', postingPolicy: 'same_domain',
      keepCopy: true, rewriteRecipient: true,
      members: ['Ann@a.test', 'ann@A.TEST', '@b.test', '*@Remote.Example', 'bob@remote.example'],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({
      address: 'team@a.test', name: 'Team', description: 'everyone at work', postingPolicy: 'same_domain', allowedSenders: [],
      keepCopy: true, rewriteRecipient: true, memberCount: 4, domainId: a.id, tenantId: a.tenantId,
    });
    expect(new Date(r.body.updatedAt).toISOString()).toBe(r.body.updatedAt);
    expect(await members('team@a.test')).toEqual(['*@b.test', '*@remote.example', 'ann@a.test', 'bob@remote.example']);
    const row = await groupRow('team@a.test');
    expect(row).toMatchObject({ posting_policy: 'same_domain', keep_copy: true, rewrite_recipient: true });
    expect(await auditActions(api, r.body.id)).toEqual(['group.create']);
  });

  it('defaults to the members policy, reads by id and address, patches, deletes with its members', async () => {
    const r = await create(tenantAdmin.token, { address: 'board@b.test', members: ['admin@b.test'] });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ postingPolicy: 'members', keepCopy: false, rewriteRecipient: false, name: '', memberCount: 1 });
    const byAddress = await api.request('GET', '/api/groups/BOARD@b.test', { token: adminB.token });
    expect(byAddress.status).toBe(200);
    expect(byAddress.body.id).toBe(r.body.id);

    const p = await api.request('PATCH', `/api/groups/${r.body.id}`, {
      token: adminB.token,
      body: { postingPolicy: 'listed', allowedSenders: ['Chair@Remote.example', '@b.test'], name: 'Board', keepCopy: true },
    });
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    expect(p.body).toMatchObject({ postingPolicy: 'listed', allowedSenders: ['chair@remote.example', '*@b.test'], name: 'Board', keepCopy: true, memberCount: 1 });
    expect((await groupRow('board@b.test')).allowed_senders).toEqual(['chair@remote.example', '*@b.test']);

    const d = await api.request('DELETE', '/api/groups/board@b.test', { token: adminB.token });
    expect(d.status).toBe(204);
    expect(await groupRow('board@b.test')).toBeUndefined();
    expect(await api.db.dataSource.query(`SELECT 1 FROM mail_group_member WHERE group_id = $1`, [r.body.id])).toHaveLength(0);
    expect((await api.request('GET', `/api/groups/${r.body.id}`, { token: adminB.token })).status).toBe(404);
    expect(await auditActions(api, r.body.id)).toEqual(['group.create', 'group.update', 'group.delete']);
  });

  it('answers 400 naming the field for bad input', async () => {
    const cases: [unknown, string][] = [
      [{}, 'address'],
      [{ address: 'not-an-address' }, 'address'],
      [{ address: '*@a.test' }, 'address'],
      [{ address: 'x@a.test', postingPolicy: 'everybody' }, 'postingPolicy'],
      [{ address: 'x@a.test', postingPolicy: 'listed' }, 'allowedSenders'],
      [{ address: 'x@a.test', postingPolicy: 'listed', allowedSenders: [] }, 'allowedSenders'],
      [{ address: 'x@a.test', allowedSenders: ['ok@a.test', '*@'] }, 'allowedSenders.1'],
      [{ address: 'x@a.test', members: ['ok@a.test', 'bad address'] }, 'members.1'],
      [{ address: 'x@a.test', members: ['ok@a.test', 'X@A.test'] }, 'members.1'],
      [{ address: 'x@a.test', keepCopy: 'no' }, 'keepCopy'],
    ];
    for (const [body, field] of cases) {
      const r = await create(adminA.token, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.field, JSON.stringify(r.body)).toBe(field);
    }
    expect(await groupRow('x@a.test')).toBeUndefined();

    // Switching to `listed` needs senders, in the same request or already stored.
    const toListed = await api.request('PATCH', '/api/groups/team@a.test', { token: adminA.token, body: { postingPolicy: 'listed' } });
    expect(toListed.status).toBe(400);
    expect(toListed.body.field).toBe('allowedSenders');
    expect((await groupRow('team@a.test')).posting_policy).toBe('same_domain');
    const strict = await api.request('PATCH', '/api/groups/team@a.test', { token: adminA.token, body: { address: 'other@a.test' } });
    expect(strict.status).toBe(400);
  });

  it('refuses an address that is already a mailbox, an alias or a group (409, field address)', async () => {
    await insertMailbox(api, a, 'carol');
    const vsMailbox = await create(adminA.token, { address: 'carol@a.test' });
    expect(vsMailbox.status).toBe(409);
    expect(vsMailbox.body.field).toBe('address');
    const alias = await api.request('POST', '/api/aliases', { token: adminA.token, body: { address: 'sales@a.test', destinations: ['ann@a.test'] } });
    expect(alias.status).toBe(201);
    const vsAlias = await create(adminA.token, { address: 'Sales@a.test' });
    expect(vsAlias.status).toBe(409);
    expect(vsAlias.body.field).toBe('address');
    const vsGroup = await create(tenantAdmin.token, { address: 'team@a.test' });
    expect(vsGroup.status).toBe(409);
    expect(vsGroup.body.field).toBe('address');
    expect(await api.db.dataSource.query(`SELECT 1 FROM mail_group WHERE address IN ('carol@a.test', 'sales@a.test')`)).toHaveLength(0);
  });

  it('adds members idempotently, removes them, and replaces the whole list, each audited', async () => {
    const g = await create(adminA.token, { address: 'list@a.test' });
    expect(g.status).toBe(201);
    const add = await api.request('POST', '/api/groups/list@a.test/members', { token: adminA.token, body: { members: ['ann@a.test', '*@b.test'] } });
    expect(add.status, JSON.stringify(add.body)).toBe(200);
    expect(add.body).toEqual({ added: 2, removed: 0, memberCount: 2 });
    const again = await api.request('POST', '/api/groups/list@a.test/members', { token: adminA.token, body: { members: ['Ann@A.test', '@b.test', 'carl@a.test'] } });
    expect(again.body).toEqual({ added: 1, removed: 0, memberCount: 3 });
    expect(await members('list@a.test')).toEqual(['*@b.test', 'ann@a.test', 'carl@a.test']);

    const listed = await api.request('GET', '/api/groups/list@a.test/members?limit=2', { token: adminA.token });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ items: ['*@b.test', 'ann@a.test'], total: 3, offset: 0, limit: 2 });

    const del = await api.request('DELETE', '/api/groups/list@a.test/members', { token: adminA.token, body: { members: ['carl@a.test', 'nobody@a.test'] } });
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ added: 0, removed: 1, memberCount: 2 });
    const delAgain = await api.request('DELETE', '/api/groups/list@a.test/members', { token: adminA.token, body: { members: ['carl@a.test'] } });
    expect(delAgain.body).toEqual({ added: 0, removed: 0, memberCount: 2 });

    const put = await api.request('PUT', `/api/groups/${g.body.id}/members`, { token: adminA.token, body: { members: ['ann@a.test', 'dora@remote.example', '*@c.test'] } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toEqual({ added: 2, removed: 1, memberCount: 3 });
    const putAgain = await api.request('PUT', `/api/groups/${g.body.id}/members`, { token: adminA.token, body: { members: ['dora@remote.example', '*@c.test', 'ANN@a.test'] } });
    expect(putAgain.body).toEqual({ added: 0, removed: 0, memberCount: 3 });
    expect(await members('list@a.test')).toEqual(['*@c.test', 'ann@a.test', 'dora@remote.example']);
    expect((await api.request('GET', '/api/groups/list@a.test', { token: adminA.token })).body.memberCount).toBe(3);

    expect(await auditActions(api, g.body.id)).toEqual([
      'group.create', 'group.members.add', 'group.members.add', 'group.members.remove', 'group.members.remove', 'group.members.replace', 'group.members.replace',
    ]);

    const empty = await api.request('PUT', `/api/groups/${g.body.id}/members`, { token: adminA.token, body: { members: [] } });
    expect(empty.body).toEqual({ added: 0, removed: 3, memberCount: 0 });
    expect(await members('list@a.test')).toEqual([]);
  });

  it('changes nothing when one member of a replace or add is invalid', async () => {
    const g = await create(adminA.token, { address: 'crew@a.test', members: ['ann@a.test', 'bob@a.test'] });
    expect(g.status).toBe(201);
    const auditBefore = await auditActions(api, g.body.id);

    const put = await api.request('PUT', '/api/groups/crew@a.test/members', { token: adminA.token, body: { members: ['carl@a.test', 'dora@a.test', 'broken@@a.test'] } });
    expect(put.status).toBe(400);
    expect(put.body.field).toBe('members.2');
    const self = await api.request('PUT', '/api/groups/crew@a.test/members', { token: adminA.token, body: { members: ['carl@a.test', 'crew@a.test'] } });
    expect(self.status).toBe(400);
    expect(self.body.field).toBe('members.1');
    const add = await api.request('POST', '/api/groups/crew@a.test/members', { token: adminA.token, body: { members: ['carl@a.test', '*@bad_domain'] } });
    expect(add.status).toBe(400);
    expect(add.body.field).toBe('members.1');
    const missing = await api.request('POST', '/api/groups/crew@a.test/members', { token: adminA.token, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.field).toBe('members');

    expect(await members('crew@a.test')).toEqual(['ann@a.test', 'bob@a.test']);
    expect(await auditActions(api, g.body.id)).toEqual(auditBefore);
  });

  it('keeps domain admins to their domain and tenants to their own: 404 by id, address, query or body', async () => {
    const inB = await create(adminB.token, { address: 'desk@b.test', members: ['admin@b.test'] });
    expect(inB.status).toBe(201);
    expect((await create(adminA.token, { address: 'x@b.test' })).status).toBe(404);
    expect((await create(otherTenantAdmin.token, { address: 'x@a.test' })).status).toBe(404);
    for (const [token, key] of [
      [adminA.token, inB.body.id], [adminA.token, 'desk@b.test'], [otherTenantAdmin.token, inB.body.id], [otherTenantAdmin.token, 'desk@b.test'],
    ]) {
      expect((await api.request('GET', `/api/groups/${key}`, { token })).status).toBe(404);
      expect((await api.request('PATCH', `/api/groups/${key}`, { token, body: { name: 'stolen' } })).status).toBe(404);
      expect((await api.request('GET', `/api/groups/${key}/members`, { token })).status).toBe(404);
      expect((await api.request('POST', `/api/groups/${key}/members`, { token, body: { members: ['evil@remote.example'] } })).status).toBe(404);
      expect((await api.request('PUT', `/api/groups/${key}/members`, { token, body: { members: [] } })).status).toBe(404);
      expect((await api.request('DELETE', `/api/groups/${key}/members`, { token, body: { members: ['admin@b.test'] } })).status).toBe(404);
      expect((await api.request('DELETE', `/api/groups/${key}`, { token })).status).toBe(404);
    }
    expect((await api.request('GET', '/api/groups?domain=b.test', { token: adminA.token })).status).toBe(404);
    expect((await api.request('GET', `/api/groups?domain=${a.id}`, { token: otherTenantAdmin.token })).status).toBe(404);
    expect(await groupRow('desk@b.test')).toMatchObject({ name: '' });
    expect(await members('desk@b.test')).toEqual(['admin@b.test']);

    const userCreate = await create(userA.token, { address: 'mine@a.test' });
    expect([403, 404]).toContain(userCreate.status);
    expect(await groupRow('mine@a.test')).toBeUndefined();
    expect((await api.request('GET', '/api/groups', { token: userA.token })).status).toBe(403);
    expect((await api.request('GET', '/api/groups/team@a.test', { token: userA.token })).status).toBe(403);
    expect((await api.request('POST', '/api/groups/team@a.test/members', { token: userA.token, body: { members: ['ann@a.test'] } })).status).toBe(403);

    const listA = await api.request('GET', '/api/groups?limit=500', { token: adminA.token });
    expect(listA.body.items.length).toBeGreaterThan(0);
    expect(listA.body.items.every((g: any) => g.domainId === a.id)).toBe(true);
    expect((await api.request('GET', '/api/groups', { token: otherTenantAdmin.token })).body).toMatchObject({ items: [], total: 0 });
    const byDomain = await api.request('GET', '/api/groups?domain=b.test', { token: tenantAdmin.token });
    expect(byDomain.body.items.map((g: any) => g.address)).toEqual(['desk@b.test']);
    const search = await api.request('GET', '/api/groups?q=tea', { token: op });
    expect(search.body.items.map((g: any) => g.address)).toEqual(['team@a.test']);
  });

  it('documents request and response schemas in OpenAPI', () => {
    const paths = api.openApi.paths;
    expect(paths['/api/groups'].post?.responses['201']).toHaveProperty('content');
    expect(paths['/api/groups/{group}'].get?.responses['200']).toHaveProperty('content');
    expect(paths['/api/groups/{group}'].delete?.responses).toHaveProperty('204');
    for (const method of ['get', 'post', 'put', 'delete'] as const) {
      expect(paths['/api/groups/{group}/members'][method]?.responses['200']).toHaveProperty('content');
    }
    expect(paths['/api/groups/{group}/members'].put?.requestBody).toBeDefined();
  });
});
