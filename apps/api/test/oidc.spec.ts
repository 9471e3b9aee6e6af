/**
 * OIDC bearer tokens: oidc-provider runs as a local issuer and hands out real JWT access tokens
 * through the client_credentials grant, with Keycloak-style role and tenant claims.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant, SeededTenant } from './tenancy-fixture';

const AUDIENCE = 'dizi-api';
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

interface Issuer {
  url: string;
  privateKey: PrivateKey;
  kid: string;
  server: Server;
}

/** Claims each test client's tokens carry, filled in once the tenants exist. */
const clientClaims: Record<string, Record<string, unknown>> = {};

async function startIssuer(): Promise<Issuer> {
  const { default: Provider } = await import('oidc-provider');
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'dizi-test-key';
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };

  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const client = (id: string) => ({
    client_id: id,
    client_secret: `${id}-secret`,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
  });
  const provider = new Provider(url, {
    clients: ['operator', 'tenant-admin', 'tenant-admin-c', 'client-role', 'no-tenant', 'domain-admin', 'foreign-domain', 'other-audience', 'no-role', 'realm-role', 'plain-role-name', 'other-client'].map(client),
    jwks: { keys: [jwk] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'https://api.dizi.test',
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, _resource: string, c: { clientId: string }) => ({
          scope: 'api',
          audience: c.clientId === 'other-audience' ? 'some-other-api' : AUDIENCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 300,
        }),
      },
    },
    ttl: { ClientCredentials: 300 },
    extraTokenClaims: (_ctx: unknown, token: { clientId: string }) => clientClaims[token.clientId],
  });
  handler = provider.callback();
  return { url, privateKey, kid, server };
}

async function issue(issuer: Issuer, clientId: string): Promise<string> {
  const res = await fetch(`${issuer.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: `${clientId}-secret`, scope: 'api' }),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`token for ${clientId}: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

describe('OIDC bearer tokens', () => {
  let issuer: Issuer;
  let api: TestApi;
  let a: SeededTenant;
  let b: SeededTenant;
  let c: SeededTenant;
  const get = (path: string, token: string) => api.request('GET', path, { token });

  beforeAll(async () => {
    issuer = await startIssuer();
    api = await startTestApi({ OIDC_ISSUER: issuer.url, OIDC_AUDIENCE: AUDIENCE });
    a = await seedTenant(api.db.dataSource, 'Anchor Mail', ['anchor.test'], [{ local: 'amy' }], TEST_PASSWORD);
    b = await seedTenant(api.db.dataSource, 'Beacon Mail', ['beacon.test'], [{ local: 'ben' }], TEST_PASSWORD);
    c = await seedTenant(api.db.dataSource, 'Cove Mail', ['cove.test'], [], TEST_PASSWORD);
    // Keycloak issues a user's token to the client they signed in through (azp) and puts that
    // client's roles under resource_access.<client>; every legitimate token here is Dizi's client's.
    const dizi = (roles: string[], extra: Record<string, unknown> = {}) => ({ azp: 'dizi', resource_access: { dizi: { roles } }, ...extra });
    Object.assign(clientClaims, {
      operator: dizi(['offline_access', 'dizi-operator'], { preferred_username: 'olga' }),
      'tenant-admin': dizi(['dizi-tenant-admin'], { dizi_tenant: a.id, preferred_username: 'tina' }),
      'tenant-admin-c': dizi(['dizi-tenant-admin'], { dizi_tenant: c.id }),
      'client-role': { azp: 'dizi', resource_access: { dizi: { roles: ['dizi-tenant-admin'] }, other: { roles: ['dizi-operator'] } }, dizi_tenant: a.id },
      'no-tenant': dizi(['dizi-tenant-admin']),
      'domain-admin': dizi(['dizi-domain-admin'], { dizi_tenant: a.id, dizi_domain: a.domains[0].id }),
      'foreign-domain': dizi(['dizi-domain-admin'], { dizi_tenant: a.id, dizi_domain: b.domains[0].id }),
      'other-audience': dizi(['dizi-operator']),
      'no-role': dizi(['offline_access']),
      // Realm-wide roles, even named like ours, belong to the whole realm, not to Dizi.
      'realm-role': { azp: 'dizi', realm_access: { roles: ['dizi-operator', 'operator'] } },
      'plain-role-name': dizi(['operator', 'tenant_admin'], { dizi_tenant: a.id }),
      // Issued to another client of the realm that happens to list our audience.
      'other-client': { azp: 'webshop', resource_access: { dizi: { roles: ['dizi-operator'] } } },
    });
  });
  afterAll(async () => {
    await api?.close();
    await new Promise((resolve) => issuer?.server.close(resolve));
  });

  it('lets an operator token list every tenant', async () => {
    const token = await issue(issuer, 'operator');
    const me = await get('/api/auth/me', token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ role: 'operator', kind: 'oidc', id: 'oidc:operator', name: 'olga' });
    const list = await get('/api/tenants', token);
    expect(list.status).toBe(200);
    expect(list.body.items.map((t: { name: string }) => t.name).sort()).toEqual(['Anchor Mail', 'Beacon Mail', 'Cove Mail']);
  });

  it("limits a tenant-admin token to its tenant; another tenant's objects answer 404", async () => {
    const token = await issue(issuer, 'tenant-admin');
    expect((await get('/api/auth/me', token)).body).toMatchObject({ role: 'tenant_admin', tenantId: a.id });
    const list = await get('/api/tenants', token);
    expect(list.status).toBe(200);
    expect(list.body.items.map((t: { id: string }) => t.id)).toEqual([a.id]);
    expect((await get(`/api/tenants/${a.id}`, token)).status).toBe(200);
    expect((await get(`/api/tenants/${b.id}`, token)).status).toBe(404);
    expect((await get(`/api/domains/${b.domains[0].id}`, token)).status).toBe(404);
    expect((await get('/api/domains/beacon.test', token)).status).toBe(404);
    expect((await get('/api/domains/anchor.test', token)).status).toBe(200);
    const domains = await get('/api/domains', token);
    expect(domains.body.items.map((d: { name: string }) => d.name)).toEqual(['anchor.test']);
  });

  it('reads the role from resource_access of our client too (and not from other clients)', async () => {
    const token = await issue(issuer, 'client-role');
    const me = await get('/api/auth/me', token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ role: 'tenant_admin', tenantId: a.id });
  });

  it('gives a domain-admin token its own domain only', async () => {
    const token = await issue(issuer, 'domain-admin');
    expect((await get('/api/auth/me', token)).body).toMatchObject({ role: 'domain_admin', tenantId: a.id, domainId: a.domains[0].id });
    expect((await get('/api/domains/anchor.test', token)).status).toBe(200);
    expect((await get('/api/domains/beacon.test', token)).status).toBe(404);
    // A domain claim pointing into another tenant is not a way in.
    expect((await get('/api/auth/me', await issue(issuer, 'foreign-domain'))).status).toBe(401);
  });

  it('refuses tokens without a role, or a tenant role without its tenant claim', async () => {
    expect((await get('/api/auth/me', await issue(issuer, 'no-tenant'))).status).toBe(401);
    expect((await get('/api/auth/me', await issue(issuer, 'no-role'))).status).toBe(401);
  });

  it('reads only our client\'s dizi-* roles: not realm roles, not bare role names', async () => {
    expect((await get('/api/auth/me', await issue(issuer, 'realm-role'))).status).toBe(401);
    expect((await get('/api/auth/me', await issue(issuer, 'plain-role-name'))).status).toBe(401);
  });

  it('refuses a token issued to another client (azp), even for our audience', async () => {
    const token = await issue(issuer, 'other-client');
    expect(JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())).toMatchObject({ aud: AUDIENCE, azp: 'webshop' });
    expect((await get('/api/auth/me', token)).status).toBe(401);
  });

  it('checks the audience even when OIDC_AUDIENCE is unset (then it must be the client id)', async () => {
    const second = await startTestApi({ OIDC_ISSUER: issuer.url });
    try {
      const now = Math.floor(Date.now() / 1000) + 60;
      const forAudience = (aud: string) =>
        new SignJWT({ azp: 'dizi', resource_access: { dizi: { roles: ['dizi-operator'] } } })
          .setProtectedHeader({ alg: 'RS256', kid: issuer.kid, typ: 'at+jwt' })
          .setIssuer(issuer.url)
          .setAudience(aud)
          .setSubject('olga')
          .setIssuedAt(now - 300)
          .setExpirationTime(now)
          .sign(issuer.privateKey);
      expect((await second.request('GET', '/api/auth/me', { token: await forAudience('some-other-api') })).status).toBe(401);
      expect((await second.request('GET', '/api/auth/me', { token: await forAudience('dizi') })).status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('refuses a token for another audience', async () => {
    const token = await issue(issuer, 'other-audience');
    expect(JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).aud).toBe('some-other-api');
    expect((await get('/api/tenants', token)).status).toBe(401);
  });

  // The issuer will not mint expired or foreign tokens, so these are signed here with jose.
  const mint = (key: PrivateKey, kid: string, iss: string, expiresAt: number) =>
    new SignJWT({ azp: 'dizi', resource_access: { dizi: { roles: ['dizi-operator'] } } })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
      .setIssuer(iss)
      .setAudience(AUDIENCE)
      .setSubject('mallory')
      .setIssuedAt(expiresAt - 300)
      .setExpirationTime(expiresAt)
      .sign(key);

  it("accepts a token signed with the issuer's key (control for the refusals below)", async () => {
    const token = await mint(issuer.privateKey, issuer.kid, issuer.url, Math.floor(Date.now() / 1000) + 60);
    expect((await get('/api/auth/me', token)).status).toBe(200);
  });

  it('refuses an expired token', async () => {
    const token = await mint(issuer.privateKey, issuer.kid, issuer.url, Math.floor(Date.now() / 1000) - 60);
    expect((await get('/api/tenants', token)).status).toBe(401);
  });

  it('refuses a token from another issuer or signed with a key the issuer does not publish', async () => {
    const now = Math.floor(Date.now() / 1000) + 60;
    expect((await get('/api/tenants', await mint(issuer.privateKey, issuer.kid, 'http://127.0.0.1:1/realms/evil', now))).status).toBe(401);
    const { privateKey: stranger } = await generateKeyPair('RS256');
    expect((await get('/api/tenants', await mint(stranger, issuer.kid, issuer.url, now))).status).toBe(401);
    expect((await get('/api/tenants', await mint(stranger, 'unknown-kid', issuer.url, now))).status).toBe(401);
  });

  it("ends a tenant admin's access when the tenant is suspended", async () => {
    const token = await issue(issuer, 'tenant-admin-c');
    expect((await get(`/api/tenants/${c.id}`, token)).status).toBe(200);
    const op = await issue(issuer, 'operator');
    expect((await api.request('POST', `/api/tenants/${c.id}/suspend`, { token: op })).status).toBe(200);
    expect((await get(`/api/tenants/${c.id}`, token)).status).toBe(401);
    expect((await api.request('POST', `/api/tenants/${c.id}/resume`, { token: op })).status).toBe(200);
    expect((await get(`/api/tenants/${c.id}`, token)).status).toBe(200);
  });
});
