/** Registration codes: issuing, tamper rejection, redeeming, replacing, revoking, and the limits a redeemed code puts on a tenant. */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRegistrationCode } from '@dizi/auth/registration-code';
import { ApiError } from '../src/common/api-error';
import { SystemKeyService } from '../src/modules/auth/system-key.service';
import { LimitsService } from '../src/modules/tenants/limits.service';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { hashOnce } from './tenancy-fixture';

describe('registration codes', () => {
  let api: TestApi;
  let op: string;
  let harbour: string; // tenant A
  let quay: string; // tenant B
  let harbourAdmin: string;
  let quayAdmin: string;
  let harbourUser: string;

  const createTenant = async (name: string, extra: Record<string, unknown> = {}) => {
    const r = await api.request('POST', '/api/tenants', { token: op, body: { name, ...extra } });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const createDomain = (tenantId: string, name: string, token = op) => api.request('POST', '/api/domains', { token, body: { tenantId, name } });
  const addMailbox = async (tenantId: string, domain: string, local: string, role = 'user') => {
    const [d] = await api.db.dataSource.query(`SELECT id FROM domain WHERE name = $1`, [domain]);
    await api.db.dataSource.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, role, password_hash, quota_bytes) VALUES ($1, $2, $3, $4, $5, $6, 1048576)`,
      [tenantId, d.id, local, `${local}@${domain}`, role, await hashOnce(TEST_PASSWORD)],
    );
    return `${local}@${domain}`;
  };
  const issue = (body: Record<string, unknown>, token = op) => api.request('POST', '/api/registration-codes', { token, body });
  const redeem = (body: Record<string, unknown>, token: string) => api.request('POST', '/api/registration-codes/redeem', { token, body });
  const codeRow = async (id: string) => (await api.db.dataSource.query(`SELECT * FROM registration_code WHERE id = $1`, [id]))[0];
  const domainCount = async (tenantId: string) => (await api.db.dataSource.query(`SELECT count(*)::int AS n FROM domain WHERE tenant_id = $1`, [tenantId]))[0].n;

  /** Replaces one character of the payload or signature part with another base64url character. */
  const tamper = (code: string, part: 'payload' | 'signature') => {
    const dot = code.indexOf('.');
    const at = part === 'payload' ? 'DIZI1-'.length + 10 : dot + 20;
    return code.slice(0, at) + (code[at] === 'A' ? 'B' : 'A') + code.slice(at + 1);
  };

  beforeAll(async () => {
    api = await startTestApi();
    op = await api.operatorToken();
    harbour = await createTenant('Harbour Mail');
    quay = await createTenant('Quay Post');
    expect((await createDomain(harbour, 'harbour.example')).status).toBe(201);
    expect((await createDomain(quay, 'quay.example')).status).toBe(201);
    harbourAdmin = await api.login(await addMailbox(harbour, 'harbour.example', 'postmaster', 'tenant_admin'), TEST_PASSWORD);
    quayAdmin = await api.login(await addMailbox(quay, 'quay.example', 'postmaster', 'tenant_admin'), TEST_PASSWORD);
    harbourUser = await api.login(await addMailbox(harbour, 'harbour.example', 'deckhand'), TEST_PASSWORD);
  });
  afterAll(() => api?.close());

  it('lets operators issue a signed code that binds a normalised domain, and shows the code only once', async () => {
    const r = await issue({ domain: ' Shop.Harbour.Example. ', maxDomains: 2, maxMailboxes: 4 });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ domain: 'shop.harbour.example', maxDomains: 2, maxMailboxes: 4, status: 'issued', tenantId: null, issuedBy: 'op', expiresAt: null });
    expect(r.body.code).toMatch(/^DIZI1-[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$/);
    const row = await codeRow(r.body.id);
    expect(row).toMatchObject({ domain: 'shop.harbour.example', max_domains: 2, max_mailboxes: 4, tenant_id: null, revoked_at: null });

    const again = await api.request('GET', `/api/registration-codes/${r.body.id}`, { token: op });
    expect(again.status).toBe(200);
    expect(again.body.code).toBeUndefined();
    expect(again.body.status).toBe('issued');

    const [event] = await api.db.dataSource.query(`SELECT action, after::text AS after FROM audit_event WHERE object_id = $1`, [r.body.id]);
    expect(event.action).toBe('registration_code.issue');
    expect(event.after).toContain('shop.harbour.example');
    expect(event.after).not.toContain(r.body.code.split('.')[1]);
  });

  it('refuses bad issue requests naming the field, and non-operators', async () => {
    const zero = await issue({ domain: 'x.example', maxDomains: 0, maxMailboxes: 4 });
    expect(zero.status).toBe(400);
    expect(zero.body.field).toBe('maxDomains');
    const badDomain = await issue({ domain: 'no spaces.example', maxDomains: 1, maxMailboxes: 1 });
    expect(badDomain.status).toBe(400);
    expect(badDomain.body.field).toBe('domain');
    const past = await issue({ domain: 'x.example', maxDomains: 1, maxMailboxes: 1, expiresAt: '2020-01-01T00:00:00Z' });
    expect(past.status).toBe(400);
    expect(past.body.field).toBe('expiresAt');
    expect((await issue({ domain: 'x.example', maxDomains: 1, maxMailboxes: 1 }, harbourAdmin)).status).toBe(403);
    const [{ n }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM registration_code WHERE domain = 'x.example'`);
    expect(n).toBe(0);
  });

  it('rejects a tampered code with 400 naming the code and saying the signature does not match', async () => {
    const { body } = await issue({ domain: 'tamper.example', maxDomains: 3, maxMailboxes: 10 });
    for (const part of ['payload', 'signature'] as const) {
      const r = await redeem({ code: tamper(body.code, part) }, harbourAdmin);
      expect(r.status).toBe(400);
      expect(r.body.field).toBe('code');
      expect(r.body.message).toMatch(/signature does not match/);
    }
    // Correctly formed and signed, but by a key that is not this installation's.
    const foreign = signRegistrationCode(
      { v: 1, id: body.id, domain: 'tamper.example', maxDomains: 900, maxMailboxes: 900, issuedAt: new Date().toISOString() },
      generateKeyPairSync('ed25519').privateKey,
    );
    const r = await redeem({ code: foreign }, harbourAdmin);
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/signature does not match/);
    const garbage = await redeem({ code: 'hello' }, harbourAdmin);
    expect(garbage.status).toBe(400);
    expect(garbage.body.field).toBe('code');
    expect(garbage.body.message).toMatch(/malformed/);
    expect((await codeRow(body.id)).tenant_id).toBeNull();
  });

  it('binds a code to the redeeming tenant and then refuses domains and mailboxes past its maxima', async () => {
    const { body } = await issue({ domain: 'shop.harbour.example', maxDomains: 2, maxMailboxes: 4 });
    // Pasted with line breaks, as from an e-mail.
    const pasted = `${body.code.slice(0, 50)}\n${body.code.slice(50)}\n`;
    const r = await redeem({ code: pasted }, harbourAdmin);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: body.id, status: 'redeemed', tenantId: harbour });
    const row = await codeRow(body.id);
    expect(row.tenant_id).toBe(harbour);
    expect(row.redeemed_at).not.toBeNull();

    // Redeeming it again for the same tenant changes nothing.
    const again = await redeem({ code: body.code }, harbourAdmin);
    expect(again.status).toBe(200);
    expect((await codeRow(body.id)).redeemed_at).toEqual(row.redeemed_at);

    expect((await createDomain(harbour, 'shop.harbour.example', harbourAdmin)).status).toBe(201);
    const third = await createDomain(harbour, 'third.harbour.example', harbourAdmin);
    expect(third.status).toBe(409);
    expect(third.body.error).toBe('limit_reached');
    expect(third.body.field).toBe('name');
    expect(third.body.message).toBe('domain limit reached: the tenant\'s registration code allows 2 domains and the tenant has 2');
    expect(await domainCount(harbour)).toBe(2);

    // Mailboxes: the tenant has 2 (postmaster, deckhand); the code allows 4.
    const createMailbox = (address: string) => api.request('POST', '/api/mailboxes', { token: harbourAdmin, body: { address, password: TEST_PASSWORD } });
    expect((await createMailbox('bosun@harbour.example')).status).toBe(201);
    expect((await createMailbox('sales@shop.harbour.example')).status).toBe(201);
    const fifth = await createMailbox('cook@harbour.example');
    expect(fifth.status).toBe(409);
    expect(fifth.body.error).toBe('limit_reached');
    expect(fifth.body.message).toBe("mailbox limit reached: the tenant's registration code allows 4 mailboxes and the tenant has 4");
    const [{ n }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM mailbox WHERE tenant_id = $1`, [harbour]);
    expect(n).toBe(4);

    // The same check, where every path that adds mailboxes (single, batch, import) goes through it.
    const limits = api.app.get(LimitsService);
    const check = (count: number) =>
      api.db.dataSource.transaction(async (m) => {
        const [d] = await m.query(`SELECT id FROM domain WHERE name = 'harbour.example'`);
        await limits.assertCanAddMailboxes(m, harbour, d.id, { count, quotaBytes: 0 });
      });
    const refused = await check(3).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(409);
    expect((refused as ApiError).message).toBe("mailbox limit reached: the tenant's registration code allows 4 mailboxes and the tenant has 4; adding 3 would make 7");
    // At the maximum but not over it: a quota change (count 0) still passes.
    await expect(check(0)).resolves.toBeUndefined();
  });

  it('refuses a code already redeemed by another tenant, or whose domain another tenant owns', async () => {
    const [held] = await api.db.dataSource.query(`SELECT id FROM registration_code WHERE tenant_id = $1`, [harbour]);
    const taken = await issue({ domain: 'harbour.example', maxDomains: 5, maxMailboxes: 50 });
    const r = await redeem({ code: taken.body.code }, quayAdmin);
    expect(r.status).toBe(409);
    expect(r.body.field).toBe('code');
    expect(r.body.message).toMatch(/domain harbour\.example belongs to another tenant/);
    expect((await codeRow(taken.body.id)).tenant_id).toBeNull();

    // The code harbour holds cannot be issued again, so borrow its id for a code signed with the installation's own key.
    // The installation's key as the API holds it (sealed at rest: the row's text is no PEM).
    const key = await api.app.get(SystemKeyService).get('registration-code');
    const row = await codeRow(held.id);
    const copy = signRegistrationCode(
      { v: 1, id: row.id, domain: row.domain, maxDomains: row.max_domains, maxMailboxes: row.max_mailboxes, issuedAt: new Date().toISOString() },
      key.privateKey,
    );
    const stolen = await redeem({ code: copy, tenantId: quay }, op);
    expect(stolen.status).toBe(409);
    expect(stolen.body.message).toMatch(/already redeemed by another tenant/);
    expect((await codeRow(held.id)).tenant_id).toBe(harbour);

    const unknown = signRegistrationCode(
      { v: 1, id: randomUUID(), domain: 'ghost.example', maxDomains: 1, maxMailboxes: 1, issuedAt: new Date().toISOString() },
      key.privateKey,
    );
    const u = await redeem({ code: unknown, tenantId: quay }, op);
    expect(u.status).toBe(409);
    expect(u.body.message).toMatch(/no record of the registration code/);
  });

  it("refuses a code whose maxima the tenant's current counts already exceed, saying both numbers", async () => {
    const fewMailboxes = await issue({ domain: 'harbour.example', maxDomains: 5, maxMailboxes: 3 });
    const m = await redeem({ code: fewMailboxes.body.code }, harbourAdmin);
    expect(m.status).toBe(409);
    expect(m.body.error).toBe('limit_reached');
    expect(m.body.message).toBe("the tenant has 4 mailboxes, more than the code's maximum of 3 mailboxes");

    const fewDomains = await issue({ domain: 'harbour.example', maxDomains: 1, maxMailboxes: 50 });
    const d = await redeem({ code: fewDomains.body.code }, harbourAdmin);
    expect(d.status).toBe(409);
    expect(d.body.message).toBe("the tenant has 2 domains, more than the code's maximum of 1 domains");

    // quay has one domain; a code for a domain it does not have yet needs room for that one too.
    const noRoom = await issue({ domain: 'new.quay.example', maxDomains: 1, maxMailboxes: 50 });
    const q = await redeem({ code: noRoom.body.code }, quayAdmin);
    expect(q.status).toBe(409);
    expect(q.body.message).toBe("the tenant has 1 domains plus the code's domain new.quay.example still to be created, more than the code's maximum of 1 domains");

    const planFull = await createTenant('Pier Mail', { maxDomains: 1 });
    expect((await createDomain(planFull, 'pier.example')).status).toBe(201);
    const plan = await issue({ domain: 'more.pier.example', maxDomains: 5, maxMailboxes: 5 });
    const p = await redeem({ code: plan.body.code, tenantId: planFull }, op);
    expect(p.status).toBe(409);
    expect(p.body.message).toMatch(/the tenant's plan allows 1 domains and it has 1, so it could not create the code's domain more\.pier\.example/);

    const [{ n }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM registration_code WHERE id = ANY($1) AND tenant_id IS NOT NULL`, [
      [fewMailboxes.body.id, fewDomains.body.id, noRoom.body.id, plan.body.id],
    ]);
    expect(n).toBe(0);
  });

  it('replaces the tenant\'s code when an operator redeems a new one for it, revoking the old in the same change', async () => {
    const [old] = await api.db.dataSource.query(`SELECT id FROM registration_code WHERE tenant_id = $1 AND revoked_at IS NULL`, [harbour]);
    const bigger = await issue({ domain: 'harbour.example', maxDomains: 3, maxMailboxes: 10 });
    expect((await redeem({ code: bigger.body.code }, op)).body.field).toBe('tenantId');
    const r = await redeem({ code: bigger.body.code, tenantId: harbour }, op);
    expect(r.status).toBe(200);
    expect(r.body.tenantId).toBe(harbour);
    const active = await api.db.dataSource.query(`SELECT id FROM registration_code WHERE tenant_id = $1 AND revoked_at IS NULL`, [harbour]);
    expect(active.map((x: { id: string }) => x.id)).toEqual([bigger.body.id]);
    expect((await codeRow(old.id)).revoked_at).not.toBeNull();
    const events = await api.db.dataSource.query(`SELECT action, object_id, tenant_id FROM audit_event WHERE object_id = ANY($1) AND action <> 'registration_code.issue' ORDER BY id`, [
      [old.id, bigger.body.id],
    ]);
    expect(events.slice(-2)).toEqual([
      { action: 'registration_code.replace', object_id: old.id, tenant_id: harbour },
      { action: 'registration_code.redeem', object_id: bigger.body.id, tenant_id: harbour },
    ]);
    expect((await createDomain(harbour, 'third.harbour.example', harbourAdmin)).status).toBe(201);
    const fourth = await createDomain(harbour, 'fourth.harbour.example', harbourAdmin);
    expect(fourth.status).toBe(409);
    expect(fourth.body.message).toMatch(/allows 3 domains and the tenant has 3/);
  });

  it('scopes reading: operators see every code, tenant admins only their tenant\'s, others nothing', async () => {
    const all = await api.request('GET', '/api/registration-codes?limit=500', { token: op });
    expect(all.status).toBe(200);
    const [{ n }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM registration_code`);
    expect(all.body.total).toBe(n);
    expect(all.body.items.every((c: any) => c.code === undefined)).toBe(true);

    const own = await api.request('GET', '/api/registration-codes', { token: harbourAdmin });
    expect(own.status).toBe(200);
    expect(own.body.total).toBe(2); // the replaced one and the active one
    expect(own.body.items.every((c: any) => c.tenantId === harbour)).toBe(true);
    const redeemed = await api.request('GET', '/api/registration-codes?status=redeemed', { token: harbourAdmin });
    expect(redeemed.body.items.map((c: any) => c.maxDomains)).toEqual([3]);

    expect((await api.request('GET', '/api/registration-codes', { token: quayAdmin })).body.total).toBe(0);
    expect((await api.request('GET', `/api/registration-codes?tenantId=${harbour}`, { token: quayAdmin })).status).toBe(404);
    expect((await api.request('GET', '/api/registration-codes', { token: harbourUser })).status).toBe(403);

    const unbound = all.body.items.find((c: any) => c.tenantId === null);
    expect((await api.request('GET', `/api/registration-codes/${unbound.id}`, { token: harbourAdmin })).status).toBe(404);
    expect((await api.request('GET', `/api/registration-codes/${redeemed.body.items[0].id}`, { token: quayAdmin })).status).toBe(404);
    expect((await api.request('GET', `/api/registration-codes/${redeemed.body.items[0].id}`, { token: harbourAdmin })).status).toBe(200);
    expect((await api.request('GET', '/api/registration-codes/not-an-id', { token: op })).status).toBe(404);

    // Tenant admins redeem only for their own tenant.
    const spare = await issue({ domain: 'spare.example', maxDomains: 5, maxMailboxes: 5 });
    expect((await redeem({ code: spare.body.code, tenantId: harbour }, quayAdmin)).status).toBe(404);
    expect((await redeem({ code: spare.body.code }, harbourUser)).status).toBe(403);
    expect((await codeRow(spare.body.id)).tenant_id).toBeNull();
  });

  it('revokes a code: it can no longer be redeemed and no longer limits its tenant', async () => {
    const [active] = await api.db.dataSource.query(`SELECT id FROM registration_code WHERE tenant_id = $1 AND revoked_at IS NULL`, [harbour]);
    expect((await api.request('POST', `/api/registration-codes/${active.id}/revoke`, { token: harbourAdmin })).status).toBe(403);
    const r = await api.request('POST', `/api/registration-codes/${active.id}/revoke`, { token: op });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('revoked');
    expect((await codeRow(active.id)).revoked_at).not.toBeNull();
    expect((await api.request('POST', `/api/registration-codes/${active.id}/revoke`, { token: op })).status).toBe(409);
    expect((await createDomain(harbour, 'fourth.harbour.example', harbourAdmin)).status).toBe(201);

    const spare = await issue({ domain: 'revoked.example', maxDomains: 9, maxMailboxes: 9 });
    await api.request('POST', `/api/registration-codes/${spare.body.id}/revoke`, { token: op });
    const refused = await redeem({ code: spare.body.code }, quayAdmin);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/was revoked/);
  });

  it('refuses an expired code with 409', async () => {
    const soon = await issue({ domain: 'soon.example', maxDomains: 2, maxMailboxes: 2, expiresAt: new Date(Date.now() + 1000).toISOString() });
    expect(soon.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const r = await redeem({ code: soon.body.code }, quayAdmin);
    expect(r.status).toBe(409);
    expect(r.body.field).toBe('code');
    expect(r.body.message).toMatch(/expired/);
    expect((await api.request('GET', `/api/registration-codes/${soon.body.id}`, { token: op })).body.status).toBe('expired');
  });

  it('documents request and response schemas in OpenAPI', () => {
    const paths = api.openApi.paths;
    const schemaOf = (r: any) => r?.content?.['application/json']?.schema?.$ref;
    expect(JSON.stringify(paths['/api/registration-codes']!.post!.requestBody)).toMatch(/CreateRegistrationCodeDto/);
    expect(schemaOf(paths['/api/registration-codes']!.post!.responses['201'])).toMatch(/IssuedRegistrationCodeDto/);
    expect(schemaOf(paths['/api/registration-codes']!.get!.responses['200'])).toMatch(/RegistrationCodePageDto/);
    expect(JSON.stringify(paths['/api/registration-codes/redeem']!.post!.requestBody)).toMatch(/RedeemRegistrationCodeDto/);
    expect(schemaOf(paths['/api/registration-codes/redeem']!.post!.responses['200'])).toMatch(/RegistrationCodeDto/);
    expect(schemaOf(paths['/api/registration-codes/{id}']!.get!.responses['200'])).toMatch(/RegistrationCodeDto/);
    expect(schemaOf(paths['/api/registration-codes/{id}/revoke']!.post!.responses['200'])).toMatch(/RegistrationCodeDto/);
  });
});
