/** Tenants and domains created through the API as the operator; mailboxes with a role inserted by SQL and signed in. */
import { expect } from 'vitest';
import type { MailboxRole } from '@dizi/domain/roles';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { hashOnce } from './tenancy-fixture';

export interface ApiDomain {
  id: string;
  tenantId: string;
  name: string;
}

export interface SignedInMailbox {
  id: string;
  address: string;
  token: string;
}

/** A tenant with its domains, made through POST /api/tenants and POST /api/domains. */
export async function createTenant(api: TestApi, op: string, name: string, domains: string[]): Promise<{ id: string; domains: ApiDomain[] }> {
  const t = await api.request('POST', '/api/tenants', { token: op, body: { name } });
  expect(t.status, JSON.stringify(t.body)).toBe(201);
  const out: ApiDomain[] = [];
  for (const d of domains) {
    const r = await api.request('POST', '/api/domains', { token: op, body: { tenantId: t.body.id, name: d } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    out.push({ id: r.body.id, tenantId: t.body.id, name: r.body.name });
  }
  return { id: t.body.id, domains: out };
}

export async function insertMailbox(
  api: TestApi,
  domain: ApiDomain,
  localPart: string,
  options: { role?: MailboxRole; displayName?: string; status?: 'active' | 'suspended' } = {},
): Promise<{ id: string; address: string }> {
  const address = `${localPart}@${domain.name}`;
  const [row] = await api.db.dataSource.query(
    `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes, role, display_name, status)
     VALUES ($1, $2, $3, $4, $5, 1048576, $6, $7, $8) RETURNING id`,
    [domain.tenantId, domain.id, localPart, address, await hashOnce(TEST_PASSWORD), options.role ?? 'user', options.displayName ?? '', options.status ?? 'active'],
  );
  return { id: row.id, address };
}

export async function signedInMailbox(api: TestApi, domain: ApiDomain, localPart: string, role: MailboxRole): Promise<SignedInMailbox> {
  const m = await insertMailbox(api, domain, localPart, { role });
  return { ...m, token: await api.login(m.address, TEST_PASSWORD) };
}

export async function auditActions(api: TestApi, objectId: string): Promise<string[]> {
  const rows: { action: string }[] = await api.db.dataSource.query(`SELECT action FROM audit_event WHERE object_id = $1 ORDER BY id`, [objectId]);
  return rows.map((r) => r.action);
}

/** Tenant Harbour (a.test, b.test) and tenant Other (c.test), with one signed-in mailbox per role that the specs act as. */
export interface HarbourWorld {
  api: TestApi;
  op: string;
  a: ApiDomain;
  b: ApiDomain;
  c: ApiDomain;
  /** boss@a.test, tenant admin of Harbour. */
  tenantAdmin: SignedInMailbox;
  adminA: SignedInMailbox;
  adminB: SignedInMailbox;
  /** ann@a.test, a plain user. */
  userA: SignedInMailbox;
  /** boss@c.test, tenant admin of Other: the outsider. */
  otherTenantAdmin: SignedInMailbox;
}

export async function startHarbourWorld(): Promise<HarbourWorld> {
  const api = await startTestApi();
  const op = await api.operatorToken();
  const [a, b] = (await createTenant(api, op, 'Harbour', ['a.test', 'b.test'])).domains;
  const [c] = (await createTenant(api, op, 'Other', ['c.test'])).domains;
  return {
    api, op, a, b, c,
    tenantAdmin: await signedInMailbox(api, a, 'boss', 'tenant_admin'),
    adminA: await signedInMailbox(api, a, 'admin', 'domain_admin'),
    adminB: await signedInMailbox(api, b, 'admin', 'domain_admin'),
    userA: await signedInMailbox(api, a, 'ann', 'user'),
    otherTenantAdmin: await signedInMailbox(api, c, 'boss', 'tenant_admin'),
  };
}
