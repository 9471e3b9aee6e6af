/**
 * A tenant's billing state and what it does to mail: `past_due` lets mail flow (admins are told), `suspended` sets
 * the tenant's own status to `suspended` — the switch mail already obeys (RCPT answers with a temporary refusal,
 * sign-ins are refused, sessions end) — and payment restores it at once. Only a suspension billing made is lifted
 * by billing: a tenant an operator suspended stays suspended. Every change is written to the audit log.
 */
import type { EntityManager } from 'typeorm';
import type { Queryable } from './plan-catalogue';
import { enqueueBillingEvent } from './outgoing-webhooks';

export type BillingStatus = 'none' | 'trialing' | 'active' | 'past_due' | 'suspended' | 'canceled';

export interface TenantBilling {
  tenantId: string;
  mode: 'stripe' | 'manual';
  status: BillingStatus;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
  subscriptionStatus: string | null;
  currentPeriodEnd: Date | null;
  trialEnd: Date | null;
  pastDueSince: Date | null;
  suspendedByBilling: boolean;
}

/** Who made a change, as the audit log records it. */
export interface BillingActor {
  kind: string;
  id: string;
  name: string;
  role: string;
  ip?: string | null;
}

export const BILLING_SYSTEM: BillingActor = { kind: 'system', id: 'billing', name: 'billing', role: 'operator' };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function fromRow(r: any): TenantBilling {
  return {
    tenantId: r.tenant_id, mode: r.mode, status: r.status, stripeCustomerId: r.stripe_customer_id, stripeSubscriptionId: r.stripe_subscription_id,
    subscriptionStatus: r.subscription_status, currentPeriodEnd: r.current_period_end, trialEnd: r.trial_end, pastDueSince: r.past_due_since,
    suspendedByBilling: r.suspended_by_billing,
  };
}

/** The tenant's billing row, created (status none) on first use and locked for the caller's transaction. */
export async function lockTenantBilling(db: Queryable, tenantId: string): Promise<TenantBilling> {
  await db.query(`INSERT INTO tenant_billing (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING`, [tenantId]);
  const [row] = await db.query(`SELECT * FROM tenant_billing WHERE tenant_id = $1 FOR UPDATE`, [tenantId]);
  return fromRow(row);
}

export async function readTenantBilling(db: Queryable, tenantId: string): Promise<TenantBilling | null> {
  const [row] = await db.query(`SELECT * FROM tenant_billing WHERE tenant_id = $1`, [tenantId]);
  return row ? fromRow(row) : null;
}

export async function recordAudit(db: Queryable, actor: BillingActor, tenantId: string, action: string, before: unknown, after: unknown): Promise<void> {
  await db.query(
    `INSERT INTO audit_event (actor_kind, actor_id, actor_name, actor_role, ip, tenant_id, action, object_type, object_id, before, after)
     VALUES ($1, $2, $3, $4, $5, $6::uuid, $7, 'tenant_billing', $6::text, $8, $9)`,
    [actor.kind, actor.id, actor.name, actor.role, actor.ip ?? null, tenantId, action, before === undefined ? null : JSON.stringify(before), after === undefined ? null : JSON.stringify(after)],
  );
}

export interface BillingChange {
  status?: BillingStatus;
  mode?: 'stripe' | 'manual';
  stripeCustomerId?: string | null;
  stripeSubscriptionId?: string | null;
  subscriptionStatus?: string | null;
  currentPeriodEnd?: Date | null;
  trialEnd?: Date | null;
}

export interface ChangeOutcome {
  before: TenantBilling;
  after: TenantBilling;
  /** Mailboxes whose sessions must end now (the tenant was suspended): announce after commit. */
  endSessionsOf: string[];
}

/**
 * Applies a change inside the caller's transaction: the status transition's side effects on the tenant and one
 * audit entry (`billing.<status>` when the status changed, `billing.update` otherwise; nothing when nothing changed).
 */
export async function changeTenantBilling(m: EntityManager | Queryable, actor: BillingActor, tenantId: string, change: BillingChange): Promise<ChangeOutcome> {
  const before = await lockTenantBilling(m, tenantId);
  const after: TenantBilling = { ...before };
  for (const [k, v] of Object.entries(change)) if (v !== undefined) (after as unknown as Record<string, unknown>)[k] = v;
  let endSessionsOf: string[] = [];
  if (after.status !== before.status) {
    if (after.status === 'past_due') after.pastDueSince = before.pastDueSince ?? new Date();
    else if (after.status !== 'suspended') after.pastDueSince = null;
    if (after.status === 'suspended' && !before.suspendedByBilling) {
      const [t] = await m.query(`SELECT status FROM tenant WHERE id = $1 FOR UPDATE`, [tenantId]);
      if (t?.status === 'active') {
        endSessionsOf = await suspendTenant(m, tenantId);
        after.suspendedByBilling = true;
      }
    } else if (after.status !== 'suspended' && before.suspendedByBilling && after.status !== 'past_due' && after.status !== 'canceled') {
      await m.query(`UPDATE tenant SET status = 'active', updated_at = now() WHERE id = $1 AND status = 'suspended'`, [tenantId]);
      after.suspendedByBilling = false;
    }
  }
  const same = JSON.stringify(before) === JSON.stringify(after);
  if (same) return { before, after, endSessionsOf };
  await m.query(
    `UPDATE tenant_billing SET mode = $2, status = $3, stripe_customer_id = $4, stripe_subscription_id = $5, subscription_status = $6,
            current_period_end = $7, trial_end = $8, past_due_since = $9, suspended_by_billing = $10, updated_at = now()
      WHERE tenant_id = $1`,
    [tenantId, after.mode, after.status, after.stripeCustomerId, after.stripeSubscriptionId, after.subscriptionStatus, after.currentPeriodEnd, after.trialEnd, after.pastDueSince, after.suspendedByBilling],
  );
  await recordAudit(m, actor, tenantId, after.status !== before.status ? `billing.${after.status}` : 'billing.update', before, after);
  if (after.status !== before.status) {
    await enqueueBillingEvent(m, 'tenant.billing_status', tenantId, { from: before.status, to: after.status, mode: after.mode, pastDueSince: after.pastDueSince, suspended: after.suspendedByBilling });
  }
  return { before, after, endSessionsOf };
}

/** The tenant's suspension as the operator's suspend does it: status, sign-in tokens and refresh tokens. */
async function suspendTenant(m: Queryable, tenantId: string): Promise<string[]> {
  await m.query(`UPDATE tenant SET status = 'suspended', updated_at = now() WHERE id = $1`, [tenantId]);
  const rows: { id: string }[] = await m.query(`WITH u AS (UPDATE mailbox SET token_version = token_version + 1 WHERE tenant_id = $1 RETURNING id) SELECT id FROM u`, [tenantId]);
  await m.query(
    `UPDATE refresh_token SET revoked_at = now() WHERE revoked_at IS NULL AND subject_kind = 'mailbox'
       AND subject_id IN (SELECT id FROM mailbox WHERE tenant_id = $1)`,
    [tenantId],
  );
  return rows.map((r) => r.id);
}

/** Stripe's subscription status in our terms (past_due and unpaid are both dunning; incomplete is not yet billed). */
export function statusFromSubscription(stripeStatus: string): BillingStatus {
  switch (stripeStatus) {
    case 'active':
      return 'active';
    case 'trialing':
      return 'trialing';
    case 'past_due':
    case 'unpaid':
      return 'past_due';
    case 'canceled':
    case 'incomplete_expired':
      return 'canceled';
    default:
      return 'none';
  }
}
