/** The plan catalogue: operators write it; a plan's limits are the limits of every tenant on it, changed at once. */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor } from '@dizi/domain/policy';
import type { StripeClient } from '@dizi/billing/stripe-client';
import { PLAN_COLUMNS, planFromRow, tenantUse, whatToRemove, type Plan } from '@dizi/billing/plan-catalogue';
import { syncPlan } from '@dizi/billing/plan-sync';
import { ApiError, conflict, forbidden, notFound } from '../../common/api-error';
import { AuditService } from '../audit/audit.service';
import { CreatePlanDto, UpdatePlanDto } from './dto';
import { STRIPE } from './stripe.provider';

@Injectable()
export class PlansService {
  private readonly logger = new Logger('plans');

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(STRIPE) private readonly stripe: StripeClient | null,
  ) {}

  async list() {
    const rows = await this.dataSource.query(`SELECT * FROM plan ORDER BY coalesce(price_month_cents, 0), code`);
    return { items: rows.map((r: unknown) => planView(planFromRow(r))) };
  }

  async get(code: string) {
    const [row] = await this.dataSource.query(`SELECT * FROM plan WHERE code = $1`, [code]);
    if (!row) throw notFound('plan');
    return planView(planFromRow(row));
  }

  async create(actor: Actor, ip: string, body: CreatePlanDto) {
    if (actor.role !== 'operator') throw forbidden('only operators edit the plan catalogue');
    const plan = await this.dataSource.transaction(async (m) => {
      const [exists] = await m.query(`SELECT 1 FROM plan WHERE code = $1`, [body.code]);
      if (exists) throw conflict(`a plan with code "${body.code}" already exists`, 'code');
      const fields = Object.entries(body).filter(([k]) => PLAN_COLUMNS[k]);
      const [row] = await m.query(
        `INSERT INTO plan (${fields.map(([k]) => PLAN_COLUMNS[k]).join(', ')}) VALUES (${fields.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
        fields.map(([, v]) => v),
      );
      const plan = planFromRow(row);
      await this.audit.record(m, actor, ip, { action: 'plan.create', objectType: 'plan', objectId: plan.id, after: plan });
      return plan;
    });
    return planView(await this.sync(plan));
  }

  /** A change of limits reaches every tenant on the plan at once; refused while one of them uses more than the new limits. */
  async update(actor: Actor, ip: string, code: string, body: UpdatePlanDto) {
    if (actor.role !== 'operator') throw forbidden('only operators edit the plan catalogue');
    const plan = await this.dataSource.transaction(async (m) => {
      const [row] = await m.query(`SELECT * FROM plan WHERE code = $1 FOR UPDATE`, [code]);
      if (!row) throw notFound('plan');
      const before = planFromRow(row);
      const fields = Object.entries(body).filter(([k, v]) => PLAN_COLUMNS[k] && v !== undefined);
      if (!fields.length) return before;
      const [updated] = await m.query(
        `WITH u AS (UPDATE plan SET ${fields.map(([k], i) => `${PLAN_COLUMNS[k]} = $${i + 2}`).join(', ')}, updated_at = now() WHERE code = $1 RETURNING *) SELECT * FROM u`,
        [code, ...fields.map(([, v]) => v)],
      );
      const after = planFromRow(updated);
      const tenants: { id: string; name: string }[] = await m.query(`SELECT id, name FROM tenant WHERE plan = $1 ORDER BY name FOR UPDATE`, [code]);
      const blocked: string[] = [];
      for (const t of tenants) {
        const remove = whatToRemove(after, await tenantUse(m, t.id));
        if (remove.length) blocked.push(`${t.name}: ${remove.join('; ')}`);
      }
      if (blocked.length) throw new ApiError(409, 'limit_reached', `tenants on plan "${code}" use more than the new limits; first ${blocked.join(' | ')}`);
      await m.query(`UPDATE tenant SET max_domains = $2, max_mailboxes = $3, max_storage_bytes = $4, updated_at = now() WHERE plan = $1`, [
        code, after.maxDomains, after.maxMailboxes, after.maxStorageBytes,
      ]);
      await this.audit.record(m, actor, ip, { action: 'plan.update', objectType: 'plan', objectId: after.id, before, after });
      return after;
    });
    return planView(await this.sync(plan));
  }

  async remove(actor: Actor, ip: string, code: string): Promise<void> {
    if (actor.role !== 'operator') throw forbidden('only operators edit the plan catalogue');
    const plan = await this.dataSource.transaction(async (m) => {
      const [row] = await m.query(`SELECT * FROM plan WHERE code = $1 FOR UPDATE`, [code]);
      if (!row) throw notFound('plan');
      const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM tenant WHERE plan = $1`, [code]);
      if (n > 0) throw conflict(`${n} tenant(s) are on plan "${code}": move them to another plan first`, 'code');
      await m.query(`DELETE FROM plan WHERE code = $1`, [code]);
      const plan = planFromRow(row);
      await this.audit.record(m, actor, ip, { action: 'plan.delete', objectType: 'plan', objectId: plan.id, before: plan });
      return plan;
    });
    if (this.stripe && plan.stripeProductId) {
      await this.stripe.products.update(plan.stripeProductId, { active: false }).catch((err) => this.logger.warn(`Stripe product ${plan.stripeProductId} not archived: ${err}`));
    }
  }

  /** To Stripe now when configured; when Stripe is away the billing process syncs it on its next round. */
  private async sync(plan: Plan): Promise<Plan> {
    if (!this.stripe || plan.billing !== 'stripe') return plan;
    try {
      return (await syncPlan(this.dataSource, this.stripe, plan.code)) ?? plan;
    } catch (err) {
      this.logger.warn(`plan ${plan.code} not synced to Stripe yet: ${(err as Error).message}`);
      return plan;
    }
  }
}

export function planView(p: Plan) {
  return {
    id: p.id, code: p.code, name: p.name, currency: p.currency, priceMonthCents: p.priceMonthCents, priceYearCents: p.priceYearCents,
    includedMailboxes: p.includedMailboxes, includedStorageBytes: p.includedStorageBytes, pricePerMailboxCents: p.pricePerMailboxCents,
    pricePerStorageGbCents: p.pricePerStorageGbCents, maxDomains: p.maxDomains, maxMailboxes: p.maxMailboxes, maxStorageBytes: p.maxStorageBytes,
    maxDailySends: p.maxDailySends, protocols: p.protocols as Array<'smtp' | 'imap' | 'pop3' | 'jmap'>, trialDays: p.trialDays, billing: p.billing,
    stripeProductId: p.stripeProductId, stripePriceMonthId: p.stripePriceMonthId, stripePriceYearId: p.stripePriceYearId,
    stripeSyncedAt: p.stripeSyncedAt ? new Date(p.stripeSyncedAt).toISOString() : null,
    createdAt: new Date(p.createdAt).toISOString(), updatedAt: new Date(p.updatedAt).toISOString(),
  };
}
