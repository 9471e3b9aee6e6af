/**
 * A tenant's life on Stripe, end to end with the real SDK against the stand-in and a real mail node in its own
 * process: subscribe through Checkout → paid → usage reported → payment fails → past_due (mail flows) → grace
 * period over → suspended (RCPT 450, IMAP login refused) → paid → active; replays, reordering and a forged signature.
 */
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenForSessionEnds } from '@dizi/auth/session-ends';
import { TEST_REDIS_URL } from '@dizi/testing/test-database';
import type { StripeEventRecord } from '@dizi/testing/stripe-stand-in';
import { insertPlan, MAILBOX_PASSWORD, startBillingWorld, type BillingWorld } from './billing-fixture';
import { SmtpDialog, startMailNodeProcess, type MailNodeProcess } from './mail-node-process';

const DAY = 86_400_000;

describe('billing lifecycle on Stripe', () => {
  let w: BillingWorld;
  let node: MailNodeProcess;
  let tenant: Awaited<ReturnType<BillingWorld['seedTenant']>>;
  let subscriptionId = '';
  const events: StripeEventRecord[] = [];

  const deliverAll = async (list: StripeEventRecord[]) => {
    events.push(...list);
    for (const e of list) expect((await w.deliver(e)).status, e.type).toBe(200);
  };
  const billingRow = async () => (await w.q(`SELECT * FROM tenant_billing WHERE tenant_id = $1`, [tenant.tenantId]))[0];
  const tenantRow = async () => (await w.q(`SELECT * FROM tenant WHERE id = $1`, [tenant.tenantId]))[0];

  /** The reply to RCPT TO the tenant's mailbox from an outside sender. */
  const rcpt = async () => {
    const { dialog } = await SmtpDialog.open(node.smtpPort);
    await dialog.cmd('EHLO client.example.org');
    expect(await dialog.cmd('MAIL FROM:<someone@example.org>')).toMatch(/^250/);
    const reply = await dialog.cmd(`RCPT TO:<${tenant.address}>`);
    await dialog.quit();
    return reply;
  };

  /** IMAP LOGIN of the tenant's mailbox: 'ok' or the server's refusal. */
  const imapLogin = async (): Promise<string> => {
    const client = new ImapFlow({ host: '127.0.0.1', port: node.imapPort, secure: false, auth: { user: tenant.address, pass: MAILBOX_PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.logout();
      return 'ok';
    } catch (err) {
      const e = err as { serverResponseCode?: string; responseText?: string; message: string };
      return `${e.serverResponseCode ?? ''} ${e.responseText ?? e.message}`;
    }
  };

  /** RCPT answers are cached for up to a second on the node. */
  const eventually = async <T>(read: () => Promise<T>, want: (v: T) => boolean): Promise<T> => {
    let v = await read();
    for (let i = 0; i < 60 && !want(v); i++) {
      await new Promise((r) => setTimeout(r, 250));
      v = await read();
    }
    return v;
  };

  beforeAll(async () => {
    w = await startBillingWorld();
    tenant = await w.seedTenant('Paying Co', 'paying.test', 'starter');
    await insertPlan(w.q, 'business', { priceMonthCents: 2900, maxDomains: 5, maxMailboxes: 100, maxStorageBytes: 100e9 });
    node = await startMailNodeProcess({ DATABASE_URL: w.db.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: w.redisPrefix });
  }, 180_000);

  afterAll(async () => {
    await node?.close();
    await w?.close();
  });

  it('a webhook with a bad signature gets 400 and changes nothing', async () => {
    const forged = w.stand.event('invoice.paid', { id: 'in_forged', object: 'invoice' });
    const bad = await w.deliver(forged, w.stripe.webhooks.generateTestHeaderString({ payload: JSON.stringify(forged), secret: 'whsec_someone_else' }));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/signature/);
    const missing = await fetch(`${w.billing.url}/billing/webhooks/stripe`, { method: 'POST', body: JSON.stringify(forged) });
    expect(missing.status).toBe(400);
    expect(await w.q(`SELECT id FROM billing_event`)).toEqual([]);
    expect(await w.q(`SELECT 1 FROM tenant_billing`)).toEqual([]);
  });

  it('syncs the plan catalogue to Stripe products and prices, idempotently', async () => {
    const first = await w.billing.runJobs();
    expect(first.plansSynced).toBe(1);
    const [plan] = await w.q(`SELECT * FROM plan WHERE code = 'business'`);
    expect(plan.stripe_product_id).toBe('dizi_plan_business');
    const price = await w.stripe.prices.retrieve(plan.stripe_price_month_id);
    expect(price).toMatchObject({ unit_amount: 2900, currency: 'usd', lookup_key: 'dizi_business_month', product: 'dizi_plan_business', recurring: { interval: 'month' } });
    const again = await w.billing.runJobs();
    expect(again.plansSynced).toBe(0);
    expect(w.stand.prices.size).toBe(1);
    // A new price: a new Stripe Price takes over the lookup key, the old one is archived.
    await w.q(`UPDATE plan SET price_month_cents = 3900, updated_at = now() + interval '1 second' WHERE code = 'business'`);
    expect((await w.billing.runJobs()).plansSynced).toBe(1);
    const [after] = await w.q(`SELECT * FROM plan WHERE code = 'business'`);
    expect(after.stripe_price_month_id).not.toBe(plan.stripe_price_month_id);
    expect((await w.stripe.prices.retrieve(plan.stripe_price_month_id)).active).toBe(false);
    expect((await w.stripe.prices.retrieve(after.stripe_price_month_id)).unit_amount).toBe(3900);
  });

  it('subscribe through Checkout → paid: active on the plan with its limits; mail flows', async () => {
    const [plan] = await w.q(`SELECT stripe_price_month_id FROM plan WHERE code = 'business'`);
    const customer = await w.stripe.customers.create({ name: 'Paying Co', metadata: { tenant_id: tenant.tenantId } });
    const session = await w.stripe.checkout.sessions.create({
      mode: 'subscription', customer: customer.id, client_reference_id: tenant.tenantId, line_items: [{ price: plan.stripe_price_month_id, quantity: 1 }],
      subscription_data: { metadata: { tenant_id: tenant.tenantId } }, success_url: 'http://portal.test/admin/billing?done=1', cancel_url: 'http://portal.test/admin/billing',
    });
    await deliverAll(w.stand.completeCheckout(session.id));
    const b = await billingRow();
    subscriptionId = b.stripe_subscription_id;
    expect(b).toMatchObject({ status: 'active', mode: 'stripe', stripe_customer_id: customer.id, subscription_status: 'active', suspended_by_billing: false });
    expect(await tenantRow()).toMatchObject({ plan: 'business', max_domains: 5, max_mailboxes: 100, max_storage_bytes: String(100e9) });
    expect(await rcpt()).toMatch(/^250 /);
    const audit = await w.q(`SELECT action FROM audit_event WHERE tenant_id = $1 ORDER BY id`, [tenant.tenantId]);
    expect(audit.map((a: { action: string }) => a.action)).toEqual(['billing.active', 'billing.plan_change']);
  });

  it('closed days are reported to Stripe meters once, however often the job runs', async () => {
    const tomorrow = new Date(Date.now() + DAY);
    const first = await w.billing.runJobs(tomorrow);
    expect(first.closedDays).toContain(new Date().toISOString().slice(0, 10));
    expect(first.meterEvents).toBe(3);
    const ids = w.stand.meterEvents.map((e) => e.identifier);
    expect(w.stand.meterEvents.map((e) => [e.event_name, e.payload.value])).toEqual([
      ['dizi_mailboxes', '1'],
      ['dizi_storage_gb_days', '2'],
      ['dizi_sent_outside', '0'],
    ]);
    const second = await w.billing.runJobs(tomorrow);
    expect(second).toMatchObject({ closedDays: [], meterEvents: 0 });
    expect(w.stand.meterEvents.map((e) => e.identifier)).toEqual(ids);
    // A crash after Stripe took the events but before we marked the day: Stripe refuses the same identifiers.
    await w.q(`UPDATE usage_daily SET reported_at = NULL`);
    expect((await w.billing.runJobs(tomorrow)).meterEvents).toBe(0);
    expect(w.stand.meterEvents).toHaveLength(3);
  });

  it('payment fails → past_due (mail still flows) → after the grace period suspended (RCPT 450, IMAP refused) → paid → active', async () => {
    await deliverAll(w.stand.failPayment(subscriptionId));
    expect(await billingRow()).toMatchObject({ status: 'past_due', suspended_by_billing: false });
    expect((await tenantRow()).status).toBe('active');
    expect(await rcpt()).toMatch(/^250 /);
    expect(await imapLogin()).toBe('ok');

    const ended: string[] = [];
    const stopListening = await listenForSessionEnds(w.redis, w.redisPrefix, (ids) => ended.push(...ids), () => undefined);
    // Two days in: still within the three days' grace.
    expect((await w.billing.runJobs(new Date(Date.now() + 2 * DAY))).suspended).toEqual([]);
    const late = await w.billing.runJobs(new Date(Date.now() + 4 * DAY));
    expect(late.suspended).toEqual([tenant.tenantId]);
    expect(await billingRow()).toMatchObject({ status: 'suspended', suspended_by_billing: true });
    expect((await tenantRow()).status).toBe('suspended');
    // Open IMAP/POP3/SMTP sessions of its mailboxes are told to end, as when an operator suspends.
    expect(await eventually(async () => ended, (e) => e.length > 0)).toEqual([tenant.mailboxId]);
    await stopListening();
    expect(await eventually(rcpt, (r) => r.startsWith('450'))).toBe('450 4.2.1 Recipient address temporarily unavailable, try again later');
    const refused = await imapLogin();
    expect(refused).toMatch(/CONTACTADMIN/);
    expect(refused).toMatch(/unpaid/);
    // Stripe keeps saying past_due meanwhile: that does not lift the suspension.
    expect((await w.deliver(w.stand.event('customer.subscription.updated', w.stand.subscriptions.get(subscriptionId)!))).status).toBe(200);
    expect((await billingRow()).status).toBe('suspended');

    const [open] = [...w.stand.invoices.values()].filter((i) => i.status === 'open');
    await deliverAll(w.stand.payInvoice(open.id));
    expect(await billingRow()).toMatchObject({ status: 'active', suspended_by_billing: false, past_due_since: null });
    expect((await tenantRow()).status).toBe('active');
    expect(await eventually(rcpt, (r) => r.startsWith('250'))).toMatch(/^250 /);
    expect(await imapLogin()).toBe('ok');
    const audit = await w.q(`SELECT action, actor_name FROM audit_event WHERE tenant_id = $1 AND action IN ('billing.past_due', 'billing.payment_failed', 'billing.suspended', 'billing.active') ORDER BY id`, [tenant.tenantId]);
    expect(audit.map((a: { action: string }) => a.action)).toEqual(['billing.active', 'billing.past_due', 'billing.payment_failed', 'billing.suspended', 'billing.active']);
    expect(new Set(audit.map((a: { actor_name: string }) => a.actor_name))).toEqual(new Set(['billing']));
  });

  it('replayed and reordered webhooks change nothing: each event is stored once and state comes from the subscription as it is now', async () => {
    const stored = (await w.q(`SELECT count(*)::int AS n FROM billing_event`))[0].n;
    const auditBefore = (await w.q(`SELECT count(*)::int AS n FROM audit_event`))[0].n;
    // Every event again, oldest first and then newest first: the payment_failed and past_due ones included.
    for (const e of [...events, ...[...events].reverse()]) {
      const r = await w.deliver(e);
      expect(r.status).toBe(200);
      expect(r.body.duplicate).toBe(true);
    }
    // The same stale past_due content under new event ids (a late, out-of-order delivery): state is fetched, still active.
    const stale = events.filter((e) => e.type === 'invoice.payment_failed' || (e.type === 'customer.subscription.updated' && e.data.object.status === 'past_due'));
    expect(stale).toHaveLength(2);
    for (const e of stale) expect((await w.deliver({ ...e, id: `${e.id}_late` })).status).toBe(200);
    expect(await billingRow()).toMatchObject({ status: 'active', suspended_by_billing: false });
    expect((await w.q(`SELECT count(*)::int AS n FROM billing_event`))[0].n).toBe(stored + 2);
    // The late payment_failed is recorded as such; nothing else changed.
    const newAudit = await w.q(`SELECT action FROM audit_event ORDER BY id OFFSET $1`, [auditBefore]);
    expect(newAudit.map((a: { action: string }) => a.action)).toEqual(['billing.payment_failed']);
  });

  it('trial_will_end is recorded for the tenant', async () => {
    await deliverAll(w.stand.trialWillEnd(subscriptionId));
    const [a] = await w.q(`SELECT action FROM audit_event WHERE tenant_id = $1 AND action = 'billing.trial_will_end'`, [tenant.tenantId]);
    expect(a).toBeDefined();
  });
});
