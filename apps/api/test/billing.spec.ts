/**
 * Billing through the API (issue 17), with the real `stripe` SDK against the Stripe stand-in: the plan catalogue and
 * its sync to Stripe, plan changes that set limits (downgrades refused with what to remove), Checkout and Customer
 * Portal links for tenant admins, invoices, manual billing by operators, and usage as JSON and CSV.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StripeStandIn } from '@dizi/testing/stripe-stand-in';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant, SeededTenant } from './tenancy-fixture';

describe('billing API', () => {
  let api: TestApi;
  let stand: StripeStandIn;
  let op: string;
  let acme: SeededTenant;
  let other: SeededTenant;
  let acmeAdmin: string;
  let acmeUser: string;
  let otherAdmin: string;
  const q = (sql: string, params: unknown[] = []) => api.db.dataSource.query(sql, params);

  beforeAll(async () => {
    stand = await new StripeStandIn().start();
    api = await startTestApi({
      STRIPE_SECRET_KEY: 'sk_test_api', STRIPE_API_HOST: '127.0.0.1', STRIPE_API_PORT: String(stand.port), STRIPE_API_PROTOCOL: 'http',
      BILLING_RETURN_URL: 'http://portal.test/admin/billing',
    });
    op = await api.operatorToken();
    acme = await seedTenant(api.db.dataSource, 'Acme', ['acme.test', 'acme2.test'], [{ local: 'boss', role: 'tenant_admin' }, { local: 'u1' }, { local: 'u2' }], TEST_PASSWORD);
    other = await seedTenant(api.db.dataSource, 'Other', ['other.test'], [{ local: 'boss', role: 'tenant_admin' }], TEST_PASSWORD);
    acmeAdmin = await api.login('boss@acme.test', TEST_PASSWORD);
    acmeUser = await api.login('u1@acme.test', TEST_PASSWORD);
    otherAdmin = await api.login('boss@other.test', TEST_PASSWORD);
  });
  afterAll(async () => {
    await api?.close();
    await stand?.stop();
  });

  const plan = (body: unknown, token = op) => api.request('POST', '/api/plans', { token, body });

  it('operators create plans, synced to Stripe products and prices; nobody else writes the catalogue', async () => {
    const r = await plan({ code: 'small', name: 'Small 小型', priceMonthCents: 500, priceYearCents: 5000, maxDomains: 1, maxMailboxes: 2, maxStorageBytes: 5e9, maxDailySends: 200, protocols: ['smtp', 'imap'], trialDays: 14 });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ code: 'small', name: 'Small 小型', currency: 'usd', maxDomains: 1, protocols: ['smtp', 'imap'], trialDays: 14, billing: 'stripe', stripeProductId: 'dizi_plan_small' });
    const month = stand.prices.get(r.body.stripePriceMonthId)!;
    const year = stand.prices.get(r.body.stripePriceYearId)!;
    expect(month).toMatchObject({ unit_amount: 500, lookup_key: 'dizi_small_month', recurring: { interval: 'month' } });
    expect(year).toMatchObject({ unit_amount: 5000, lookup_key: 'dizi_small_year', recurring: { interval: 'year' } });
    expect((await plan({ code: 'big', name: 'Big', priceMonthCents: 5000, maxDomains: 10, maxMailboxes: 1000 })).status).toBe(201);
    expect((await plan({ code: 'bank', name: 'Invoice by bank transfer', billing: 'manual', maxDomains: 3 })).body).toMatchObject({ billing: 'manual', stripeProductId: null });

    expect((await plan({ code: 'mine', name: 'Mine' }, acmeAdmin)).status).toBe(403);
    const dup = await plan({ code: 'small', name: 'Again' });
    expect(dup).toMatchObject({ status: 409, body: { field: 'code' } });
    const bad = await plan({ code: 'Not A Code', name: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('code');
    expect((await q(`SELECT code FROM plan ORDER BY code`)).map((p: { code: string }) => p.code)).toEqual(['bank', 'big', 'small']);
    const list = await api.request('GET', '/api/plans', { token: acmeAdmin });
    expect(list.body.items.map((p: { code: string }) => p.code)).toEqual(['bank', 'small', 'big']);
    expect(Object.keys(api.openApi.paths)).toEqual(expect.arrayContaining(['/api/plans', '/api/tenants/{id}/plan', '/api/tenants/{id}/billing/checkout', '/api/usage']));
  });

  it('a plan change sets the tenant limits at once; a downgrade below current use is refused with what to remove first', async () => {
    const up = await api.request('PUT', `/api/tenants/${acme.id}/plan`, { token: op, body: { plan: 'big' } });
    expect(up.status).toBe(200);
    expect(await q(`SELECT plan, max_domains, max_mailboxes FROM tenant WHERE id = $1`, [acme.id])).toEqual([{ plan: 'big', max_domains: 10, max_mailboxes: 1000 }]);
    // The limits bite at once: an 11th domain is refused by the existing limit checks.
    const down = await api.request('PUT', `/api/tenants/${acme.id}/plan`, { token: op, body: { plan: 'small' } });
    expect(down.status).toBe(409);
    expect(down.body.message).toContain('remove 1 domain(s): the tenant has 2, plan "small" allows 1');
    expect(down.body.message).toContain('remove 1 mailbox(es): the tenant has 3, plan "small" allows 2');
    expect(await q(`SELECT plan, max_domains FROM tenant WHERE id = $1`, [acme.id])).toEqual([{ plan: 'big', max_domains: 10 }]);
    expect((await api.request('PUT', `/api/tenants/${acme.id}/plan`, { token: op, body: { plan: 'nope' } })).status).toBe(400);
    // Without a Stripe subscription only operators move a tenant.
    expect((await api.request('PUT', `/api/tenants/${acme.id}/plan`, { token: acmeAdmin, body: { plan: 'bank' } })).status).toBe(403);
    expect((await api.request('PUT', `/api/tenants/${acme.id}/plan`, { token: otherAdmin, body: { plan: 'bank' } })).status).toBe(404);
    const audit = await q(`SELECT action, actor_name FROM audit_event WHERE tenant_id = $1 AND action = 'billing.plan_change'`, [acme.id]);
    expect(audit).toEqual([{ action: 'billing.plan_change', actor_name: 'op' }]);
  });

  it('new plan limits reach every tenant on the plan, unless one uses more', async () => {
    await api.request('PUT', `/api/tenants/${other.id}/plan`, { token: op, body: { plan: 'small' } });
    const ok = await api.request('PATCH', '/api/plans/small', { token: op, body: { maxMailboxes: 5 } });
    expect(ok.status).toBe(200);
    // What the PATCH left out stays.
    expect(ok.body).toMatchObject({ maxMailboxes: 5, priceMonthCents: 500, maxDomains: 1, trialDays: 14, protocols: ['smtp', 'imap'] });
    expect((await q(`SELECT max_mailboxes FROM tenant WHERE id = $1`, [other.id]))[0].max_mailboxes).toBe(5);
    const tooSmall = await api.request('PATCH', '/api/plans/small', { token: op, body: { maxMailboxes: 0 } });
    expect(tooSmall.status).toBe(409);
    expect(tooSmall.body.message).toContain('Other: remove 1 mailbox(es)');
    expect((await q(`SELECT max_mailboxes FROM plan WHERE code = 'small'`))[0].max_mailboxes).toBe(5);
    expect((await api.request('DELETE', '/api/plans/small', { token: op })).status).toBe(409);
  });

  it('tenant admins get a Checkout link for their own tenant; the link opens at Stripe', async () => {
    const r = await api.request('POST', `/api/tenants/${acme.id}/billing/checkout`, { token: acmeAdmin, body: { plan: 'big' } });
    expect(r.status).toBe(200);
    expect(r.body.url).toMatch(new RegExp(`^${stand.url}/checkout/cs_test_`));
    const page = await fetch(r.body.url);
    expect(page.status).toBe(200);
    const session = [...stand.checkoutSessions.values()].at(-1)!;
    expect(session).toMatchObject({ mode: 'subscription', client_reference_id: acme.id, success_url: 'http://portal.test/admin/billing?checkout=done' });
    expect(session.line_items).toEqual([{ price: (await q(`SELECT stripe_price_month_id FROM plan WHERE code = 'big'`))[0].stripe_price_month_id, quantity: '1' }]);
    expect(session.subscription_data.metadata).toEqual({ tenant_id: acme.id, plan: 'big' });
    const [b] = await q(`SELECT stripe_customer_id FROM tenant_billing WHERE tenant_id = $1`, [acme.id]);
    expect(stand.customers.get(b.stripe_customer_id)!.metadata).toEqual({ tenant_id: acme.id });
    // Again: the same customer.
    await api.request('POST', `/api/tenants/${acme.id}/billing/checkout`, { token: acmeAdmin, body: { plan: 'big' } });
    expect(stand.customers.size).toBe(1);

    expect((await api.request('POST', `/api/tenants/${acme.id}/billing/checkout`, { token: acmeUser, body: { plan: 'big' } })).status).toBe(403);
    expect((await api.request('POST', `/api/tenants/${acme.id}/billing/checkout`, { token: otherAdmin, body: { plan: 'big' } })).status).toBe(404);
    const downgrade = await api.request('POST', `/api/tenants/${acme.id}/billing/checkout`, { token: acmeAdmin, body: { plan: 'small' } });
    expect(downgrade.status, JSON.stringify(downgrade.body)).toBe(409);
    expect(downgrade.body.message).toContain('remove 1 domain(s)');
    expect((await api.request('POST', `/api/tenants/${acme.id}/billing/checkout`, { token: acmeAdmin, body: { plan: 'bank' } })).status).toBe(400);
  });

  it('a subscribed tenant changes plan with Stripe prorating, opens the Customer Portal and lists its invoices', async () => {
    const session = [...stand.checkoutSessions.values()].at(-1)!;
    stand.completeCheckout(session.id);
    const sub = [...stand.subscriptions.values()].at(-1)!;
    // What the webhook would record (the billing process's job, tested there).
    await q(`UPDATE tenant_billing SET stripe_subscription_id = $2, status = 'active' WHERE tenant_id = $1`, [acme.id, sub.id]);
    await plan({ code: 'mid', name: 'Mid', priceMonthCents: 2000, maxDomains: 3, maxMailboxes: 50 });
    const r = await api.request('PUT', `/api/tenants/${acme.id}/plan`, { token: acmeAdmin, body: { plan: 'mid' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ plan: 'mid', status: 'active', stripeSubscriptionId: sub.id });
    expect(sub.items.data[0].price.lookup_key).toBe('dizi_mid_month');
    expect(await q(`SELECT max_domains, max_mailboxes FROM tenant WHERE id = $1`, [acme.id])).toEqual([{ max_domains: 3, max_mailboxes: 50 }]);

    const portal = await api.request('POST', `/api/tenants/${acme.id}/billing/portal`, { token: acmeAdmin });
    expect(portal.status).toBe(200);
    expect(portal.body.url).toMatch(new RegExp(`^${stand.url}/portal/`));
    expect((await api.request('POST', `/api/tenants/${other.id}/billing/portal`, { token: op })).status).toBe(409);
    const invoices = await api.request('GET', `/api/tenants/${acme.id}/billing/invoices`, { token: acmeAdmin });
    expect(invoices.status).toBe(200);
    expect(invoices.body.items).toHaveLength(1);
    expect(invoices.body.items[0]).toMatchObject({ status: 'paid', amountDue: 5000, amountPaid: 5000, currency: 'usd' });
  });

  it('operators bill by hand: a manual status suspends and restores the tenant, audited; admins cannot', async () => {
    expect((await api.request('PATCH', `/api/tenants/${other.id}/billing`, { token: otherAdmin, body: { status: 'suspended' } })).status).toBe(403);
    const s = await api.request('PATCH', `/api/tenants/${other.id}/billing`, { token: op, body: { mode: 'manual', status: 'suspended' } });
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({ mode: 'manual', status: 'suspended' });
    expect((await q(`SELECT status FROM tenant WHERE id = $1`, [other.id]))[0].status).toBe('suspended');
    // The mailbox's sign-in says why.
    const login = await api.request('POST', '/api/auth/login', { body: { username: 'boss@other.test', password: TEST_PASSWORD } });
    expect(login.status).toBe(403);
    expect(login.body.message).toMatch(/unpaid/);
    const a = await api.request('PATCH', `/api/tenants/${other.id}/billing`, { token: op, body: { status: 'active' } });
    expect(a.body.status).toBe('active');
    expect((await q(`SELECT status FROM tenant WHERE id = $1`, [other.id]))[0].status).toBe('active');
    const audit = await q(`SELECT action, actor_name FROM audit_event WHERE tenant_id = $1 AND action LIKE 'billing.%' AND action <> 'billing.plan_change' ORDER BY id`, [other.id]);
    expect(audit).toEqual([{ action: 'billing.suspended', actor_name: 'op' }, { action: 'billing.active', actor_name: 'op' }]);
  });

  it('usage per tenant and day or month, as JSON and CSV; tenant admins see only their own', async () => {
    await q(
      `INSERT INTO usage_daily (tenant_id, day, mailboxes_peak, storage_bytes_peak, sent_outside, received, closed_at) VALUES
         ($1, '2026-03-01', 3, 2000000000, 10, 40, now()), ($1, '2026-03-02', 4, 3000000000, 5, 60, now()), ($2, '2026-03-01', 1, 0, 0, 2, now())`,
      [acme.id, other.id],
    );
    const days = await api.request('GET', '/api/usage?from=2026-03-01&to=2026-03-31', { token: op });
    expect(days.status).toBe(200);
    expect(days.body.items).toHaveLength(3);
    const month = await api.request('GET', `/api/usage?from=2026-03-01&to=2026-03-31&period=month&tenantId=${acme.id}`, { token: op });
    expect(month.body.items).toEqual([{ tenantId: acme.id, period: '2026-03', mailboxesPeak: 4, storageGbDays: 5, sentOutside: 15, received: 100, closed: true }]);
    const own = await api.request('GET', '/api/usage?from=2026-03-01&to=2026-03-31', { token: acmeAdmin });
    expect(own.body.items.map((r: { tenantId: string }) => r.tenantId)).toEqual([acme.id, acme.id]);
    expect((await api.request('GET', `/api/usage?tenantId=${other.id}`, { token: acmeAdmin })).status).toBe(404);
    expect((await api.request('GET', '/api/usage', { token: acmeUser })).status).toBe(403);
    const csv = await api.request('GET', '/api/usage?from=2026-03-01&to=2026-03-31&period=month&format=csv', { token: acmeAdmin });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.body).toBe(`tenant_id,period,mailboxes_peak,storage_gb_days,sent_outside,received,closed\r\n${acme.id},2026-03,4,5,15,100,true\r\n`);
    expect((await api.request('GET', '/api/usage?from=2026-03-10&to=2026-03-01', { token: op })).status).toBe(400);
  });
});

describe('billing API without Stripe', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api?.close());

  it('runs with manual billing only: plans still set limits, Checkout says Stripe is not configured', async () => {
    const op = await api.operatorToken();
    const t = await seedTenant(api.db.dataSource, 'Solo', ['solo.test'], [{ local: 'boss', role: 'tenant_admin' }], TEST_PASSWORD);
    expect((await api.request('POST', '/api/plans', { token: op, body: { code: 'basic', name: 'Basic', priceMonthCents: 100, maxMailboxes: 10 } })).body.stripeProductId).toBeNull();
    expect((await api.request('PUT', `/api/tenants/${t.id}/plan`, { token: op, body: { plan: 'basic' } })).status).toBe(200);
    expect((await api.db.dataSource.query(`SELECT max_mailboxes FROM tenant WHERE id = $1`, [t.id]))[0].max_mailboxes).toBe(10);
    const admin = await api.login('boss@solo.test', TEST_PASSWORD);
    const r = await api.request('POST', `/api/tenants/${t.id}/billing/checkout`, { token: admin, body: { plan: 'basic' } });
    expect(r.status).toBe(409);
    expect(r.body.message).toMatch(/Stripe is not configured/);
    expect((await api.request('GET', `/api/tenants/${t.id}/billing`, { token: admin })).body).toMatchObject({ plan: 'basic', status: 'none', stripeEnabled: false });
  });
});
