/**
 * Plan catalogue → Stripe: one Product per plan (our own id, `dizi_plan_<code>`) and one recurring Price per interval,
 * found by lookup key (`dizi_<code>_month`). Prices cannot change amount in Stripe: a new amount is a new Price that
 * takes over the lookup key, the old one is archived. Running it again changes nothing.
 */
import type Stripe from 'stripe';
import type { Plan, Queryable } from './plan-catalogue';
import { planFromRow } from './plan-catalogue';

export const productIdOf = (code: string) => `dizi_plan_${code}`;
export const lookupKeyOf = (code: string, interval: 'month' | 'year') => `dizi_${code}_${interval}`;

export interface PlanSyncResult {
  productId: string;
  priceMonthId: string | null;
  priceYearId: string | null;
}

export async function syncPlanToStripe(stripe: Stripe, plan: Plan): Promise<PlanSyncResult> {
  const productId = productIdOf(plan.code);
  const fields = { name: plan.name, active: true, metadata: { dizi_plan: plan.code } };
  try {
    const product = await stripe.products.retrieve(productId);
    if (product.name !== plan.name || !product.active) await stripe.products.update(productId, fields);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    await stripe.products.create({ id: productId, ...fields });
  }
  const price = async (interval: 'month' | 'year', cents: number | null): Promise<string | null> => {
    const lookupKey = lookupKeyOf(plan.code, interval);
    const { data } = await stripe.prices.list({ lookup_keys: [lookupKey], limit: 1 });
    const existing = data[0];
    if (cents === null) {
      if (existing?.active) await stripe.prices.update(existing.id, { active: false });
      return null;
    }
    if (existing && existing.active && existing.unit_amount === cents && existing.currency === plan.currency && existing.product === productId) return existing.id;
    const created = await stripe.prices.create({
      product: productId, currency: plan.currency, unit_amount: cents, recurring: { interval }, lookup_key: lookupKey, transfer_lookup_key: true,
      metadata: { dizi_plan: plan.code },
    });
    if (existing?.active) await stripe.prices.update(existing.id, { active: false });
    return created.id;
  };
  return { productId, priceMonthId: await price('month', plan.priceMonthCents), priceYearId: await price('year', plan.priceYearCents) };
}

/** Syncs one plan and stores the Stripe ids; manual plans are left out of Stripe. */
export async function syncPlan(db: Queryable, stripe: Stripe, code: string): Promise<Plan | null> {
  const [row] = await db.query(`SELECT * FROM plan WHERE code = $1`, [code]);
  if (!row) return null;
  const plan = planFromRow(row);
  if (plan.billing !== 'stripe') return plan;
  const r = await syncPlanToStripe(stripe, plan);
  const [updated] = await db.query(
    // Wrapped in a SELECT: TypeORM answers a bare UPDATE ... RETURNING with [rows, count].
    `WITH u AS (UPDATE plan SET stripe_product_id = $2, stripe_price_month_id = $3, stripe_price_year_id = $4, stripe_synced_at = now() WHERE code = $1 RETURNING *) SELECT * FROM u`,
    [code, r.productId, r.priceMonthId, r.priceYearId],
  );
  return planFromRow(updated);
}

export async function syncAllPlans(db: Queryable, stripe: Stripe): Promise<number> {
  const rows: { code: string }[] = await db.query(`SELECT code FROM plan WHERE billing = 'stripe' AND (stripe_synced_at IS NULL OR stripe_synced_at < updated_at) ORDER BY code`);
  for (const r of rows) await syncPlan(db, stripe, r.code);
  return rows.length;
}
