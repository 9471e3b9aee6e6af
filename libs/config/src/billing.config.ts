/**
 * Billing settings, read by `apps/billing` (webhooks, plan sync, metering, dunning) and by the API (plan changes,
 * Checkout and Customer Portal links). Without STRIPE_SECRET_KEY billing is manual only.
 */
import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));

/** What the API needs of Stripe too (Checkout and Customer Portal links, plan changes), the same variables as apps/billing. */
export const stripeConfigShape = {
  /** Stripe secret key (`sk_live_…`/`sk_test_…`); unset: manual billing only, nothing is sent to Stripe. */
  STRIPE_SECRET_KEY: z.string().min(1).optional(),
  /** Another Stripe API host (tests point it at a local stand-in); unset: api.stripe.com. */
  STRIPE_API_HOST: z.string().optional(),
  STRIPE_API_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  STRIPE_API_PROTOCOL: z.enum(['http', 'https']).optional(),
  /** Where Checkout and the Customer Portal send the admin back (the portal's billing page). */
  BILLING_RETURN_URL: z.string().url().default('http://127.0.0.1:3001/admin/billing'),
};

export const stripeConfigSchema = z.object(stripeConfigShape);
export type StripeConfig = z.infer<typeof stripeConfigSchema>;

export const billingConfigSchema = z.object({
  ...stripeConfigShape,
  DATABASE_URL: z.string().url().optional(),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().default('dizi:'),
  BILLING_HOST: z.string().default('127.0.0.1'),
  BILLING_PORT: z.coerce.number().int().min(0).max(65535).default(3002),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The webhook endpoint's signing secret (`whsec_…`); without it /billing/webhooks/stripe answers 503. */
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** Billing Meter event names for metered prices (create the meters in Stripe with these names). */
  STRIPE_METER_MAILBOXES: z.string().default('dizi_mailboxes'),
  STRIPE_METER_STORAGE_GB_DAYS: z.string().default('dizi_storage_gb_days'),
  STRIPE_METER_SENT_OUTSIDE: z.string().default('dizi_sent_outside'),
  /** Days a tenant stays `past_due` (mail flows) before it is suspended. */
  BILLING_GRACE_DAYS: z.coerce.number().min(0).max(365).default(7),
  /** How often the metering and dunning jobs run. */
  BILLING_JOB_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(300),
  /** The ISP's own billing system: signed POSTs of `tenant.billing_status` and `usage.day_closed` (HMAC-SHA256, Dizi-Signature header); unset: none. */
  BILLING_WEBHOOK_URL: z.string().url().optional(),
  /** The shared secret those POSTs are signed with; required with BILLING_WEBHOOK_URL. */
  BILLING_WEBHOOK_SECRET: z.string().min(16).optional(),
  /** Run the metering and dunning jobs in this process (one billing process of a cluster is enough; both are safe twice). */
  BILLING_JOBS: bool.default(true),
});

export type BillingConfig = z.infer<typeof billingConfigSchema>;

export function loadBillingConfig(env: NodeJS.ProcessEnv = process.env): BillingConfig {
  const parsed = billingConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  if (parsed.data.BILLING_WEBHOOK_URL && !parsed.data.BILLING_WEBHOOK_SECRET) throw new Error('Invalid configuration:\n  BILLING_WEBHOOK_SECRET: required with BILLING_WEBHOOK_URL');
  return parsed.data;
}

