/**
 * The plan catalogue and what a plan does to a tenant: `tenant.plan` holds the plan's code, and the plan's limits
 * are written into the tenant's limit columns (what every limit check reads) the moment the plan changes.
 */
export interface Queryable {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows are shaped by each query
  query(sql: string, params?: unknown[]): Promise<any[]>;
}

export interface Plan {
  id: string;
  code: string;
  name: string;
  currency: string;
  priceMonthCents: number | null;
  priceYearCents: number | null;
  includedMailboxes: number | null;
  includedStorageBytes: number | null;
  pricePerMailboxCents: number | null;
  pricePerStorageGbCents: number | null;
  maxDomains: number | null;
  maxMailboxes: number | null;
  maxStorageBytes: number | null;
  maxDailySends: number | null;
  protocols: string[];
  trialDays: number;
  billing: 'stripe' | 'manual';
  stripeProductId: string | null;
  stripePriceMonthId: string | null;
  stripePriceYearId: string | null;
  stripeSyncedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Column of each plan field that the API writes. */
export const PLAN_COLUMNS: Record<string, string> = {
  code: 'code', name: 'name', currency: 'currency', priceMonthCents: 'price_month_cents', priceYearCents: 'price_year_cents',
  includedMailboxes: 'included_mailboxes', includedStorageBytes: 'included_storage_bytes', pricePerMailboxCents: 'price_per_mailbox_cents',
  pricePerStorageGbCents: 'price_per_storage_gb_cents', maxDomains: 'max_domains', maxMailboxes: 'max_mailboxes', maxStorageBytes: 'max_storage_bytes',
  maxDailySends: 'max_daily_sends', protocols: 'protocols', trialDays: 'trial_days', billing: 'billing',
};

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function planFromRow(r: any): Plan {
  return {
    id: r.id, code: r.code, name: r.name, currency: r.currency,
    priceMonthCents: num(r.price_month_cents), priceYearCents: num(r.price_year_cents),
    includedMailboxes: num(r.included_mailboxes), includedStorageBytes: num(r.included_storage_bytes),
    pricePerMailboxCents: num(r.price_per_mailbox_cents), pricePerStorageGbCents: num(r.price_per_storage_gb_cents),
    maxDomains: num(r.max_domains), maxMailboxes: num(r.max_mailboxes), maxStorageBytes: num(r.max_storage_bytes), maxDailySends: num(r.max_daily_sends),
    protocols: r.protocols, trialDays: r.trial_days, billing: r.billing,
    stripeProductId: r.stripe_product_id, stripePriceMonthId: r.stripe_price_month_id, stripePriceYearId: r.stripe_price_year_id,
    stripeSyncedAt: r.stripe_synced_at, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

export async function findPlan(db: Queryable, code: string): Promise<Plan | null> {
  const [row] = await db.query(`SELECT * FROM plan WHERE code = $1`, [code]);
  return row ? planFromRow(row) : null;
}

export async function findPlanByStripePrice(db: Queryable, priceId: string): Promise<Plan | null> {
  const [row] = await db.query(`SELECT * FROM plan WHERE $1 IN (stripe_price_month_id, stripe_price_year_id)`, [priceId]);
  return row ? planFromRow(row) : null;
}

export interface TenantUse {
  domains: number;
  mailboxes: number;
  storageBytes: number;
}

export async function tenantUse(db: Queryable, tenantId: string): Promise<TenantUse> {
  const [r] = await db.query(
    `SELECT (SELECT count(*) FROM domain WHERE tenant_id = $1)::int AS domains,
            (SELECT count(*) FROM mailbox WHERE tenant_id = $1)::int AS mailboxes,
            (SELECT coalesce(sum(used_bytes), 0) FROM mailbox WHERE tenant_id = $1)::bigint AS storage`,
    [tenantId],
  );
  return { domains: r.domains, mailboxes: r.mailboxes, storageBytes: Number(r.storage) };
}

/** What the tenant must remove before `plan` fits, one sentence each; empty when it fits. */
export function whatToRemove(plan: Pick<Plan, 'code' | 'maxDomains' | 'maxMailboxes' | 'maxStorageBytes'>, use: TenantUse): string[] {
  const out: string[] = [];
  if (plan.maxDomains !== null && use.domains > plan.maxDomains) {
    out.push(`remove ${use.domains - plan.maxDomains} domain(s): the tenant has ${use.domains}, plan "${plan.code}" allows ${plan.maxDomains}`);
  }
  if (plan.maxMailboxes !== null && use.mailboxes > plan.maxMailboxes) {
    out.push(`remove ${use.mailboxes - plan.maxMailboxes} mailbox(es): the tenant has ${use.mailboxes}, plan "${plan.code}" allows ${plan.maxMailboxes}`);
  }
  if (plan.maxStorageBytes !== null && use.storageBytes > plan.maxStorageBytes) {
    out.push(`free ${use.storageBytes - plan.maxStorageBytes} bytes of stored mail: the tenant stores ${use.storageBytes}, plan "${plan.code}" allows ${plan.maxStorageBytes}`);
  }
  return out;
}

/** Puts the tenant on `plan`: its code and its limits, in the caller's transaction. */
export async function applyPlanLimits(db: Queryable, tenantId: string, plan: Plan): Promise<void> {
  await db.query(`UPDATE tenant SET plan = $2, max_domains = $3, max_mailboxes = $4, max_storage_bytes = $5, updated_at = now() WHERE id = $1`, [
    tenantId, plan.code, plan.maxDomains, plan.maxMailboxes, plan.maxStorageBytes,
  ]);
}
