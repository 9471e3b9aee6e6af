/**
 * The "may manage this mailbox's role" rule at every mailbox route: a domain admin walks every
 * operation of the OpenAPI document that names a mailbox, aimed at a tenant admin's mailbox in
 * its own domain, and is refused (403) without changing anything; the same requests against a
 * user's mailbox go through (positive control). The domain export omits hashes it may not see.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant, SeededTenant } from './tenancy-fixture';

type Json = Record<string, any>;

/** A valid body per operation, so validation passes and the role rule is what answers. */
const BODIES: Record<string, (target: string, self: string) => unknown> = {
  'PATCH /api/mailboxes/{mailbox}': () => ({ displayName: 'Renamed' }),
  'PUT /api/mailboxes/{mailbox}/password': () => ({ password: 'Taken-over-123' }),
  'PUT /api/mailboxes/{mailbox}/delivery': (_t, self) => ({ forwardTo: [self], keepCopy: true, autoReply: { enabled: false } }),
  'POST /api/mailboxes/{mailbox}/send-as': (_t, self) => ({ address: self }),
  'POST /api/mailboxes/{mailbox}/sieve/scripts': () => ({ name: 'edges-new', content: 'keep;' }),
  'PUT /api/mailboxes/{mailbox}/sieve/scripts/{name}': () => ({ content: 'keep;' }),
};

/** The Sieve script the {name} routes name (the positive control creates it first for its mailbox). */
const SCRIPT = 'edges';

/**
 * Reading a mailbox's directory entry (address, name, role, quota) stays open to its domain's
 * admins: the list at GET /api/mailboxes shows them the same fields.
 */
const READABLE = new Set(['GET /api/mailboxes/{mailbox}']);

describe("a domain admin against a tenant admin's mailbox", () => {
  let api: TestApi;
  let t: SeededTenant;
  let dadmin: string;
  const address = (local: string) => `${local}@edges.test`;
  const operations: { key: string; method: string; path: string }[] = [];

  beforeAll(async () => {
    api = await startTestApi();
    t = await seedTenant(
      api.db.dataSource,
      'Edges',
      ['edges.test'],
      [{ local: 'boss', role: 'tenant_admin' }, { local: 'dana', role: 'domain_admin' }, { local: 'uma' }, { local: 'ulf' }],
      TEST_PASSWORD,
    );
    dadmin = await api.login(address('dana'), TEST_PASSWORD);
    // A grant of the tenant admin's, so revoking it ({address}) meets the role rule, not a missing grant.
    const boss = t.mailboxes.find((m) => m.role === 'tenant_admin')!;
    await api.db.dataSource.query(`INSERT INTO mailbox_send_as (tenant_id, mailbox_id, address, granted_by) VALUES ($1, $2, $3, 'edges')`, [
      t.id, boss.id, address('ulf'),
    ]);
    const doc = (await (await fetch(`${api.url}/api/docs-json`)).json()) as Json;
    for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
      if (!path.includes('{mailbox}')) continue;
      for (const method of ['get', 'post', 'put', 'patch', 'delete']) if (item[method]) operations.push({ key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path });
    }
  });
  afterAll(() => api?.close());

  const snapshot = async (id: string) =>
    JSON.stringify(
      await api.db.dataSource.query(
        `SELECT m.*, (SELECT row_to_json(d) FROM mailbox_delivery d WHERE d.mailbox_id = m.id) AS delivery FROM mailbox m WHERE m.id = $1`,
        [id],
      ),
    );

  it('is refused at every route that changes the mailbox or reads its private settings, and nothing changes', async () => {
    expect(operations.length).toBeGreaterThanOrEqual(9);
    const boss = t.mailboxes.find((m) => m.role === 'tenant_admin')!;
    const before = await snapshot(boss.id);
    const answers: string[] = [];
    for (const op of operations) {
      for (const ref of [boss.address, boss.id]) {
        const body = BODIES[op.key]?.(boss.address, address('dana'));
        const path = op.path.replace('{mailbox}', encodeURIComponent(ref)).replace('{address}', encodeURIComponent(address('ulf'))).replace('{name}', SCRIPT);
        const res = await api.request(op.method, path, { token: dadmin, ...(body ? { body } : {}) });
        const expected = READABLE.has(op.key) ? 200 : 403;
        answers.push(`${op.key} ${ref === boss.id ? 'by id' : 'by address'} → ${res.status}${res.status === expected ? '' : ` (expected ${expected}: ${JSON.stringify(res.body)})`}`);
      }
    }
    // Bulk delete names mailboxes in its body.
    const bulk = await api.request('POST', '/api/mailboxes/delete', { token: dadmin, body: { addresses: [boss.address] } });
    answers.push(`POST /api/mailboxes/delete → ${bulk.status}${bulk.status === 403 ? '' : ' (expected 403)'}`);
    expect(answers.filter((a) => a.includes('expected'))).toEqual([]);
    expect(await snapshot(boss.id)).toBe(before);
  });

  it("goes through for a user's mailbox (positive control)", async () => {
    const uma = t.mailboxes.find((m) => m.address === address('uma'))!;
    const failures: string[] = [];
    const seeded = await api.request('POST', `/api/mailboxes/${encodeURIComponent(uma.address)}/sieve/scripts`, { token: dadmin, body: { name: SCRIPT, content: 'keep;' } });
    expect(seeded.status).toBe(201);
    for (const op of operations) {
      if (op.method === 'DELETE') continue;
      const body = BODIES[op.key]?.(uma.address, address('dana'));
      const res = await api.request(op.method, op.path.replace('{mailbox}', encodeURIComponent(uma.address)).replace('{name}', SCRIPT), { token: dadmin, ...(body ? { body } : {}) });
      if (res.status >= 300) failures.push(`${op.key} → ${res.status} ${JSON.stringify(res.body)}`);
    }
    expect(failures).toEqual([]);
  });

  it("exports the domain without the hash of a mailbox the caller may not manage", async () => {
    const csv = await api.request('GET', '/api/domains/edges.test/mailboxes/export', { token: dadmin });
    expect(csv.status).toBe(200);
    const lines = String(csv.body).trim().split('\n');
    const bossLine = lines.find((l) => l.startsWith(address('boss')))!;
    const ulfLine = lines.find((l) => l.startsWith(address('ulf')))!;
    expect(bossLine).not.toContain('$argon2id$');
    expect(bossLine.split(',').at(-1)).toBe('');
    expect(ulfLine).toContain('$argon2id$');
    // A tenant admin exports every hash of the domain.
    const full = await api.request('GET', '/api/domains/edges.test/mailboxes/export', { token: await api.login(address('boss'), TEST_PASSWORD) });
    expect(String(full.body).split('\n').find((l) => l.startsWith(address('boss')))).toContain('$argon2id$');
  });

  it('neutralises spreadsheet formulas in exported cells, and imports them back unchanged', async () => {
    const boss = await api.login(address('boss'), TEST_PASSWORD);
    const names = ['=HYPERLINK("http://evil.test","x")', '+1+1', '-2+3', '@SUM(A1)'];
    for (const [i, displayName] of names.entries()) {
      expect((await api.request('POST', '/api/mailboxes', { token: boss, body: { address: address(`f${i}`), displayName, password: 'Formula-pass-1' } })).status).toBe(201);
    }
    const plus = await api.request('POST', '/api/mailboxes', { token: boss, body: { address: '-dash@edges.test', password: 'Formula-pass-1' } });
    expect(plus.status).toBe(201);
    const csv = String((await api.request('GET', '/api/domains/edges.test/mailboxes/export', { token: boss })).body);
    const cells = csv.split('\n').flatMap((l) => l.split(',')).map((c) => c.replace(/^"|"$/g, ''));
    expect(cells.filter((c) => /^[=+\-@]/.test(c))).toEqual([]);
    expect(csv).toContain("'-dash@edges.test");
    expect(csv).toContain("'+1+1");
    // The same file imported into another domain keeps the names and addresses as they were.
    expect((await api.request('POST', '/api/domains', { token: boss, body: { name: 'edges2.test' } })).status).toBe(201);
    const moved = await api.request('POST', '/api/domains/edges2.test/mailboxes/import?rehome=true', { token: boss, raw: { contentType: 'text/csv', data: csv } });
    expect(moved.status).toBe(202);
    for (let i = 0; i < 100; i++) {
      if ((await api.request('GET', `/api/imports/${moved.body.jobId}`, { token: boss })).body.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const rows: { address: string; display_name: string }[] = await api.db.dataSource.query(
      `SELECT address, display_name FROM mailbox WHERE address LIKE '%@edges2.test' ORDER BY address`,
    );
    expect(rows.map((r) => r.display_name).filter((n) => names.includes(n)).sort()).toEqual([...names].sort());
    expect(rows.map((r) => r.address)).toContain('-dash@edges2.test');
  });
});
