/** Sieve scripts over the API at three levels: who may touch which, validation with line:column, limits, activation. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant } from './tenancy-fixture';

describe('sieve scripts API', () => {
  let api: TestApi;
  const token: Record<string, string> = {};

  beforeAll(async () => {
    api = await startTestApi();
    await seedTenant(api.db.dataSource, 'Acme', ['acme.test', 'sales.acme.test'], [
      { local: 'lee' }, { local: 'kim' }, { local: 'dom', role: 'domain_admin' }, { local: 'sam', domain: 'sales.acme.test', role: 'domain_admin' },
    ], TEST_PASSWORD);
    await seedTenant(api.db.dataSource, 'Beacon', ['beacon.test'], [{ local: 'eve', role: 'tenant_admin' }], TEST_PASSWORD);
    for (const a of ['lee@acme.test', 'kim@acme.test', 'dom@acme.test', 'sam@sales.acme.test', 'eve@beacon.test']) token[a] = await api.login(a, TEST_PASSWORD);
    token.op = await api.operatorToken();
  });
  afterAll(() => api?.close());

  const base = (level: string) => (level === 'global' ? '/api/sieve/global' : level.includes('@') ? `/api/mailboxes/${encodeURIComponent(level)}/sieve` : `/api/domains/${level}/sieve`);
  const create = (who: string, level: string, name: string, body: object) => api.request('POST', `${base(level)}/scripts`, { token: token[who], body: { name, ...body } });
  const put = (who: string, level: string, name: string, body: object) => api.request('PUT', `${base(level)}/scripts/${encodeURIComponent(name)}`, { token: token[who], body });
  const list = (who: string, level: string) => api.request('GET', `${base(level)}/scripts`, { token: token[who] });

  it('lets a user write, activate, read, list and delete her own scripts', async () => {
    const r = await create('lee@acme.test', 'lee@acme.test', 'filters', { content: 'require "fileinto";\r\nif header :contains "subject" "x" { fileinto "X"; }\r\n', activate: true });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ name: 'filters', active: true, final: false });
    // POST creates only, PUT replaces only.
    expect((await create('lee@acme.test', 'lee@acme.test', 'filters', { content: 'keep;' })).status).toBe(409);
    expect((await put('lee@acme.test', 'lee@acme.test', 'nothing', { content: 'keep;' })).status).toBe(404);
    const replaced = await put('lee@acme.test', 'lee@acme.test', 'filters', { content: 'require "fileinto";\r\nif header :contains "subject" "x" { fileinto "X"; }\r\n' });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect((await create('lee@acme.test', 'lee@acme.test', 'spare', { content: 'keep;' })).status).toBe(201);
    const l = await list('lee@acme.test', 'lee@acme.test');
    expect(l.body).toMatchObject({ level: 'mailbox', owner: 'lee@acme.test', maxScriptSize: 65536, maxScripts: 16 });
    expect(l.body.scripts.map((s: { name: string; active: boolean }) => [s.name, s.active])).toEqual([['filters', true], ['spare', false]]);
    const got = await api.request('GET', `${base('lee@acme.test')}/scripts/filters`, { token: token['lee@acme.test'] });
    expect(got.body.content).toContain('fileinto "X"');
    // The active script cannot be deleted; after switching, it can.
    expect((await api.request('DELETE', `${base('lee@acme.test')}/scripts/filters`, { token: token['lee@acme.test'] })).status).toBe(409);
    expect((await api.request('POST', `${base('lee@acme.test')}/scripts/spare/activate`, { token: token['lee@acme.test'] })).status).toBe(204);
    expect((await api.request('DELETE', `${base('lee@acme.test')}/scripts/filters`, { token: token['lee@acme.test'] })).status).toBe(204);
    expect((await api.request('POST', `${base('lee@acme.test')}/deactivate`, { token: token['lee@acme.test'] })).status).toBe(204);
    expect((await list('lee@acme.test', 'lee@acme.test')).body.scripts).toEqual([expect.objectContaining({ name: 'spare', active: false })]);
    const [event] = await api.db.dataSource.query(`SELECT actor_name, after FROM audit_event WHERE action = 'sieve.script.put' ORDER BY id LIMIT 1`);
    expect(event).toMatchObject({ actor_name: 'lee@acme.test', after: { level: 'mailbox', owner: 'lee@acme.test', name: 'filters' } });
  });

  it('refuses an invalid script with line:column and stores nothing; editheader only above the mailbox level', async () => {
    const bad = await create('kim@acme.test', 'kim@acme.test', 'broken', { content: 'require "fileinto";\nif header :contains "subject" {\n  fileinto "X";\n}\n' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ field: 'content' });
    expect(bad.body.message).toMatch(/line 2:\d+/);
    const edit = await create('kim@acme.test', 'kim@acme.test', 'edit', { content: 'require "editheader";\naddheader "X-A" "b";\n' });
    expect(edit.status).toBe(400);
    expect(edit.body.message).toMatch(/editheader/);
    expect((await list('kim@acme.test', 'kim@acme.test')).body.scripts).toEqual([]);
    expect((await create('dom@acme.test', 'acme.test', 'edit', { content: 'require "editheader";\naddheader "X-A" "b";\n', final: true })).status).toBe(201);
    expect((await create('kim@acme.test', 'kim@acme.test', 'x', { content: 'keep;', final: true })).status).toBe(400);
  });

  it('enforces the size and count settings', async () => {
    await api.db.dataSource.query(`INSERT INTO system_setting (key, value) VALUES ('smtp', '{"sieveMaxScripts": 2, "sieveMaxScriptSize": 1024}'::jsonb)
      ON CONFLICT (key) DO UPDATE SET value = system_setting.value || EXCLUDED.value`);
    const big = await create('kim@acme.test', 'kim@acme.test', 'big', { content: `# ${'x'.repeat(1100)}\nkeep;\n` });
    expect(big.status).toBe(400);
    expect(big.body.message).toMatch(/sieveMaxScriptSize/);
    expect((await create('kim@acme.test', 'kim@acme.test', 'a', { content: 'keep;' })).status).toBe(201);
    expect((await create('kim@acme.test', 'kim@acme.test', 'b', { content: 'keep;' })).status).toBe(201);
    const third = await create('kim@acme.test', 'kim@acme.test', 'c', { content: 'keep;' });
    expect(third.status).toBe(409);
    expect(third.body.message).toMatch(/sieveMaxScripts/);
    // Replacing one of the two is fine.
    expect((await put('kim@acme.test', 'kim@acme.test', 'b', { content: 'discard;' })).status).toBe(200);
    await api.db.dataSource.query(`UPDATE system_setting SET value = value - 'sieveMaxScripts' - 'sieveMaxScriptSize' WHERE key = 'smtp'`);
  });

  it('authorises every level for its tenant and role', async () => {
    // Global: operators only, every route (the cross-tenant walker leaves these to this test).
    for (const [method, path] of [['GET', '/scripts'], ['GET', '/scripts/g'], ['POST', '/scripts'], ['PUT', '/scripts/g'], ['POST', '/scripts/g/activate'],
      ['POST', '/deactivate'], ['DELETE', '/scripts/g']] as const) {
      const body = method === 'POST' && path === '/scripts' ? { name: 'g', content: 'keep;' } : method === 'PUT' ? { content: 'keep;' } : undefined;
      for (const who of ['dom@acme.test', 'lee@acme.test', 'eve@beacon.test']) {
        expect((await api.request(method, `/api/sieve/global${path}`, { token: token[who], body })).status, `${method} ${path} as ${who}`).toBe(403);
      }
    }
    expect((await create('dom@acme.test', 'global', 'g', { content: 'keep;' })).status).toBe(403);
    expect((await list('eve@beacon.test', 'global')).status).toBe(403);
    const g = await create('op', 'global', 'g', { content: 'require "fileinto"; if header :contains "subject" "casino" { fileinto "Junk"; }', final: true, activate: true });
    expect(g.status, JSON.stringify(g.body)).toBe(201);
    expect(g.body).toMatchObject({ final: true, active: true });
    // Domains: their admins, not users, not another domain's admin, not another tenant.
    expect((await create('lee@acme.test', 'acme.test', 'd', { content: 'keep;' })).status).toBe(403);
    expect([403, 404]).toContain((await create('sam@sales.acme.test', 'acme.test', 'd', { content: 'keep;' })).status);
    expect((await create('eve@beacon.test', 'acme.test', 'd', { content: 'keep;' })).status).toBe(404);
    expect((await list('eve@beacon.test', 'acme.test')).status).toBe(404);
    // Mailboxes: the owner and admins, not another user, not another tenant.
    expect([403, 404]).toContain((await list('kim@acme.test', 'lee@acme.test')).status);
    expect((await list('eve@beacon.test', 'lee@acme.test')).status).toBe(404);
    expect((await list('dom@acme.test', 'lee@acme.test')).status).toBe(200);
    expect((await api.request('GET', `${base('lee@acme.test')}/scripts/nothing`, { token: token['lee@acme.test'] })).status).toBe(404);
    expect((await create('lee@acme.test', 'lee@acme.test', 'bad\u0001name', { content: 'keep;' })).status).toBe(400);
  });
});
