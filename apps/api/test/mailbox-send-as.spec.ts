/** "Send as" grants of a mailbox: domain admins of the mailbox and of the address grant and revoke; owners read. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant, SeededTenant } from './tenancy-fixture';

describe('mailbox send-as identities', () => {
  let api: TestApi;
  let acme: SeededTenant;
  const token: Record<string, string> = {};

  beforeAll(async () => {
    api = await startTestApi();
    acme = await seedTenant(
      api.db.dataSource,
      'Acme',
      ['acme.test', 'sales.acme.test'],
      [
        { local: 'lee' },
        { local: 'info' },
        { local: 'dom', role: 'domain_admin' },
        { local: 'boss', role: 'tenant_admin' },
        { local: 'sam', domain: 'sales.acme.test', role: 'domain_admin' },
        { local: 'desk', domain: 'sales.acme.test' },
      ],
      TEST_PASSWORD,
    );
    await seedTenant(api.db.dataSource, 'Beacon', ['beacon.test'], [{ local: 'eve', role: 'tenant_admin' }], TEST_PASSWORD);
    for (const a of ['lee@acme.test', 'dom@acme.test', 'boss@acme.test', 'sam@sales.acme.test', 'eve@beacon.test']) token[a] = await api.login(a, TEST_PASSWORD);
  });
  afterAll(() => api?.close());

  const path = (mailbox: string, address?: string) =>
    `/api/mailboxes/${encodeURIComponent(mailbox)}/send-as${address ? `/${encodeURIComponent(address)}` : ''}`;
  const grant = (who: string, mailbox: string, address: string) => api.request('POST', path(mailbox), { token: token[who], body: { address } });
  const list = (who: string, mailbox: string) => api.request('GET', path(mailbox), { token: token[who] });
  const revoke = (who: string, mailbox: string, address: string) => api.request('DELETE', path(mailbox, address), { token: token[who] });
  const rows = async () => api.db.dataSource.query(`SELECT m.address AS mailbox, g.address, g.granted_by FROM mailbox_send_as g JOIN mailbox m ON m.id = g.mailbox_id ORDER BY 1, 2`);

  it('lets the domain admin grant an address of the domain, stored in lookup form, audited, and shown to the owner', async () => {
    const r = await grant('dom@acme.test', 'lee@acme.test', 'Info@ACME.test');
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toEqual({ address: 'info@acme.test', grantedBy: 'dom@acme.test', createdAt: expect.any(String) });
    expect(await rows()).toEqual([{ mailbox: 'lee@acme.test', address: 'info@acme.test', granted_by: 'dom@acme.test' }]);
    const shown = await list('lee@acme.test', 'lee@acme.test');
    expect(shown.status).toBe(200);
    expect(shown.body).toEqual({ mailbox: 'lee@acme.test', identities: [r.body] });
    const [event] = await api.db.dataSource.query(`SELECT actor_name, tenant_id, after FROM audit_event WHERE action = 'mailbox.send_as.grant'`);
    expect(event).toMatchObject({ actor_name: 'dom@acme.test', tenant_id: acme.id, after: { mailbox: 'lee@acme.test', address: 'info@acme.test' } });
    expect((await grant('dom@acme.test', 'lee@acme.test', 'info@acme.test')).status).toBe(409);
  });

  it('refuses users, admins of other domains and tenants, outside addresses and the mailbox\'s own address', async () => {
    // the user may read but not grant herself anything
    expect((await grant('lee@acme.test', 'lee@acme.test', 'boss@acme.test')).status).toBe(403);
    // sam administers sales.acme.test: not lee's domain, and dom does not administer sales.acme.test
    expect([403, 404]).toContain((await grant('sam@sales.acme.test', 'lee@acme.test', 'desk@sales.acme.test')).status);
    expect([403, 404]).toContain((await grant('dom@acme.test', 'lee@acme.test', 'desk@sales.acme.test')).status);
    expect((await grant('eve@beacon.test', 'lee@acme.test', 'eve@beacon.test')).status).toBe(404);
    const outside = await grant('dom@acme.test', 'lee@acme.test', 'ceo@bigbank.example');
    expect(outside.status).toBe(400);
    expect(outside.body.message).toContain('not a domain hosted here');
    expect((await grant('boss@acme.test', 'lee@acme.test', 'lee@acme.test')).status).toBe(400);
    expect((await grant('boss@acme.test', 'lee@acme.test', '*@acme.test')).status).toBe(400);
    expect((await grant('boss@acme.test', 'lee@acme.test', 'not an address')).status).toBe(400);
    expect((await list('eve@beacon.test', 'lee@acme.test')).status).toBe(404);
    // the tenant admin administers both domains
    expect((await grant('boss@acme.test', 'lee@acme.test', 'desk@sales.acme.test')).status).toBe(201);
    expect((await rows()).map((r: { address: string }) => r.address)).toEqual(['desk@sales.acme.test', 'info@acme.test']);
  });

  it('revokes a grant (domain admins only), audited; a second revoke is 404', async () => {
    expect((await revoke('lee@acme.test', 'lee@acme.test', 'info@acme.test')).status).toBe(403);
    expect((await revoke('dom@acme.test', 'lee@acme.test', 'INFO@acme.test')).status).toBe(204);
    expect((await revoke('dom@acme.test', 'lee@acme.test', 'info@acme.test')).status).toBe(404);
    expect((await rows()).map((r: { address: string }) => r.address)).toEqual(['desk@sales.acme.test']);
    const [event] = await api.db.dataSource.query(`SELECT before FROM audit_event WHERE action = 'mailbox.send_as.revoke'`);
    expect(event.before).toMatchObject({ mailbox: 'lee@acme.test', address: 'info@acme.test' });
  });

  it('goes with its mailbox', async () => {
    await api.db.dataSource.query(`DELETE FROM mailbox WHERE address = 'lee@acme.test'`);
    expect(await rows()).toEqual([]);
  });
});
