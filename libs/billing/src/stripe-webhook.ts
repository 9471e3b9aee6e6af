/**
 * Stripe webhook events: the signature is checked with the endpoint secret (the SDK's constructEvent), each event is
 * stored once by id, and the tenant's state is taken from the subscription as Stripe has it now (fetched), never
 * from the event's copy — so a replayed or out-of-order event changes nothing it should not.
 */
import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { applyPlanLimits, findPlanByStripePrice, type Queryable } from './plan-catalogue';
import { BILLING_SYSTEM, changeTenantBilling, lockTenantBilling, recordAudit, statusFromSubscription } from './billing-state';

export interface WebhookDeps {
  db: DataSource;
  stripe: Stripe;
  webhookSecret: string;
  log: Logger;
  /** After commit: end the sessions of these mailboxes (the tenant was suspended). */
  endSessions(mailboxIds: string[]): Promise<void>;
}

export interface WebhookReply {
  status: number;
  body: { received: boolean; duplicate?: boolean; error?: string };
}

/** The events that change a tenant; others are stored and acknowledged. */
export const HANDLED_EVENTS = new Set([
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.trial_will_end',
  'invoice.paid',
  'invoice.payment_failed',
]);

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export async function handleStripeWebhook(deps: WebhookDeps, rawBody: Buffer, signature: string | undefined): Promise<WebhookReply> {
  let event: Stripe.Event;
  try {
    if (!signature) throw new Error('no Stripe-Signature header');
    event = deps.stripe.webhooks.constructEvent(rawBody, signature, deps.webhookSecret);
  } catch (err) {
    deps.log.warn({ err: (err as Error).message }, 'stripe webhook refused: bad signature');
    return { status: 400, body: { received: false, error: `signature verification failed: ${(err as Error).message}` } };
  }
  const inserted = await deps.db.query(
    `INSERT INTO billing_event (id, type, created, payload) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [event.id, event.type, event.created, JSON.stringify(event)],
  );
  if (!inserted.length) {
    const [prior] = await deps.db.query(`SELECT processed_at FROM billing_event WHERE id = $1`, [event.id]);
    if (prior?.processed_at) return { status: 200, body: { received: true, duplicate: true } };
  }
  const started = process.hrtime.bigint();
  try {
    const endSessionsOf: string[] = [];
    await deps.db.transaction(async (m) => {
      // One event at a time per event id: a concurrent redelivery waits here, then sees it processed.
      const [row] = await m.query(`SELECT processed_at FROM billing_event WHERE id = $1 FOR UPDATE`, [event.id]);
      if (row.processed_at) return;
      const tenantId = HANDLED_EVENTS.has(event.type) ? await processEvent(deps, m, event, endSessionsOf) : null;
      await m.query(`UPDATE billing_event SET processed_at = now(), error = NULL, tenant_id = $2 WHERE id = $1`, [event.id, tenantId]);
    });
    if (endSessionsOf.length) await deps.endSessions(endSessionsOf);
    deps.log.info({ event: event.id, type: event.type, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'stripe webhook processed');
    return { status: 200, body: { received: true } };
  } catch (err) {
    deps.log.error({ err, event: event.id, type: event.type }, 'stripe webhook failed; Stripe will retry');
    await deps.db.query(`UPDATE billing_event SET error = $2 WHERE id = $1`, [event.id, String((err as Error).message ?? err)]);
    return { status: 500, body: { received: false, error: 'processing failed; retry later' } };
  }
}

async function processEvent(deps: WebhookDeps, m: Queryable, event: Stripe.Event, endSessionsOf: string[]): Promise<string | null> {
  const object = event.data.object as Obj;
  let subscriptionId: string | null = null;
  let tenantId: string | null = null;
  if (event.type === 'checkout.session.completed') {
    if (object.mode !== 'subscription') return null;
    tenantId = object.client_reference_id ?? object.metadata?.tenant_id ?? null;
    subscriptionId = idOf(object.subscription);
    if (tenantId && !(await tenantExists(m, tenantId))) tenantId = null;
    if (tenantId) {
      const r = await changeTenantBilling(m, BILLING_SYSTEM, tenantId, { mode: 'stripe', stripeCustomerId: idOf(object.customer), stripeSubscriptionId: subscriptionId });
      endSessionsOf.push(...r.endSessionsOf);
    }
  } else if (event.type.startsWith('customer.subscription.')) {
    subscriptionId = object.id;
  } else if (event.type.startsWith('invoice.')) {
    subscriptionId = idOf(object.parent?.subscription_details?.subscription ?? object.subscription);
  }
  if (!subscriptionId) return tenantId;
  // The subscription as it is now: the event may be old, replayed or out of order.
  const sub = (await deps.stripe.subscriptions.retrieve(subscriptionId)) as unknown as Obj;
  tenantId ??= await tenantOfSubscription(m, sub);
  if (!tenantId) {
    deps.log.warn({ event: event.id, subscription: subscriptionId }, 'stripe event for a subscription of no known tenant; ignored');
    return null;
  }
  const current = await lockTenantBilling(m, tenantId);
  let status = statusFromSubscription(sub.status);
  // Stripe still says past_due while our grace period has already suspended the tenant: that stays until paid.
  if (status === 'past_due' && current.status === 'suspended') status = 'suspended';
  const item = sub.items?.data?.[0];
  const periodEnd = item?.current_period_end ?? sub.current_period_end;
  const r = await changeTenantBilling(m, BILLING_SYSTEM, tenantId, {
    mode: 'stripe',
    status,
    stripeCustomerId: idOf(sub.customer),
    stripeSubscriptionId: sub.id,
    subscriptionStatus: sub.status,
    currentPeriodEnd: periodEnd ? new Date(periodEnd * 1000) : null,
    trialEnd: sub.trial_end ? new Date(sub.trial_end * 1000) : null,
  });
  endSessionsOf.push(...r.endSessionsOf);
  // The plan follows the subscription's price (changed in Checkout or the Customer Portal, prorated by Stripe).
  const priceId = idOf(item?.price);
  const plan = priceId ? await findPlanByStripePrice(m, priceId) : null;
  if (plan) {
    const [t] = await m.query(`SELECT plan FROM tenant WHERE id = $1`, [tenantId]);
    if (t && t.plan !== plan.code) {
      await applyPlanLimits(m, tenantId, plan);
      await recordAudit(m, BILLING_SYSTEM, tenantId, 'billing.plan_change', { plan: t.plan }, { plan: plan.code, maxDomains: plan.maxDomains, maxMailboxes: plan.maxMailboxes, maxStorageBytes: plan.maxStorageBytes });
    }
  }
  if (event.type === 'invoice.payment_failed') {
    await recordAudit(m, BILLING_SYSTEM, tenantId, 'billing.payment_failed', null, { invoice: object.id, amountDue: object.amount_due, attempt: object.attempt_count });
    deps.log.warn({ tenant: tenantId, invoice: object.id }, 'payment failed: tenant is past due');
  }
  if (event.type === 'customer.subscription.trial_will_end') {
    await recordAudit(m, BILLING_SYSTEM, tenantId, 'billing.trial_will_end', null, { trialEnd: sub.trial_end ? new Date(sub.trial_end * 1000).toISOString() : null });
  }
  return tenantId;
}

function idOf(v: unknown): string | null {
  if (!v) return null;
  if (typeof v === 'string') return v;
  return (v as { id?: string }).id ?? null;
}

async function tenantExists(m: Queryable, id: string): Promise<boolean> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
  return (await m.query(`SELECT 1 FROM tenant WHERE id = $1`, [id])).length > 0;
}

async function tenantOfSubscription(m: Queryable, sub: Obj): Promise<string | null> {
  const [row] = await m.query(`SELECT tenant_id FROM tenant_billing WHERE stripe_subscription_id = $1 OR stripe_customer_id = $2 ORDER BY (stripe_subscription_id = $1) DESC LIMIT 1`, [
    sub.id,
    idOf(sub.customer),
  ]);
  if (row) return row.tenant_id;
  const fromMetadata = sub.metadata?.tenant_id;
  return fromMetadata && (await tenantExists(m, fromMetadata)) ? fromMetadata : null;
}
