/**
 * A tenant's billing through the API: its state, plan changes (limits at once, Stripe prorates a subscription),
 * Checkout and Customer Portal links for tenant admins, invoices, and manual billing by operators.
 */
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor } from '@dizi/domain/policy';
import type { ApiConfig } from '@dizi/config/api.config';
import type { StripeClient } from '@dizi/billing/stripe-client';
import { applyPlanLimits, findPlan, tenantUse, whatToRemove, type Plan } from '@dizi/billing/plan-catalogue';
import { syncPlan } from '@dizi/billing/plan-sync';
import { changeTenantBilling, lockTenantBilling, readTenantBilling, recordAudit, type BillingActor, type TenantBilling } from '@dizi/billing/billing-state';
import { ApiError, badRequest, conflict, forbidden } from '../../common/api-error';
import { API_CONFIG } from '../../common/tokens';
import { PolicyService } from '../auth/policy.service';
import { SessionEndsService } from '../auth/session-ends.service';
import { ChangePlanDto, CheckoutDto, SetBillingDto } from './dto';
import { STRIPE } from './stripe.provider';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const auditActor = (actor: Actor, ip: string | null): BillingActor => ({ kind: actor.kind, id: actor.id, name: actor.name, role: actor.role, ip });
const stripeOff = () => new ApiError(409, 'stripe_not_configured', 'Stripe is not configured on this installation (STRIPE_SECRET_KEY): billing is manual, ask your provider');

@Injectable()
export class TenantBillingService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly sessionEnds: SessionEndsService,
    @Inject(STRIPE) private readonly stripe: StripeClient | null,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async get(actor: Actor, tenantId: string) {
    const tenant = await this.policy.tenant(actor, tenantId, 'tenant_admin');
    return this.view(tenant.id, tenant.plan, await readTenantBilling(this.dataSource, tenant.id));
  }

  /**
   * Up or down: refused while the tenant uses more than the new plan allows (saying what to remove first); with a
   * Stripe subscription the subscription's price changes too and Stripe prorates. Operators may move any tenant;
   * tenant admins only between Stripe plans of their own subscription.
   */
  async changePlan(actor: Actor, ip: string, tenantId: string, body: ChangePlanDto) {
    const tenant = await this.policy.tenant(actor, tenantId, 'tenant_admin');
    let plan = await findPlan(this.dataSource, body.plan);
    if (!plan) throw badRequest(`no plan "${body.plan}" in the catalogue`, 'plan');
    const current = await readTenantBilling(this.dataSource, tenant.id);
    const subscribed = !!current?.stripeSubscriptionId && current.mode === 'stripe' && current.status !== 'canceled';
    if (actor.role !== 'operator' && (!subscribed || plan.billing !== 'stripe')) {
      throw forbidden('only operators change the plan of a tenant without a Stripe subscription; start one through Checkout');
    }
    if (subscribed && plan.billing === 'stripe') plan = await this.stripePlan(plan, 'month');
    await this.dataSource.transaction(async (m) => {
      await m.query(`SELECT id FROM tenant WHERE id = $1 FOR UPDATE`, [tenant.id]);
      const remove = whatToRemove(plan, await tenantUse(m, tenant.id));
      if (remove.length) throw new ApiError(409, 'limit_reached', `the tenant uses more than plan "${plan.code}" allows; first ${remove.join('; ')}`, 'plan');
      const [before] = await m.query(`SELECT plan, max_domains, max_mailboxes, max_storage_bytes FROM tenant WHERE id = $1`, [tenant.id]);
      await applyPlanLimits(m, tenant.id, plan);
      await recordAudit(m, auditActor(actor, ip), tenant.id, 'billing.plan_change', before, { plan: plan.code, max_domains: plan.maxDomains, max_mailboxes: plan.maxMailboxes, max_storage_bytes: plan.maxStorageBytes });
      if (subscribed && plan.billing === 'stripe') {
        // Inside the transaction: if Stripe refuses, the limits stay as they were.
        const sub = await this.stripe!.subscriptions.retrieve(current!.stripeSubscriptionId!);
        const item = sub.items.data[0];
        const interval = item.price.recurring?.interval === 'year' && plan.stripePriceYearId ? 'year' : 'month';
        const price = interval === 'year' ? plan.stripePriceYearId : plan.stripePriceMonthId;
        if (!price) throw badRequest(`plan "${plan.code}" has no ${interval}ly price to move the subscription to`, 'plan');
        if (item.price.id !== price) {
          await this.stripe!.subscriptions.update(sub.id, { items: [{ id: item.id, price }], proration_behavior: 'create_prorations', metadata: { tenant_id: tenant.id } });
        }
      }
    });
    return this.get(actor, tenant.id);
  }

  /** Manual billing by an operator: mode (stripe or bank transfer) and status; `suspended` suspends mail as dunning does. */
  async setBilling(actor: Actor, ip: string, tenantId: string, body: SetBillingDto) {
    const tenant = await this.policy.tenant(actor, tenantId, 'operator');
    const outcome = await this.dataSource.transaction((m) => changeTenantBilling(m, auditActor(actor, ip), tenant.id, { mode: body.mode, status: body.status }));
    await this.sessionEnds.end(outcome.endSessionsOf);
    return this.get(actor, tenant.id);
  }

  async checkout(actor: Actor, tenantId: string, body: CheckoutDto) {
    const tenant = await this.policy.tenant(actor, tenantId, 'tenant_admin');
    if (!this.stripe) throw stripeOff();
    const found = await findPlan(this.dataSource, body.plan);
    if (!found) throw badRequest(`no plan "${body.plan}" in the catalogue`, 'plan');
    if (found.billing !== 'stripe') throw badRequest(`plan "${found.code}" is billed manually; ask your provider`, 'plan');
    const plan = await this.stripePlan(found, body.interval);
    const price = body.interval === 'year' ? plan.stripePriceYearId : plan.stripePriceMonthId;
    if (!price) throw badRequest(`plan "${plan.code}" is not sold per ${body.interval}`, 'interval');
    const remove = whatToRemove(plan, await tenantUse(this.dataSource, tenant.id));
    if (remove.length) throw new ApiError(409, 'limit_reached', `the tenant uses more than plan "${plan.code}" allows; first ${remove.join('; ')}`, 'plan');
    const billing = await this.ensureCustomer(tenant.id, tenant.name);
    if (billing.stripeSubscriptionId && ['active', 'trialing', 'past_due', 'suspended'].includes(billing.status)) {
      throw conflict('the tenant already has a subscription: change its plan (PUT /api/tenants/{id}/plan) or manage it in the Customer Portal', 'plan');
    }
    const trial = plan.trialDays > 0 && !billing.stripeSubscriptionId ? { trial_period_days: plan.trialDays } : {};
    const session = await this.stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: billing.stripeCustomerId!,
      client_reference_id: tenant.id,
      line_items: [{ price, quantity: 1 }],
      subscription_data: { metadata: { tenant_id: tenant.id, plan: plan.code }, ...trial },
      metadata: { tenant_id: tenant.id, plan: plan.code },
      success_url: `${this.config.BILLING_RETURN_URL}?checkout=done`,
      cancel_url: `${this.config.BILLING_RETURN_URL}?checkout=cancelled`,
    });
    if (!session.url) throw new ApiError(502, 'bad_gateway', 'Stripe returned no Checkout URL');
    return { url: session.url };
  }

  async portal(actor: Actor, tenantId: string) {
    const tenant = await this.policy.tenant(actor, tenantId, 'tenant_admin');
    if (!this.stripe) throw stripeOff();
    const billing = await readTenantBilling(this.dataSource, tenant.id);
    if (!billing?.stripeCustomerId) throw conflict('the tenant has no Stripe customer yet: subscribe through Checkout first');
    const session = await this.stripe.billingPortal.sessions.create({ customer: billing.stripeCustomerId, return_url: this.config.BILLING_RETURN_URL });
    return { url: session.url };
  }

  async invoices(actor: Actor, tenantId: string) {
    const tenant = await this.policy.tenant(actor, tenantId, 'tenant_admin');
    const billing = await readTenantBilling(this.dataSource, tenant.id);
    if (!this.stripe || !billing?.stripeCustomerId) return { items: [] };
    const list = await this.stripe.invoices.list({ customer: billing.stripeCustomerId, limit: 24 });
    return {
      items: list.data.map((i) => ({
        id: i.id ?? '', number: i.number ?? null, status: i.status ?? null, amountDue: i.amount_due, amountPaid: i.amount_paid, currency: i.currency,
        created: new Date(i.created * 1000).toISOString(), hostedInvoiceUrl: i.hosted_invoice_url ?? null,
      })),
    };
  }

  /** The plan with its Stripe prices, synced now if the catalogue changed since. */
  private async stripePlan(plan: Plan, _interval: 'month' | 'year'): Promise<Plan> {
    if (!this.stripe) throw stripeOff();
    if (plan.stripeSyncedAt && new Date(plan.stripeSyncedAt) >= new Date(plan.updatedAt)) return plan;
    return (await syncPlan(this.dataSource, this.stripe, plan.code)) ?? plan;
  }

  private async ensureCustomer(tenantId: string, name: string): Promise<TenantBilling> {
    const existing = await readTenantBilling(this.dataSource, tenantId);
    if (existing?.stripeCustomerId) return existing;
    // Idempotency key: two clicks at once make one customer.
    const customer = await this.stripe!.customers.create({ name, metadata: { tenant_id: tenantId } }, { idempotencyKey: `dizi-customer-${tenantId}` });
    return this.dataSource.transaction(async (m) => {
      const row = await lockTenantBilling(m, tenantId);
      if (row.stripeCustomerId) return row;
      await m.query(`UPDATE tenant_billing SET stripe_customer_id = $2, mode = 'stripe', updated_at = now() WHERE tenant_id = $1`, [tenantId, customer.id]);
      return { ...row, stripeCustomerId: customer.id, mode: 'stripe' as const };
    });
  }

  private view(tenantId: string, plan: string, b: TenantBilling | null) {
    return {
      tenantId, plan, mode: b?.mode ?? 'stripe', status: b?.status ?? 'none', stripeCustomerId: b?.stripeCustomerId ?? null, stripeSubscriptionId: b?.stripeSubscriptionId ?? null,
      currentPeriodEnd: iso(b?.currentPeriodEnd ?? null), trialEnd: iso(b?.trialEnd ?? null), pastDueSince: iso(b?.pastDueSince ?? null), stripeEnabled: !!this.stripe,
    };
  }
}

