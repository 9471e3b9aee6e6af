/** Mailboxes through the real API: CRUD, validation, conflicts, roles, limits, search, bulk delete, sessions. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TestApi, TEST_PASSWORD } from './harness';

let api: TestApi;
let op: string;
let tenantA: string;
let tenantB: string;
let domainA: { id: string; name: string };
let domainB2: { id: string; name: string };

async function ok<T = any>(status: number, method: string, path: string, token: string, body?: unknown): Promise<T> {
  const r = await api.request<T>(method, path, { token, body });
  if (r.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function mailbox(token: string, body: Record<string, unknown>) {
  return ok(201, 'POST', '/api/mailboxes', token, { password: TEST_PASSWORD, ...body });
}

async function row(address: string) {
  const [r] = await api.db.dataSource.query(`SELECT * FROM mailbox WHERE address = $1`, [address]);
  return r;
}

beforeAll(async () => {
  api = await startTestApi();
  op = await api.operatorToken();
  tenantA = (await ok(201, 'POST', '/api/tenants', op, { name: 'Alpha' })).id;
  tenantB = (await ok(201, 'POST', '/api/tenants', op, { name: 'Beta' })).id;
  domainA = await ok(201, 'POST', '/api/domains', op, {
    tenantId: tenantA, name: 'alpha.test', mailboxDefaultQuotaBytes: 1_000_000, mailboxMaxQuotaBytes: 50_000_000, mailboxDailySendLimit: 500,
  });
  domainB2 = await ok(201, 'POST', '/api/domains', op, { tenantId: tenantA, name: 'alpha-two.test' });
  await ok(201, 'POST', '/api/domains', op, { tenantId: tenantB, name: 'beta.test' });
  await mailbox(op, { address: 'boss@alpha.test', role: 'tenant_admin', displayName: 'The Boss' });
  await mailbox(op, { address: 'admin@alpha.test', role: 'domain_admin', displayName: 'Domain Admin' });
  await mailbox(op, { address: 'admin@beta.test', role: 'tenant_admin' });
});

afterAll(async () => {
  await api?.close();
});

describe('create', () => {
  it('creates with the domain default quota, hashes the password with argon2id and audits it', async () => {
    const created = await mailbox(op, { address: 'Carol@Alpha.test', displayName: ' Carol Chen / 陈卡罗 ' });
    expect(created).toMatchObject({
      address: 'carol@alpha.test', localPart: 'carol', displayName: 'Carol Chen / 陈卡罗', role: 'user', status: 'active',
      quotaBytes: 1_000_000, usedBytes: 0, messageCount: 0, usedPercent: 0, maySendOutside: true, dailySendLimit: null, domainId: domainA.id, tenantId: tenantA,
    });
    expect(created.password).toBeUndefined();
    const stored = await row('carol@alpha.test');
    expect(stored.password_hash).toMatch(/^\{ARGON2ID\}\$argon2id\$/);
    const [audit] = await api.db.dataSource.query(`SELECT action, tenant_id, after FROM audit_event WHERE object_id = $1`, [created.id]);
    expect(audit).toMatchObject({ action: 'mailbox.create', tenant_id: tenantA });
    expect(JSON.stringify(audit.after)).not.toContain('argon2');
    await api.login('carol@alpha.test', TEST_PASSWORD);
  });

  it('generates a password when none is given and returns it once', async () => {
    const r = await ok(201, 'POST', '/api/mailboxes', op, { domain: 'alpha.test', localPart: 'dave', quotaBytes: 2_000_000, dailySendLimit: 100, maySendOutside: false });
    expect(r.password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(r).toMatchObject({ address: 'dave@alpha.test', quotaBytes: 2_000_000, dailySendLimit: 100, maySendOutside: false });
    await api.login('dave@alpha.test', r.password);
    const again = await ok(200, 'GET', '/api/mailboxes/dave@alpha.test', op);
    expect(again.password).toBeUndefined();
  });

  it('answers 400 naming the field for bad input', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ address: 'no-at-sign.alpha.test' }, 'address'],
      [{ address: '.dot@alpha.test' }, 'address'],
      [{ domain: 'alpha.test', localPart: 'bad name' }, 'localPart'],
      [{ displayName: 'x' }, 'address'],
      [{ address: 'x1@alpha.test', password: 'short' }, 'password'],
      [{ address: 'x2@alpha.test', quotaBytes: 60_000_000 }, 'quotaBytes'],
      [{ address: 'x3@alpha.test', quotaBytes: -1 }, 'quotaBytes'],
      [{ address: 'x4@alpha.test', dailySendLimit: 501 }, 'dailySendLimit'],
      [{ address: 'x5@alpha.test', role: 'operator' }, 'role'],
      [{ address: 'x6@alpha.test', colour: 'red' }, '(body)'],
    ];
    for (const [body, field] of cases) {
      const r = await api.request('POST', '/api/mailboxes', { token: op, body: { password: TEST_PASSWORD, ...body } });
      expect({ body, status: r.status, field: r.body.field }).toEqual({ body, status: 400, field });
      expect(r.body.message.length).toBeGreaterThan(10);
    }
    const count = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM mailbox WHERE local_part LIKE 'x_'`);
    expect(count[0].n).toBe(0);
  });

  it('answers 409 when a mailbox, alias or group already holds the address', async () => {
    const dup = await api.request('POST', '/api/mailboxes', { token: op, body: { address: 'CAROL@alpha.test', password: TEST_PASSWORD } });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ field: 'address' });
    await api.db.dataSource.query(
      `INSERT INTO alias (tenant_id, domain_id, local_part, address, destinations) VALUES ($1, $2, 'sales', 'sales@alpha.test', '{carol@alpha.test}')`,
      [tenantA, domainA.id],
    );
    const alias = await api.request('POST', '/api/mailboxes', { token: op, body: { domain: 'alpha.test', localPart: 'sales', password: TEST_PASSWORD } });
    expect(alias.status).toBe(409);
    expect(alias.body.field).toBe('localPart');
    expect(alias.body.message).toContain('alias');
    await api.db.dataSource.query(`INSERT INTO mail_group (tenant_id, domain_id, local_part, address) VALUES ($1, $2, 'team', 'team@alpha.test')`, [tenantA, domainA.id]);
    const group = await api.request('POST', '/api/mailboxes', { token: op, body: { address: 'team@alpha.test', password: TEST_PASSWORD } });
    expect(group.status).toBe(409);
    expect(group.body.message).toContain('group');
    expect(await row('sales@alpha.test')).toBeUndefined();
    expect(await row('team@alpha.test')).toBeUndefined();
  });

  it('answers 404 for a domain that does not exist or belongs to another tenant', async () => {
    const tenantAdmin = await api.login('boss@alpha.test', TEST_PASSWORD);
    expect((await api.request('POST', '/api/mailboxes', { token: op, body: { address: 'x@nowhere.test', password: TEST_PASSWORD } })).status).toBe(404);
    expect((await api.request('POST', '/api/mailboxes', { token: tenantAdmin, body: { address: 'x@beta.test', password: TEST_PASSWORD } })).status).toBe(404);
    expect(await row('x@beta.test')).toBeUndefined();
  });
});

describe('roles', () => {
  it('lets a domain admin manage users of its own domain only, and grant no more than its own role', async () => {
    const da = await api.login('admin@alpha.test', TEST_PASSWORD);
    const created = await mailbox(da, { address: 'erin@alpha.test' });
    expect(created.role).toBe('user');
    await mailbox(da, { address: 'deputy@alpha.test', role: 'domain_admin' });
    const tooHigh = await api.request('POST', '/api/mailboxes', { token: da, body: { address: 'king@alpha.test', role: 'tenant_admin', password: TEST_PASSWORD } });
    expect(tooHigh.status).toBe(403);
    expect(await row('king@alpha.test')).toBeUndefined();
    expect((await api.request('POST', '/api/mailboxes', { token: da, body: { address: 'erin@alpha-two.test', password: TEST_PASSWORD } })).status).toBe(404);
    // A tenant admin's mailbox in the same domain is above a domain admin.
    expect((await api.request('POST', '/api/mailboxes/boss@alpha.test/suspend', { token: da })).status).toBe(403);
    expect((await api.request('PUT', '/api/mailboxes/boss@alpha.test/password', { token: da, body: { password: 'stolen-password' } })).status).toBe(403);
    expect((await api.request('PATCH', '/api/mailboxes/erin@alpha.test', { token: da, body: { role: 'tenant_admin' } })).status).toBe(403);
    expect((await ok(200, 'PATCH', '/api/mailboxes/erin@alpha.test', da, { displayName: 'Erin' })).displayName).toBe('Erin');
    expect((await row('boss@alpha.test')).status).toBe('active');
  });

  it('lets a user read its own mailbox and nothing else', async () => {
    const user = await api.login('carol@alpha.test', TEST_PASSWORD);
    expect((await ok(200, 'GET', '/api/mailboxes/carol@alpha.test', user)).address).toBe('carol@alpha.test');
    expect((await api.request('GET', '/api/mailboxes/erin@alpha.test', { token: user })).status).toBe(404);
    expect((await api.request('GET', '/api/mailboxes', { token: user })).status).toBe(403);
    expect((await api.request('PATCH', '/api/mailboxes/carol@alpha.test', { token: user, body: { quotaBytes: 40_000_000 } })).status).toBe(403);
    expect((await api.request('PUT', '/api/mailboxes/carol@alpha.test/password', { token: user, body: { password: 'another-password' } })).status).toBe(403);
    expect((await api.request('POST', '/api/mailboxes', { token: user, body: { address: 'friend@alpha.test', password: TEST_PASSWORD } })).status).toBe(403);
    expect((await row('carol@alpha.test')).quota_bytes).toBe('1000000');
  });

  it('hides other tenants: their mailboxes answer 404 and never appear in lists', async () => {
    const other = await api.login('admin@beta.test', TEST_PASSWORD);
    for (const [method, path] of [
      ['GET', '/api/mailboxes/carol@alpha.test'],
      ['PATCH', '/api/mailboxes/carol@alpha.test'],
      ['DELETE', '/api/mailboxes/carol@alpha.test'],
      ['POST', '/api/mailboxes/carol@alpha.test/suspend'],
      ['POST', '/api/mailboxes/carol@alpha.test/password/reset'],
    ]) {
      const r = await api.request(method, path, { token: other, body: method === 'PATCH' ? { displayName: 'x' } : undefined });
      expect({ path, method, status: r.status }).toEqual({ path, method, status: 404 });
    }
    const list = await ok(200, 'GET', '/api/mailboxes?limit=500', other);
    expect(list.items.map((m: any) => m.address)).toEqual(['admin@beta.test']);
    expect((await api.request('GET', `/api/mailboxes?domain=alpha.test`, { token: other })).status).toBe(404);
    expect((await api.request('GET', `/api/mailboxes?tenantId=${tenantA}`, { token: other })).status).toBe(404);
    expect((await row('carol@alpha.test')).status).toBe('active');
  });

  it('refuses to delete, suspend or demote oneself', async () => {
    const da = await api.login('admin@alpha.test', TEST_PASSWORD);
    const del = await api.request('DELETE', '/api/mailboxes/admin@alpha.test', { token: da });
    expect(del.status).toBe(400);
    expect((await api.request('POST', '/api/mailboxes/admin@alpha.test/suspend', { token: da })).status).toBe(400);
    const demote = await api.request('PATCH', '/api/mailboxes/admin@alpha.test', { token: da, body: { role: 'user' } });
    expect(demote.status).toBe(400);
    expect(demote.body.field).toBe('role');
    const bulk = await api.request('POST', '/api/mailboxes/delete', { token: da, body: { addresses: ['erin@alpha.test', 'admin@alpha.test'] } });
    expect(bulk.status).toBe(400);
    const stored = await row('admin@alpha.test');
    expect(stored).toMatchObject({ role: 'domain_admin', status: 'active' });
    expect(await row('erin@alpha.test')).toBeDefined();
  });
});

describe('limits', () => {
  it('refuses mailboxes over the domain count and storage limits with 409', async () => {
    const small = await ok(201, 'POST', '/api/domains', op, { tenantId: tenantB, name: 'small.test', maxMailboxes: 2, maxStorageBytes: 3_000_000, mailboxDefaultQuotaBytes: 1_000_000 });
    await mailbox(op, { address: 'one@small.test' });
    const tooBig = await api.request('POST', '/api/mailboxes', { token: op, body: { address: 'big@small.test', quotaBytes: 2_500_000, password: TEST_PASSWORD } });
    expect(tooBig.status).toBe(409);
    expect(tooBig.body).toMatchObject({ error: 'limit_reached', field: 'quotaBytes' });
    await mailbox(op, { address: 'two@small.test' });
    const third = await api.request('POST', '/api/mailboxes', { token: op, body: { address: 'three@small.test', password: TEST_PASSWORD } });
    expect(third.status).toBe(409);
    expect(third.body.error).toBe('limit_reached');
    const grow = await api.request('PATCH', '/api/mailboxes/one@small.test', { token: op, body: { quotaBytes: 2_000_001 } });
    expect(grow.status).toBe(409);
    expect((await ok(200, 'PATCH', '/api/mailboxes/one@small.test', op, { quotaBytes: 2_000_000 })).quotaBytes).toBe(2_000_000);
    const [{ n }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM mailbox WHERE domain_id = $1`, [small.id]);
    expect(n).toBe(2);
  });

  it('counts the tenant plan limit across domains', async () => {
    const t = await ok(201, 'POST', '/api/tenants', op, { name: 'Gamma', maxMailboxes: 1 });
    await ok(201, 'POST', '/api/domains', op, { tenantId: t.id, name: 'g1.test' });
    await ok(201, 'POST', '/api/domains', op, { tenantId: t.id, name: 'g2.test' });
    await mailbox(op, { address: 'a@g1.test' });
    const r = await api.request('POST', '/api/mailboxes', { token: op, body: { address: 'b@g2.test', password: TEST_PASSWORD } });
    expect(r.status).toBe(409);
    expect(r.body.message).toContain('plan');
  });
});

describe('find, browse and page', () => {
  beforeAll(async () => {
    const people = [
      ['wei.zhang', 'Zhang Wei / 张伟'], ['anna', 'Anna Karenina'], ['annabel', 'Annabel Lee'], ['bob', 'Robert Paulson'],
      ['brian', 'Brian'], ['9lives', 'Cat'], ['zoe', 'Zoë Hannah'],
    ];
    for (const [local, name] of people) {
      await api.db.dataSource.query(
        `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, display_name, password_hash, quota_bytes) VALUES ($1, $2, $3, $3 || '@alpha-two.test', $4, 'x', 1000)`,
        [tenantA, domainB2.id, local, name],
      );
    }
  });

  const addresses = (page: any) => page.items.map((m: any) => m.localPart);

  it('finds by fragment of local part, address or display name, case-insensitively, sorted by address', async () => {
    const byLocal = await ok(200, 'GET', '/api/mailboxes?domain=alpha-two.test&q=ANN', op);
    expect(addresses(byLocal)).toEqual(['anna', 'annabel', 'zoe']); // zoe by "Hannah"
    expect(byLocal).toMatchObject({ total: 3, totalCapped: false });
    expect(addresses(await ok(200, 'GET', `/api/mailboxes?domain=${domainB2.id}&q=${encodeURIComponent('张')}`, op))).toEqual(['wei.zhang']);
    expect(addresses(await ok(200, 'GET', '/api/mailboxes?domain=alpha-two.test&q=paulson', op))).toEqual(['bob']);
    expect(addresses(await ok(200, 'GET', `/api/mailboxes?q=${encodeURIComponent('bel@alpha-two')}`, op))).toEqual(['annabel']);
    expect(addresses(await ok(200, 'GET', `/api/mailboxes?q=${encodeURIComponent('@alpha-two.te')}&limit=3`, op))).toEqual(['9lives', 'anna', 'annabel']);
    expect((await ok(200, 'GET', '/api/mailboxes?domain=alpha-two.test&q=%25', op)).total).toBe(0);
  });

  it('browses by initial letter or digit', async () => {
    expect(addresses(await ok(200, 'GET', '/api/mailboxes?domain=alpha-two.test&initial=B', op))).toEqual(['bob', 'brian']);
    expect(addresses(await ok(200, 'GET', '/api/mailboxes?domain=alpha-two.test&initial=9', op))).toEqual(['9lives']);
    const bad = await api.request('GET', '/api/mailboxes?initial=ab', { token: op });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('initial');
  });

  it('pages with offset and limit and counts the total', async () => {
    const first = await ok(200, 'GET', '/api/mailboxes?domain=alpha-two.test&limit=3', op);
    const second = await ok(200, 'GET', '/api/mailboxes?domain=alpha-two.test&limit=3&offset=3', op);
    const third = await ok(200, 'GET', '/api/mailboxes?domain=alpha-two.test&limit=3&offset=6', op);
    expect(first.total).toBe(7);
    expect([...addresses(first), ...addresses(second), ...addresses(third)]).toEqual(['9lives', 'anna', 'annabel', 'bob', 'brian', 'wei.zhang', 'zoe']);
    expect((await api.request('GET', '/api/mailboxes?limit=501', { token: op })).body.field).toBe('limit');
  });

  it('counts exactly within a domain, and caps the count past 1,000 matches across domains and says so', async () => {
    const crowd = await ok(201, 'POST', '/api/domains', op, { tenantId: tenantB, name: 'crowd.test' });
    await api.db.dataSource.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, display_name, password_hash, quota_bytes)
       SELECT $1, $2, 'member' || i, 'member' || i || '@crowd.test', 'Member ' || i, 'x', 1000 FROM generate_series(1, 1100) i`,
      [tenantB, crowd.id],
    );
    // One domain: its search index counts every match.
    const many = await ok(200, 'GET', '/api/mailboxes?domain=crowd.test&q=member&limit=10', op);
    expect(many).toMatchObject({ total: 1100, totalCapped: false });
    expect(many.items).toHaveLength(10);
    const deep = await ok(200, 'GET', '/api/mailboxes?domain=crowd.test&limit=10&offset=1050', op);
    expect(deep).toMatchObject({ total: 1100, totalCapped: false });
    expect(deep.items).toHaveLength(10);
    const few = await ok(200, 'GET', '/api/mailboxes?domain=crowd.test&q=member109', op);
    expect(few).toMatchObject({ total: 11, totalCapped: false });
    // Across a tenant's domains the SQL count stops at 1,001.
    const tenantWide = await ok(200, 'GET', `/api/mailboxes?tenantId=${tenantB}&q=member&limit=10`, op);
    expect(tenantWide).toMatchObject({ total: 1001, totalCapped: true });
    expect(tenantWide.items).toHaveLength(10);
    const tenantDeep = await ok(200, 'GET', `/api/mailboxes?tenantId=${tenantB}&limit=10&offset=1050`, op);
    expect(tenantDeep).toMatchObject({ total: 1060, totalCapped: true });
  });

  it('answers from current data right after any change, also one made outside this API process', async () => {
    const fresh = await ok(201, 'POST', '/api/domains', op, { tenantId: tenantB, name: 'fresh.test' });
    const find = async (q: string) => addresses(await ok(200, 'GET', `/api/mailboxes?domain=fresh.test&q=${encodeURIComponent(q)}`, op));
    expect(await find('zed')).toEqual([]);
    const zed = await mailbox(op, { address: 'zed@fresh.test', displayName: 'Zed Zhou' });
    expect(await find('zed')).toEqual(['zed']);
    await ok(200, 'PATCH', `/api/mailboxes/${zed.id}`, op, { displayName: 'Zachary Zhou' });
    expect(await find('zachary')).toEqual(['zed']);
    // Written by another node (or psql): no API call in between.
    await api.db.dataSource.query(`UPDATE mailbox SET display_name = '周泽德' WHERE id = $1`, [zed.id]);
    expect(await find('泽德')).toEqual(['zed']);
    expect(await find('zachary')).toEqual([]);
    await api.db.dataSource.query(`UPDATE mailbox SET status = 'suspended' WHERE id = $1`, [zed.id]);
    expect(addresses(await ok(200, 'GET', '/api/mailboxes?domain=fresh.test&status=suspended', op))).toEqual(['zed']);
    await api.db.dataSource.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes) VALUES ($1, $2, 'zelda', 'zelda@fresh.test', 'x', 1)`,
      [tenantB, fresh.id],
    );
    expect(await find('@fresh')).toEqual(['zed', 'zelda']);
    expect(await find('da@fresh.te')).toEqual(['zelda']);
    // Usage is read fresh with each page, not from the index.
    await api.db.dataSource.query(`UPDATE mailbox SET used_bytes = 7 WHERE address = 'zelda@fresh.test'`);
    const [zelda] = (await ok(200, 'GET', '/api/mailboxes?domain=fresh.test&q=zelda', op)).items;
    expect(zelda.usedBytes).toBe(7);
    await api.db.dataSource.query(`DELETE FROM mailbox WHERE address = 'zed@fresh.test'`);
    expect(await find('z')).toEqual(['zelda']);
    await ok(204, 'DELETE', '/api/domains/fresh.test', op, { confirm: 'fresh.test' });
    const [counter] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM mailbox_directory_version WHERE domain_id = $1`, [fresh.id]);
    expect(counter.n).toBe(0);
  });

  it('filters by tenant, status and role', async () => {
    const admins = await ok(200, 'GET', `/api/mailboxes?tenantId=${tenantA}&role=domain_admin`, op);
    expect(admins.items.every((m: any) => m.role === 'domain_admin' && m.tenantId === tenantA)).toBe(true);
    expect(addresses(admins)).toContain('admin');
    const tenantAdmin = await api.login('boss@alpha.test', TEST_PASSWORD);
    const all = await ok(200, 'GET', '/api/mailboxes?limit=500', tenantAdmin);
    expect(all.items.every((m: any) => m.tenantId === tenantA)).toBe(true);
    expect(all.total).toBe(all.items.length);
  });

  it('shows usage against quota', async () => {
    await api.db.dataSource.query(`UPDATE mailbox SET used_bytes = 250, message_count = 3 WHERE address = 'bob@alpha-two.test'`);
    const [bob] = (await ok(200, 'GET', '/api/mailboxes?domain=alpha-two.test&q=bob', op)).items;
    expect(bob).toMatchObject({ quotaBytes: 1000, usedBytes: 250, messageCount: 3, usedPercent: 25 });
  });
});

describe('delete', () => {
  it('bulk delete is all or nothing', async () => {
    for (const l of ['del1', 'del2', 'del3']) await mailbox(op, { address: `${l}@alpha.test` });
    const da = await api.login('admin@alpha.test', TEST_PASSWORD);
    const foreign = await api.request('POST', '/api/mailboxes/delete', { token: da, body: { addresses: ['del1@alpha.test', 'del2@alpha.test', 'admin@beta.test'] } });
    expect(foreign.status).toBe(404);
    const missing = await api.request('POST', '/api/mailboxes/delete', { token: da, body: { addresses: ['del1@alpha.test', 'nobody@alpha.test'] } });
    expect(missing.status).toBe(404);
    const aboveMe = await api.request('POST', '/api/mailboxes/delete', { token: da, body: { addresses: ['del1@alpha.test', 'boss@alpha.test'] } });
    expect(aboveMe.status).toBe(403);
    for (const l of ['del1', 'del2', 'del3']) expect(await row(`${l}@alpha.test`)).toBeDefined();
    expect(await row('admin@beta.test')).toBeDefined();

    const del3 = await row('del3@alpha.test');
    const done = await ok(200, 'POST', '/api/mailboxes/delete', da, { addresses: ['del1@alpha.test', 'DEL2@alpha.test'], ids: [del3.id] });
    expect(done.deleted).toBe(3);
    for (const l of ['del1', 'del2', 'del3']) expect(await row(`${l}@alpha.test`)).toBeUndefined();
    const audits = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM audit_event WHERE action = 'mailbox.delete' AND object_id = ANY($1)`, [done.ids]);
    expect(audits[0].n).toBe(3);
    const empty = await api.request('POST', '/api/mailboxes/delete', { token: da, body: { addresses: [] } });
    expect(empty.status).toBe(400);
  });

  it('deletes one by id or address and answers 404 afterwards', async () => {
    const m = await mailbox(op, { address: 'gone@alpha.test' });
    expect((await api.request('DELETE', `/api/mailboxes/${m.id}`, { token: op })).status).toBe(204);
    expect(await row('gone@alpha.test')).toBeUndefined();
    expect((await api.request('DELETE', '/api/mailboxes/gone@alpha.test', { token: op })).status).toBe(404);
    expect((await api.request('GET', `/api/mailboxes/${m.id}`, { token: op })).status).toBe(404);
  });
});

describe('sessions', () => {
  it('suspending refuses sign-in and rejects existing tokens; resuming lets the mailbox back in', async () => {
    await mailbox(op, { address: 'frank@alpha.test' });
    const token = await api.login('frank@alpha.test', TEST_PASSWORD);
    const refresh = (await api.request('POST', '/api/auth/login', { body: { username: 'frank@alpha.test', password: TEST_PASSWORD } })).body.refreshToken;
    expect((await api.request('GET', '/api/auth/me', { token })).status).toBe(200);
    const suspended = await ok(200, 'POST', '/api/mailboxes/frank@alpha.test/suspend', op);
    expect(suspended.status).toBe('suspended');
    expect((await api.request('GET', '/api/auth/me', { token })).status).toBe(401);
    expect((await api.request('POST', '/api/auth/login', { body: { username: 'frank@alpha.test', password: TEST_PASSWORD } })).status).toBe(401);
    expect((await api.request('POST', '/api/auth/refresh', { body: { refreshToken: refresh } })).status).toBe(401);
    expect((await ok(200, 'POST', '/api/mailboxes/frank@alpha.test/resume', op)).status).toBe('active');
    expect((await api.request('GET', '/api/auth/me', { token })).status).toBe(401);
    const fresh = await api.login('frank@alpha.test', TEST_PASSWORD);
    expect((await api.request('GET', '/api/auth/me', { token: fresh })).status).toBe(200);
  });

  it('setting a password ends old sessions; resetting returns a working password once', async () => {
    await mailbox(op, { address: 'grace@alpha.test' });
    const old = await api.login('grace@alpha.test', TEST_PASSWORD);
    const bad = await api.request('PUT', '/api/mailboxes/grace@alpha.test/password', { token: op, body: { password: 'short' } });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('password');
    expect((await api.request('GET', '/api/auth/me', { token: old })).status).toBe(200);
    expect((await api.request('PUT', '/api/mailboxes/grace@alpha.test/password', { token: op, body: { password: 'brand-new-password' } })).status).toBe(204);
    expect((await api.request('GET', '/api/auth/me', { token: old })).status).toBe(401);
    expect((await api.request('POST', '/api/auth/login', { body: { username: 'grace@alpha.test', password: TEST_PASSWORD } })).status).toBe(401);
    const second = await api.login('grace@alpha.test', 'brand-new-password');
    const reset = await ok(200, 'POST', '/api/mailboxes/grace@alpha.test/password/reset', op);
    expect(reset.password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect((await api.request('GET', '/api/auth/me', { token: second })).status).toBe(401);
    await api.login('grace@alpha.test', reset.password);
    const actions = await api.db.dataSource.query(
      `SELECT action FROM audit_event WHERE object_id = (SELECT id::text FROM mailbox WHERE address = 'grace@alpha.test') ORDER BY id`,
    );
    // Each successful sign-in is audited on the mailbox too; the refused one with the old password names no mailbox.
    expect(actions.map((a: any) => a.action)).toEqual(['mailbox.create', 'auth.login', 'mailbox.password.set', 'auth.login', 'mailbox.password.reset', 'auth.login']);
  });

  it('a role change ends the sessions that carried the old role', async () => {
    await mailbox(op, { address: 'heidi@alpha.test', role: 'domain_admin' });
    const token = await api.login('heidi@alpha.test', TEST_PASSWORD);
    expect((await api.request('GET', '/api/mailboxes?domain=alpha.test', { token })).status).toBe(200);
    expect((await ok(200, 'PATCH', '/api/mailboxes/heidi@alpha.test', op, { role: 'user' })).role).toBe('user');
    expect((await api.request('GET', '/api/mailboxes?domain=alpha.test', { token })).status).toBe(401);
    const after = await api.login('heidi@alpha.test', TEST_PASSWORD);
    expect((await api.request('GET', '/api/mailboxes?domain=alpha.test', { token: after })).status).toBe(403);
  });
});

describe('OpenAPI', () => {
  it('documents every mailbox endpoint with request and response schemas', () => {
    const paths = api.openApi.paths;
    const list = paths['/api/mailboxes'];
    expect(list.get!.responses['200']).toHaveProperty('content.application/json.schema');
    expect(list.post!.requestBody).toBeDefined();
    expect(list.post!.responses['201']).toHaveProperty('content.application/json.schema');
    expect(paths['/api/mailboxes/delete'].post!.requestBody).toBeDefined();
    expect(paths['/api/mailboxes/{mailbox}'].delete!.responses['204']).toBeDefined();
    expect(paths['/api/mailboxes/{mailbox}/password'].put!.requestBody).toBeDefined();
    expect(paths['/api/mailboxes/{mailbox}/password/reset'].post!.responses['200']).toHaveProperty('content.application/json.schema');
    expect(paths['/api/domains/{domain}/mailboxes/import'].post!.requestBody).toHaveProperty('content.text/csv.schema.type', 'string');
    expect(paths['/api/domains/{domain}/mailboxes/import'].post!.responses['202']).toHaveProperty('content.application/json.schema');
    expect(paths['/api/domains/{domain}/mailboxes/export'].get!.responses['200']).toHaveProperty('content.text/csv.schema.type', 'string');
    expect(paths['/api/imports/{id}/rows'].get!.responses['200']).toHaveProperty('content.application/json.schema');
  });
});
