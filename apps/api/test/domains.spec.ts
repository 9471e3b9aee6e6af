/** Domains: names validated and normalised, one tenant each, settings by role, default domain, confirmed delete. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant, SeededTenant } from './tenancy-fixture';

describe('domains', () => {
  let api: TestApi;
  let op: string;
  let t: SeededTenant;
  let other: SeededTenant;
  let admin: string;
  let domainAdmin: string;
  const q = (sql: string, params: unknown[] = []) => api.db.dataSource.query(sql, params);
  const create = (body: unknown, token = op) => api.request('POST', '/api/domains', { token, body });

  beforeAll(async () => {
    api = await startTestApi();
    op = await api.operatorToken();
    t = await seedTenant(api.db.dataSource, 'Quay Mail', ['quay.test'], [
      { local: 'boss', role: 'tenant_admin' }, { local: 'deb', role: 'domain_admin' }, { local: 'uma' },
    ], TEST_PASSWORD);
    other = await seedTenant(api.db.dataSource, 'Pier Mail', ['pier.test'], [], TEST_PASSWORD);
    admin = await api.login('boss@quay.test', TEST_PASSWORD);
    domainAdmin = await api.login('deb@quay.test', TEST_PASSWORD);
  });
  afterAll(() => api?.close());

  it('stores an international name in punycode and finds it by either form', async () => {
    const r = await create({ name: '例子.测试', tenantId: t.id });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: 'xn--fsqu00a.xn--0zwm56d', unicodeName: '例子.测试', tenantId: t.id, status: 'active', isDefault: false });
    const [row] = await q(`SELECT name, unicode_name, dkim_private_key IS NOT NULL AS has_key FROM domain WHERE id = $1`, [r.body.id]);
    expect(row).toEqual({ name: 'xn--fsqu00a.xn--0zwm56d', unicode_name: '例子.测试', has_key: true });
    for (const form of ['例子.测试', 'xn--fsqu00a.xn--0zwm56d', 'XN--FSQU00A.XN--0ZWM56D', 'xn--fsqu00a.xn--0zwm56d.', r.body.id]) {
      const got = await api.request('GET', `/api/domains/${encodeURIComponent(form)}`, { token: admin });
      expect(got.status, form).toBe(200);
      expect(got.body.id).toBe(r.body.id);
    }
    // The same domain again, written the other way, is taken.
    expect((await create({ name: 'XN--FSQU00A.xn--0zwm56d', tenantId: t.id })).status).toBe(409);
  });

  it('lower-cases names, and refuses bad ones naming `name`', async () => {
    const r = await create({ name: ' MiXeD-Case.TEST. ' }, admin);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: 'mixed-case.test', tenantId: t.id });
    for (const bad of ['localhost', 'bad domain.test', '-dash.test', 'a..test', 'user@host.test', 'x'.repeat(64) + '.test', '1.2.3.4', '']) {
      const res = await create({ name: bad, tenantId: t.id });
      expect(res.status, bad).toBe(400);
      expect(res.body.field, bad).toBe('name');
    }
    const [{ n }] = await q(`SELECT count(*)::int AS n FROM domain WHERE tenant_id = $1`, [t.id]);
    expect(n).toBe(3);
  });

  it('gives a domain to exactly one tenant: a name another tenant uses is 409', async () => {
    const r = await create({ name: 'PIER.test' }, admin);
    expect(r.status).toBe(409);
    expect(r.body.field).toBe('name');
    const [row] = await q(`SELECT tenant_id FROM domain WHERE name = 'pier.test'`);
    expect(row.tenant_id).toBe(other.id);
    // Tenant admins create in their own tenant only.
    expect((await create({ name: 'sneaky.test', tenantId: other.id }, admin)).status).toBe(404);
    expect((await create({ name: 'sneaky.test' }, domainAdmin)).status).toBe(403);
    expect((await create({ name: 'sneaky.test', tenantId: t.id }, domainAdmin)).status).toBe(403);
    expect((await q(`SELECT 1 FROM domain WHERE name = 'sneaky.test'`)).length).toBe(0);
  });

  it('refuses a domain beyond the tenant plan', async () => {
    await q(`UPDATE tenant SET max_domains = 3 WHERE id = $1`, [t.id]);
    const r = await create({ name: 'fourth.test' }, admin);
    expect(r.status).toBe(409);
    expect(r.body.error).toBe('limit_reached');
    await q(`UPDATE tenant SET max_domains = NULL WHERE id = $1`, [t.id]);
  });

  it('lists domains by scope, with search', async () => {
    const mine = await api.request('GET', '/api/domains', { token: admin });
    expect(mine.body.items.map((d: { name: string }) => d.name)).toEqual(['mixed-case.test', 'quay.test', 'xn--fsqu00a.xn--0zwm56d']);
    const own = await api.request('GET', '/api/domains', { token: domainAdmin });
    expect(own.body.items.map((d: { name: string }) => d.name)).toEqual(['quay.test']);
    expect((await api.request('GET', '/api/domains?q=例子', { token: admin })).body.items).toHaveLength(1);
    expect((await api.request('GET', `/api/domains?tenantId=${other.id}`, { token: op })).body.items.map((d: { name: string }) => d.name)).toEqual(['pier.test']);
    expect((await api.request('GET', `/api/domains?tenantId=${other.id}`, { token: admin })).status).toBe(404);
    expect((await api.request('GET', '/api/domains', { token: await api.login('uma@quay.test', TEST_PASSWORD) })).status).toBe(403);
  });

  it('lets the domain admin change every domain setting of their domain', async () => {
    const settings = {
      heloName: 'mx1.quay.test',
      allowRegistration: true,
      smtpEnabled: false,
      pop3Enabled: false,
      imapEnabled: false,
      localOnly: true,
      mailboxDefaultQuotaBytes: 2048,
      mailboxMaxQuotaBytes: 4096,
      mailboxDailySendLimit: 250,
    };
    const r = await api.request('PATCH', '/api/domains/quay.test', { token: domainAdmin, body: settings });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject(settings);
    const [row] = await q(
      `SELECT helo_name, allow_registration, smtp_enabled, pop3_enabled, imap_enabled, local_only, mailbox_default_quota_bytes,
              mailbox_max_quota_bytes, mailbox_daily_send_limit FROM domain WHERE name = 'quay.test'`,
    );
    expect(row).toEqual({
      helo_name: 'mx1.quay.test', allow_registration: true, smtp_enabled: false, pop3_enabled: false, imap_enabled: false, local_only: true,
      mailbox_default_quota_bytes: '2048', mailbox_max_quota_bytes: '4096', mailbox_daily_send_limit: 250,
    });
    const back = await api.request('PATCH', `/api/domains/${t.domains[0].id}`, { token: domainAdmin, body: { heloName: null, mailboxMaxQuotaBytes: null, mailboxDailySendLimit: null } });
    expect(back.body).toMatchObject({ heloName: null, mailboxMaxQuotaBytes: null, mailboxDailySendLimit: null });
    const dns = await api.request('GET', '/api/domains/quay.test/dns', { token: domainAdmin });
    expect(dns.status).toBe(200);
    expect(dns.body.records.map((x: { type: string; name: string }) => `${x.type} ${x.name}`)).toEqual([
      'MX quay.test', 'TXT quay.test', 'TXT dizi._domainkey.quay.test', 'TXT _dmarc.quay.test',
      'SRV _submissions._tcp.quay.test', 'SRV _submission._tcp.quay.test', 'SRV _imaps._tcp.quay.test', 'SRV _pop3s._tcp.quay.test',
      'SRV _autodiscover._tcp.quay.test', 'TXT _mta-sts.quay.test',
    ]);
  });

  it('refuses bad settings naming the field', async () => {
    const helo = await api.request('PATCH', '/api/domains/quay.test', { token: domainAdmin, body: { heloName: 'not a host' } });
    expect(helo.status).toBe(400);
    expect(helo.body.field).toBe('heloName');
    const quota = await api.request('PATCH', '/api/domains/quay.test', { token: domainAdmin, body: { mailboxDefaultQuotaBytes: 10, mailboxMaxQuotaBytes: 5 } });
    expect(quota.status).toBe(400);
    expect(quota.body.field).toBe('mailboxDefaultQuotaBytes');
    const unknown = await api.request('PATCH', '/api/domains/quay.test', { token: domainAdmin, body: { tenantId: other.id } });
    expect(unknown.status).toBe(400);
    const [row] = await q(`SELECT tenant_id, mailbox_default_quota_bytes FROM domain WHERE name = 'quay.test'`);
    expect(row).toEqual({ tenant_id: t.id, mailbox_default_quota_bytes: '2048' });
  });

  it('keeps limits and status for tenant admins, and the default domain for operators', async () => {
    for (const body of [{ status: 'disabled' }, { maxStorageBytes: 1 }, { maxMailboxes: 1 }, { isDefault: true }]) {
      const r = await api.request('PATCH', '/api/domains/quay.test', { token: domainAdmin, body });
      expect(r.status, JSON.stringify(body)).toBe(403);
    }
    const limits = await api.request('PATCH', '/api/domains/quay.test', { token: admin, body: { maxStorageBytes: 10 ** 9, maxMailboxes: 10 } });
    expect(limits.status).toBe(200);
    expect(limits.body).toMatchObject({ maxStorageBytes: 10 ** 9, maxMailboxes: 10 });
    // Three mailboxes live there: a limit of two does not fit.
    const tooLow = await api.request('PATCH', '/api/domains/quay.test', { token: admin, body: { maxMailboxes: 2 } });
    expect(tooLow.status).toBe(400);
    expect(tooLow.body.field).toBe('maxMailboxes');
    expect((await api.request('PATCH', '/api/domains/quay.test', { token: admin, body: { isDefault: true } })).status).toBe(403);

    expect((await api.request('PATCH', '/api/domains/quay.test', { token: op, body: { isDefault: true } })).body.isDefault).toBe(true);
    expect((await api.request('PATCH', '/api/domains/pier.test', { token: op, body: { isDefault: true } })).body.isDefault).toBe(true);
    const defaults = await q(`SELECT name FROM domain WHERE is_default`);
    expect(defaults).toEqual([{ name: 'pier.test' }]);
  });

  it('deletes a domain with its mailboxes only when the request repeats its name, and audits it', async () => {
    const d = await create({ name: 'doomed-domain.test' }, admin);
    await q(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes) VALUES ($1, $2, 'x', 'x@doomed-domain.test', 'h', 0), ($1, $2, 'y', 'y@doomed-domain.test', 'h', 0)`,
      [t.id, d.body.id],
    );
    expect((await api.request('DELETE', '/api/domains/doomed-domain.test', { token: domainAdmin, body: { confirm: 'doomed-domain.test' } })).status).toBe(404);
    const none = await api.request('DELETE', '/api/domains/doomed-domain.test', { token: admin });
    expect(none.status).toBe(400);
    expect(none.body.field).toBe('confirm');
    const wrong = await api.request('DELETE', '/api/domains/doomed-domain.test', { token: admin, body: { confirm: 'quay.test' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.field).toBe('confirm');
    expect((await q(`SELECT count(*)::int AS n FROM mailbox WHERE domain_id = $1`, [d.body.id]))[0].n).toBe(2);

    const ok = await api.request('DELETE', '/api/domains/doomed-domain.test', { token: admin, body: { confirm: 'DOOMED-domain.test' } });
    expect(ok.status).toBe(204);
    expect((await api.request('GET', `/api/domains/${d.body.id}`, { token: admin })).status).toBe(404);
    expect((await q(`SELECT count(*)::int AS n FROM mailbox WHERE domain_id = $1`, [d.body.id]))[0].n).toBe(0);
    const [audit] = await q(`SELECT actor_name, tenant_id, before FROM audit_event WHERE action = 'domain.delete' AND object_id = $1`, [d.body.id]);
    expect(audit.actor_name).toBe('boss@quay.test');
    expect(audit.tenant_id).toBe(t.id);
    expect(audit.before).toMatchObject({ name: 'doomed-domain.test', usage: { mailboxes: 2 } });
    expect(audit.before.dkimPrivateKey).toBeUndefined();
  });

  it('deletes an international domain confirmed by its unicode name', async () => {
    const ok = await api.request('DELETE', `/api/domains/${encodeURIComponent('例子.测试')}`, { token: admin, body: { confirm: '例子.测试' } });
    expect(ok.status).toBe(204);
    expect((await q(`SELECT 1 FROM domain WHERE name = 'xn--fsqu00a.xn--0zwm56d'`)).length).toBe(0);
  });
});
