/** Sign-ins and refused sign-ins land in the audit trail, where operators (and the tenant's admins) read them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant, SeededTenant } from './tenancy-fixture';

describe('sign-in audit', () => {
  let api: TestApi;
  let op: string;
  let acme: SeededTenant;

  beforeAll(async () => {
    api = await startTestApi();
    op = await api.operatorToken('olga');
    acme = await seedTenant(api.db.dataSource, 'Acme', ['acme.test'], [{ local: 'boss', role: 'tenant_admin' }], TEST_PASSWORD);
  });
  afterAll(async () => {
    await api?.close();
  });

  const events = async (action: string, token = op) => (await api.request('GET', `/api/audit?action=${action}`, { token })).body.items;

  it('records a mailbox sign-in with the mailbox and its tenant', async () => {
    await api.login('boss@acme.test', TEST_PASSWORD);
    const [e] = await events('auth.login');
    expect(e).toMatchObject({ action: 'auth.login', objectType: 'mailbox', objectId: acme.mailboxes[0].id, tenantId: acme.id, actor: { kind: 'mailbox', name: 'boss@acme.test', role: 'tenant_admin' } });
  });

  it("records a refused mailbox sign-in for the address's tenant, without the password", async () => {
    const r = await api.request('POST', '/api/auth/login', { body: { username: 'Boss@Acme.test', password: 'wrong-password-xyz' } });
    expect(r.status).toBe(401);
    const [e] = await events('auth.login.failed');
    expect(e).toMatchObject({ objectType: 'mailbox', tenantId: acme.id, actor: { kind: 'mailbox', name: 'boss@acme.test' }, after: { reason: 'bad credentials', status: 401 } });
    expect(JSON.stringify(e)).not.toContain('wrong-password-xyz');
    // The tenant's own admin sees the attack on their mailbox.
    const admin = await api.login('boss@acme.test', TEST_PASSWORD);
    expect((await events('auth.login.failed', admin)).length).toBe(1);
  });

  it('records operator sign-ins and refusals', async () => {
    const r = await api.request('POST', '/api/auth/operator/login', { body: { username: 'olga', password: 'nope-nope' } });
    expect(r.status).toBe(401);
    const failed = await events('auth.login.failed');
    expect(failed[0]).toMatchObject({ objectType: 'operator_account', tenantId: null, actor: { kind: 'operator-account', id: 'operator:olga', role: 'operator' } });
    const ok = (await events('auth.login')).filter((e: any) => e.objectType === 'operator_account');
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok[0].actor).toMatchObject({ kind: 'operator-account', name: 'olga' });
  });

  it('takes an OpenID Connect sign-in report only with an OIDC token', async () => {
    const r = await api.request('POST', '/api/auth/oidc/sign-in', { token: op });
    expect(r.status).toBe(403);
    expect((await api.request('POST', '/api/auth/oidc/sign-in')).status).toBe(401);
  });
});
