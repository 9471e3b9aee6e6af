/** API keys for machines: created once, stored hashed, scoped like their role, refused when revoked, expired, tampered or suspended. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { hashOnce } from './tenancy-fixture';

describe('API keys', () => {
  let api: TestApi;
  let op: string;
  let harbour: string;
  let quay: string;
  let harbourAdmin: string;
  let harbourUser: string;
  let quayAdmin: string;
  const minted: string[] = [];

  const createTenant = async (name: string) => {
    const r = await api.request('POST', '/api/tenants', { token: op, body: { name } });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const createDomain = async (tenantId: string, name: string) => {
    const r = await api.request('POST', '/api/domains', { token: op, body: { tenantId, name } });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const addMailbox = async (tenantId: string, domainId: string, address: string, role: string) => {
    await api.db.dataSource.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, role, password_hash, quota_bytes) VALUES ($1, $2, $3, $4, $5, $6, 1048576)`,
      [tenantId, domainId, address.split('@')[0], address, role, await hashOnce(TEST_PASSWORD)],
    );
    return api.login(address, TEST_PASSWORD);
  };
  const createKey = async (body: Record<string, unknown>, token = op) => {
    const r = await api.request('POST', '/api/api-keys', { token, body });
    if (r.status === 201) minted.push(r.body.key);
    return r;
  };
  const keyRow = async (id: string) => (await api.db.dataSource.query(`SELECT * FROM api_key WHERE id = $1`, [id]))[0];

  beforeAll(async () => {
    api = await startTestApi();
    op = await api.operatorToken();
    harbour = await createTenant('Harbour Mail');
    quay = await createTenant('Quay Post');
    const harbourDomain = await createDomain(harbour, 'harbour.example');
    await createDomain(harbour, 'dock.example');
    const quayDomain = await createDomain(quay, 'quay.example');
    harbourAdmin = await addMailbox(harbour, harbourDomain, 'postmaster@harbour.example', 'tenant_admin');
    harbourUser = await addMailbox(harbour, harbourDomain, 'deckhand@harbour.example', 'user');
    quayAdmin = await addMailbox(quay, quayDomain, 'postmaster@quay.example', 'tenant_admin');
  });
  afterAll(() => api?.close());

  it('creates an operator key shown once and stored only as a hash', async () => {
    const r = await createKey({ name: 'billing sync', role: 'operator' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: 'billing sync', role: 'operator', tenantId: null, status: 'active', createdBy: 'op', revokedAt: null });
    expect(r.body.key).toMatch(new RegExp(`^dzk_${r.body.prefix}_[A-Za-z0-9_-]{43}$`));
    expect(r.body.keyHash).toBeUndefined();
    const row = await keyRow(r.body.id);
    expect(Buffer.compare(row.key_hash, createHash('sha256').update(r.body.key).digest())).toBe(0);

    const got = await api.request('GET', `/api/api-keys/${r.body.id}`, { token: op });
    expect(got.status).toBe(200);
    expect(got.body.key).toBeUndefined();
    expect(got.body.keyHash).toBeUndefined();
    expect(got.body.prefix).toBe(r.body.prefix);
  });

  it('authenticates with X-API-Key or Authorization: Bearer, with the powers of its role', async () => {
    const { body: opKey } = await createKey({ name: 'provisioning', role: 'operator' });
    const viaHeader = await api.request('GET', '/api/tenants', { apiKey: opKey.key });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.body.total).toBe(2);
    const viaBearer = await api.request('GET', '/api/domains', { token: opKey.key });
    expect(viaBearer.status).toBe(200);
    expect(viaBearer.body.total).toBe(3);

    const { body: tenantKey } = await createKey({ name: 'harbour crm', role: 'tenant_admin', tenantId: harbour });
    expect(tenantKey.tenantId).toBe(harbour);
    const tenants = await api.request('GET', '/api/tenants', { apiKey: tenantKey.key });
    expect(tenants.status).toBe(200);
    expect(tenants.body.items.map((t: any) => t.id)).toEqual([harbour]);
    const domains = await api.request('GET', '/api/domains', { token: tenantKey.key });
    expect(domains.body.items.map((d: any) => d.name).sort()).toEqual(['dock.example', 'harbour.example']);
    expect((await api.request('GET', `/api/tenants/${quay}`, { apiKey: tenantKey.key })).status).toBe(404);
    expect((await api.request('POST', '/api/tenants', { apiKey: tenantKey.key, body: { name: 'Sneaky' } })).status).toBe(403);

    // Changes made with a key are audited under the key's name.
    const made = await api.request('POST', '/api/domains', { apiKey: tenantKey.key, body: { name: 'crm.harbour.example' } });
    expect(made.status).toBe(201);
    const [event] = await api.db.dataSource.query(`SELECT actor_kind, actor_id, actor_name, actor_role FROM audit_event WHERE object_id = $1`, [made.body.id]);
    expect(event).toEqual({ actor_kind: 'api-key', actor_id: tenantKey.id, actor_name: 'api-key:harbour crm', actor_role: 'tenant_admin' });
  });

  it('lets tenant admins create tenant_admin keys for their own tenant only', async () => {
    const own = await createKey({ name: 'harbour backup', role: 'tenant_admin' }, harbourAdmin);
    expect(own.status).toBe(201);
    expect(own.body.tenantId).toBe(harbour);
    expect(own.body.createdBy).toBe('postmaster@harbour.example');

    const opKey = await createKey({ name: 'escalate', role: 'operator' }, harbourAdmin);
    expect(opKey.status).toBe(403);
    expect((await createKey({ name: 'other', role: 'tenant_admin', tenantId: quay }, harbourAdmin)).status).toBe(404);
    expect((await createKey({ name: 'mine', role: 'tenant_admin' }, harbourUser)).status).toBe(403);

    const missing = await createKey({ name: 'nobody', role: 'tenant_admin' });
    expect(missing.status).toBe(400);
    expect(missing.body.field).toBe('tenantId');
    const both = await createKey({ name: 'confused', role: 'operator', tenantId: harbour });
    expect(both.status).toBe(400);
    expect(both.body.field).toBe('tenantId');
    const past = await createKey({ name: 'late', role: 'operator', expiresAt: '2020-01-01T00:00:00Z' });
    expect(past.status).toBe(400);
    expect(past.body.field).toBe('expiresAt');
    const noName = await createKey({ name: ' ', role: 'operator' });
    expect(noName.status).toBe(400);
    expect(noName.body.field).toBe('name');
    const [{ n }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM api_key WHERE name IN ('escalate', 'other', 'mine', 'nobody', 'confused', 'late')`);
    expect(n).toBe(0);
  });

  it('lists keys scoped to the caller, never with the secret or its hash', async () => {
    const all = await api.request('GET', '/api/api-keys', { token: op });
    expect(all.status).toBe(200);
    const [{ n }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM api_key`);
    expect(all.body.total).toBe(n);
    for (const k of all.body.items) expect(Object.keys(k)).not.toEqual(expect.arrayContaining(['key']));
    expect(JSON.stringify(all.body)).not.toMatch(/keyHash|key_hash/);
    for (const key of minted) expect(JSON.stringify(all.body)).not.toContain(key.slice(17));

    const own = await api.request('GET', '/api/api-keys', { token: harbourAdmin });
    expect(own.status).toBe(200);
    expect(own.body.items.length).toBe(2);
    expect(own.body.items.every((k: any) => k.tenantId === harbour && k.role === 'tenant_admin')).toBe(true);
    expect((await api.request('GET', '/api/api-keys', { token: quayAdmin })).body.total).toBe(0);
    expect((await api.request('GET', `/api/api-keys?tenantId=${harbour}`, { token: quayAdmin })).status).toBe(404);
    expect((await api.request('GET', '/api/api-keys', { token: harbourUser })).status).toBe(403);
    const opKeyId = all.body.items.find((k: any) => k.role === 'operator').id;
    expect((await api.request('GET', `/api/api-keys/${opKeyId}`, { token: harbourAdmin })).status).toBe(404);
  });

  it('stores no plaintext: no column of api_key and no audit event contains a key', async () => {
    expect(minted.length).toBeGreaterThanOrEqual(4);
    const rows: { t: string }[] = await api.db.dataSource.query(`SELECT row_to_json(k)::text AS t FROM api_key k`);
    const hexRows: { t: string }[] = await api.db.dataSource.query(`SELECT encode(key_hash, 'escape') AS t FROM api_key`);
    const audit: { t: string }[] = await api.db.dataSource.query(`SELECT concat(before::text, after::text) AS t FROM audit_event`);
    for (const key of minted) {
      const secret = key.slice(17);
      for (const { t } of [...rows, ...hexRows, ...audit]) {
        expect(t).not.toContain(key);
        expect(t).not.toContain(secret);
      }
    }
    const events = await api.db.dataSource.query(`SELECT after FROM audit_event WHERE action = 'api_key.create'`);
    expect(events.length).toBe(minted.length);
    for (const e of events) expect(Object.keys(e.after)).not.toContain('keyHash');
  });

  it('refuses a revoked key with 401, and only its tenant or an operator may revoke it', async () => {
    const { body } = await createKey({ name: 'to revoke', role: 'tenant_admin', tenantId: harbour });
    expect((await api.request('GET', '/api/tenants', { apiKey: body.key })).status).toBe(200);
    expect((await api.request('DELETE', `/api/api-keys/${body.id}`, { token: quayAdmin })).status).toBe(404);
    const [opKey] = await api.db.dataSource.query(`SELECT id FROM api_key WHERE role = 'operator' LIMIT 1`);
    expect((await api.request('DELETE', `/api/api-keys/${opKey.id}`, { token: harbourAdmin })).status).toBe(404);
    expect((await keyRow(opKey.id)).revoked_at).toBeNull();

    const r = await api.request('DELETE', `/api/api-keys/${body.id}`, { token: harbourAdmin });
    expect(r.status).toBe(204);
    expect((await keyRow(body.id)).revoked_at).not.toBeNull();
    const refused = await api.request('GET', '/api/tenants', { apiKey: body.key });
    expect(refused.status).toBe(401);
    expect((await api.request('GET', '/api/tenants', { token: body.key })).status).toBe(401);
    expect((await api.request('DELETE', `/api/api-keys/${body.id}`, { token: op })).status).toBe(409);
    expect((await api.request('GET', `/api/api-keys/${body.id}`, { token: op })).body.status).toBe('revoked');
    const [event] = await api.db.dataSource.query(`SELECT before, after, tenant_id FROM audit_event WHERE action = 'api_key.revoke' AND object_id = $1`, [body.id]);
    expect(event.before.revokedAt).toBeNull();
    expect(event.after.revokedAt).not.toBeNull();
    expect(event.tenant_id).toBe(harbour);
  });

  it('refuses an expired key with 401', async () => {
    const { body } = await createKey({ name: 'short lived', role: 'operator', expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await api.request('GET', '/api/tenants', { apiKey: body.key })).status).toBe(200);
    await api.db.dataSource.query(`UPDATE api_key SET expires_at = now() - interval '1 second' WHERE id = $1`, [body.id]);
    expect((await api.request('GET', '/api/tenants', { apiKey: body.key })).status).toBe(401);
    const expired = await api.request('GET', '/api/api-keys?status=expired', { token: op });
    expect(expired.body.items.map((k: any) => k.id)).toEqual([body.id]);
  });

  it('refuses the key of a suspended tenant with 401 until the tenant is resumed', async () => {
    const { body } = await createKey({ name: 'quay sync', role: 'tenant_admin', tenantId: quay });
    expect((await api.request('GET', '/api/domains', { apiKey: body.key })).status).toBe(200);
    expect((await api.request('POST', `/api/tenants/${quay}/suspend`, { token: op })).status).toBe(200);
    expect((await api.request('GET', '/api/domains', { apiKey: body.key })).status).toBe(401);
    expect((await api.request('POST', `/api/tenants/${quay}/resume`, { token: op })).status).toBe(200);
    expect((await api.request('GET', '/api/domains', { apiKey: body.key })).status).toBe(200);
  });

  it('refuses a tampered key with 401', async () => {
    const { body } = await createKey({ name: 'tamper target', role: 'operator' });
    const key: string = body.key;
    const change = (i: number) => key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
    // A prefix character, the first, a middle and the last secret character.
    for (const i of [5, 'dzk_'.length + 13, 30, key.length - 1]) {
      expect((await api.request('GET', '/api/tenants', { apiKey: change(i) })).status).toBe(401);
    }
    expect((await api.request('GET', '/api/tenants', { apiKey: key.slice(0, -1) })).status).toBe(401);
    expect((await api.request('GET', '/api/tenants', { apiKey: 'dzk_nothing' })).status).toBe(401);
    expect((await api.request('GET', '/api/tenants', { apiKey: key })).status).toBe(200);
  });

  it('documents request and response schemas in OpenAPI', () => {
    const paths = api.openApi.paths;
    const schemaOf = (r: any) => r?.content?.['application/json']?.schema?.$ref;
    expect(JSON.stringify(paths['/api/api-keys']!.post!.requestBody)).toMatch(/CreateApiKeyDto/);
    expect(schemaOf(paths['/api/api-keys']!.post!.responses['201'])).toMatch(/CreatedApiKeyDto/);
    expect(schemaOf(paths['/api/api-keys']!.get!.responses['200'])).toMatch(/ApiKeyPageDto/);
    expect(schemaOf(paths['/api/api-keys/{id}']!.get!.responses['200'])).toMatch(/ApiKeyDto/);
    expect(paths['/api/api-keys/{id}']!.delete!.responses['204']).toBeDefined();
    const view = api.openApi.components!.schemas!['ApiKeyDto_Output'] as any;
    expect(Object.keys(view.properties)).not.toContain('key');
  });
});
