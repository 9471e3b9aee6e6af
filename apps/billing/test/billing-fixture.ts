/**
 * The billing process in-process (real HTTP server, real `stripe` SDK) against the Stripe stand-in on loopback,
 * a fresh database, and helpers to deliver signed webhook events as Stripe does.
 */
import Redis from 'ioredis';
import pino from 'pino';
import Stripe from 'stripe';
import { hashPassword } from '@dizi/auth/password-hash';
import { loadBillingConfig, type BillingConfig } from '@dizi/config/billing.config';
import { StripeStandIn, type StripeEventRecord } from '@dizi/testing/stripe-stand-in';
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from '@dizi/testing/test-database';
import { startBillingServer, type BillingServer } from '../src/billing-server';

export const WEBHOOK_SECRET = 'whsec_test_dizi_billing';
export const MAILBOX_PASSWORD = 'Mail-password-1';

export interface BillingWorld {
  db: TestDatabase;
  stand: StripeStandIn;
  billing: BillingServer;
  config: BillingConfig;
  redis: Redis;
  redisPrefix: string;
  /** The SDK as a test client (signing helper, direct calls). */
  stripe: Stripe;
  q(sql: string, params?: unknown[]): Promise<any[]>;
  /** Posts the event to /billing/webhooks/stripe with a valid signature (or the given header). */
  deliver(event: StripeEventRecord, signature?: string): Promise<{ status: number; body: any }>;
  seedTenant(name: string, domain: string, plan?: string): Promise<{ tenantId: string; domainId: string; mailboxId: string; address: string }>;
  close(): Promise<void>;
}

export async function startBillingWorld(env: Record<string, string> = {}): Promise<BillingWorld> {
  const db = await createTestDatabase();
  const stand = await new StripeStandIn().start();
  const redisPrefix = `dizi-test:${db.name}:`;
  const config = loadBillingConfig({
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    BILLING_PORT: '0',
    STRIPE_SECRET_KEY: 'sk_test_dizi',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_HOST: '127.0.0.1',
    STRIPE_API_PORT: String(stand.port),
    STRIPE_API_PROTOCOL: 'http',
    BILLING_JOBS: 'false',
    BILLING_GRACE_DAYS: '3',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const redis = new Redis(TEST_REDIS_URL);
  const billing = await startBillingServer(config, db.dataSource, redis, pino({ level: process.env.BILLING_TEST_LOG ?? 'silent' }));
  const stripe = new Stripe('sk_test_dizi', { host: '127.0.0.1', port: stand.port, protocol: 'http' });
  const q = (sql: string, params: unknown[] = []) => db.dataSource.query(sql, params);

  const deliver = async (event: StripeEventRecord, signature?: string) => {
    const payload = JSON.stringify(event);
    const header = signature ?? stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    const res = await fetch(`${billing.url}/billing/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
    return { status: res.status, body: await res.json().catch(() => null) };
  };

  const seedTenant = async (name: string, domain: string, plan = 'standard') => {
    const [t] = await q(`INSERT INTO tenant (name, plan, status) VALUES ($1, $2, 'active') RETURNING id`, [name, plan]);
    const [d] = await q(`INSERT INTO domain (tenant_id, name, unicode_name, status) VALUES ($1, $2, $2, 'active') RETURNING id`, [t.id, domain]);
    const [m] = await q(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, display_name, role, password_hash, status, may_send_outside, quota_bytes, used_bytes)
       VALUES ($1, $2, 'ann', 'ann@' || $3, 'Ann', 'tenant_admin', $4, 'active', true, 2000000000, 1500000000) RETURNING id, address`,
      [t.id, d.id, domain, await hashPassword(MAILBOX_PASSWORD)],
    );
    return { tenantId: t.id, domainId: d.id, mailboxId: m.id, address: m.address };
  };

  return {
    db, stand, billing, config, redis, redisPrefix, stripe, q, deliver, seedTenant,
    async close() {
      await billing.close();
      await stand.stop();
      const keys = await redis.keys(`${redisPrefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await db.drop();
    },
  };
}

/** Inserts a plan row the way the API's catalogue does. */
export async function insertPlan(q: BillingWorld['q'], code: string, fields: { priceMonthCents?: number; maxDomains?: number | null; maxMailboxes?: number | null; maxStorageBytes?: number | null; trialDays?: number } = {}) {
  const [row] = await q(
    `INSERT INTO plan (code, name, price_month_cents, max_domains, max_mailboxes, max_storage_bytes, trial_days) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [code, `Plan ${code}`, fields.priceMonthCents ?? 900, fields.maxDomains ?? null, fields.maxMailboxes ?? null, fields.maxStorageBytes ?? null, fields.trialDays ?? 0],
  );
  return row;
}
