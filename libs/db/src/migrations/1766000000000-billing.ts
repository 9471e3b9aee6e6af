import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Billing (issue 17): the plan catalogue whose limits a tenant's plan sets (`tenant.plan` holds the plan's code),
 * each tenant's billing state (Stripe customer and subscription, dunning), Stripe webhook events stored once by id,
 * and usage per tenant and day with what was reported to Stripe.
 */
export class Billing1766000000000 implements MigrationInterface {
  name = 'Billing1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE plan (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        code text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
        name text NOT NULL,
        currency text NOT NULL DEFAULT 'usd',
        price_month_cents bigint CHECK (price_month_cents >= 0),
        price_year_cents bigint CHECK (price_year_cents >= 0),
        included_mailboxes integer CHECK (included_mailboxes >= 0),
        included_storage_bytes bigint CHECK (included_storage_bytes >= 0),
        price_per_mailbox_cents bigint CHECK (price_per_mailbox_cents >= 0),
        price_per_storage_gb_cents bigint CHECK (price_per_storage_gb_cents >= 0),
        max_domains integer CHECK (max_domains >= 0),
        max_mailboxes integer CHECK (max_mailboxes >= 0),
        max_storage_bytes bigint CHECK (max_storage_bytes >= 0),
        max_daily_sends integer CHECK (max_daily_sends >= 0),
        protocols text[] NOT NULL DEFAULT '{smtp,imap,pop3,jmap}',
        trial_days integer NOT NULL DEFAULT 0 CHECK (trial_days >= 0),
        billing text NOT NULL DEFAULT 'stripe' CHECK (billing IN ('stripe', 'manual')),
        stripe_product_id text,
        stripe_price_month_id text,
        stripe_price_year_id text,
        stripe_synced_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE tenant_billing (
        tenant_id uuid PRIMARY KEY REFERENCES tenant (id) ON DELETE CASCADE,
        mode text NOT NULL DEFAULT 'stripe' CHECK (mode IN ('stripe', 'manual')),
        status text NOT NULL DEFAULT 'none' CHECK (status IN ('none', 'trialing', 'active', 'past_due', 'suspended', 'canceled')),
        stripe_customer_id text UNIQUE,
        stripe_subscription_id text UNIQUE,
        subscription_status text,
        current_period_end timestamptz,
        trial_end timestamptz,
        past_due_since timestamptz,
        suspended_by_billing boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX tenant_billing_past_due_idx ON tenant_billing (past_due_since) WHERE status = 'past_due'`);
    await q.query(`
      CREATE TABLE billing_event (
        id text PRIMARY KEY,
        type text NOT NULL,
        created bigint NOT NULL,
        tenant_id uuid,
        payload jsonb NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz,
        error text
      )`);
    await q.query(`
      CREATE TABLE usage_daily (
        tenant_id uuid NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
        day date NOT NULL,
        mailboxes_peak integer NOT NULL DEFAULT 0,
        storage_bytes_peak bigint NOT NULL DEFAULT 0,
        sent_outside integer NOT NULL DEFAULT 0,
        received integer NOT NULL DEFAULT 0,
        closed_at timestamptz,
        reported_at timestamptz,
        PRIMARY KEY (tenant_id, day)
      )`);
    await q.query(`CREATE INDEX usage_daily_unreported_idx ON usage_daily (day) WHERE closed_at IS NOT NULL AND reported_at IS NULL`);
    // The metering job's own bookmark: the last day it closed, so a restart catches up from there.
    await q.query(`CREATE TABLE usage_close (id boolean PRIMARY KEY DEFAULT true CHECK (id), last_closed_day date NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE usage_close`);
    await q.query(`DROP TABLE usage_daily`);
    await q.query(`DROP TABLE billing_event`);
    await q.query(`DROP TABLE tenant_billing`);
    await q.query(`DROP TABLE plan`);
  }
}
