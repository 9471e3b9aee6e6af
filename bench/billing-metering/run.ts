/**
 * The billing jobs at ISP scale: 10,000 tenants with 1,000,000 mailboxes (100 each) and a day of spool traffic,
 * on a fresh database on the local PostgreSQL. Prints the time and statement count of a usage sample, of closing
 * the days (the first run catches up a week), of reporting meter events to the Stripe stand-in, and the webhook
 * handling time (p50/p95) through the billing process's HTTP endpoint with signed events.
 * BENCH_TENANTS, BENCH_MAILBOXES_PER_TENANT, BENCH_WEBHOOKS scale it.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import pino from 'pino';
import Stripe from 'stripe';
import { loadBillingConfig } from '@dizi/config/billing.config';
import { closeUsageDays, reportUsageToStripe, sampleUsage } from '@dizi/billing/usage-meter';
import { StripeStandIn } from '@dizi/testing/stripe-stand-in';
import { createTestDatabase, TEST_REDIS_URL } from '@dizi/testing/test-database';
import { startBillingServer } from '../../apps/billing/src/billing-server';

const TENANTS = Number(process.env.BENCH_TENANTS ?? 10_000);
const PER_TENANT = Number(process.env.BENCH_MAILBOXES_PER_TENANT ?? 100);
const WEBHOOKS = Number(process.env.BENCH_WEBHOOKS ?? 300);
const SECRET = 'whsec_bench';

const seconds = (t: number) => `${((performance.now() - t) / 1000).toFixed(2)} s`;
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const stand = await new StripeStandIn().start();
  const redis = new Redis(TEST_REDIS_URL);
  const q = (sql: string, params: unknown[] = []) => db.dataSource.query(sql, params);
  try {
    let t = performance.now();
    await q(`INSERT INTO tenant (name, plan, created_at) SELECT 'bench-' || i, 'standard', now() - interval '30 days' FROM generate_series(1, $1) i`, [TENANTS]);
    await q(`INSERT INTO domain (tenant_id, name, unicode_name) SELECT id, name || '.test', name || '.test' FROM tenant`);
    await q(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes, used_bytes, created_at)
       SELECT d.tenant_id, d.id, 'u' || i, 'u' || i || '@' || d.name, 'x', 1073741824, (i * 7919) % 1073741824, now() - interval '30 days'
         FROM domain d, generate_series(1, $1) i`,
      [PER_TENANT],
    );
    // Yesterday's traffic: one received and one sent-outside message per tenant, through the spool tables.
    await q(`INSERT INTO blob (hash, size) VALUES (repeat('a', 64), 1) ON CONFLICT DO NOTHING`).catch(() => undefined);
    await q(
      `WITH m AS (INSERT INTO spool_message (blob_hash, size, mail_from, source, auth_mailbox_id, received_at)
                  SELECT repeat('a', 64), 1000, 'x@remote.test', 'submission', mb.id, now() - interval '1 day'
                    FROM mailbox mb WHERE mb.local_part = 'u1' RETURNING id, auth_mailbox_id)
       INSERT INTO spool_recipient (message_id, address, kind, domain, status)
       SELECT m.id, 'someone@remote.test', 'remote', 'remote.test', 'delivered' FROM m`,
    ).catch((err) => console.log(`(spool rows not seeded: ${(err as Error).message})`));
    await q(`VACUUM ANALYZE`);
    console.log(`setup: ${TENANTS} tenants, ${TENANTS * PER_TENANT} mailboxes in ${seconds(t)}`);

    t = performance.now();
    const sampled = await sampleUsage(db.dataSource);
    console.log(`sample (today's peaks, 1 statement): ${sampled} tenant rows in ${seconds(t)}`);
    t = performance.now();
    await sampleUsage(db.dataSource);
    console.log(`sample again: ${seconds(t)}`);

    t = performance.now();
    const closed = await closeUsageDays(db.dataSource, new Date(), 7);
    console.log(`close: ${closed.days.length} days caught up in ${seconds(t)}, ${closed.queries} statements (${(closed.queries / Math.max(1, closed.days.length)).toFixed(0)} per day)`);
    t = performance.now();
    const again = await closeUsageDays(db.dataSource, new Date(), 7);
    console.log(`close again (nothing to do): ${again.days.length} days in ${seconds(t)}, ${again.queries} statements`);

    // Meter events for 1,000 Stripe-billed tenants (one closed day each, three meters).
    const stripe = new Stripe('sk_test_bench', { host: '127.0.0.1', port: stand.port, protocol: 'http' });
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await q(`INSERT INTO tenant_billing (tenant_id, mode, status, stripe_customer_id) SELECT id, 'stripe', 'active', 'cus_' || md5(id::text) FROM tenant ORDER BY name LIMIT 1000`);
    await q(`UPDATE usage_daily SET reported_at = now() WHERE day <> $1::date`, [yesterday]);
    t = performance.now();
    const reported = await reportUsageToStripe(db.dataSource, stripe, { mailboxes: 'm', storageGbDays: 's', sentOutside: 'o' });
    console.log(`report: ${reported.events} meter events for ${reported.rows} tenant-days in ${seconds(t)}`);

    // Webhooks: a subscribed tenant's subscription.updated events, signed, through HTTP.
    const config = loadBillingConfig({
      DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: `dizi-bench:${db.name}:`, BILLING_PORT: '0', BILLING_JOBS: 'false', LOG_LEVEL: 'silent',
      STRIPE_SECRET_KEY: 'sk_test_bench', STRIPE_WEBHOOK_SECRET: SECRET, STRIPE_API_HOST: '127.0.0.1', STRIPE_API_PORT: String(stand.port), STRIPE_API_PROTOCOL: 'http',
    });
    const billing = await startBillingServer(config, db.dataSource, redis, pino({ level: 'silent' }));
    const product = await stripe.products.create({ name: 'bench' });
    const price = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 100, recurring: { interval: 'month' } });
    const [tenant] = await q(`SELECT id FROM tenant ORDER BY name LIMIT 1`);
    const customer = await stripe.customers.create({ metadata: { tenant_id: tenant.id } });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], metadata: { tenant_id: tenant.id } });
    const times: number[] = [];
    for (let i = 0; i < WEBHOOKS; i++) {
      const payload = JSON.stringify(stand.event('customer.subscription.updated', sub as unknown as Record<string, unknown>));
      const header = stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
      const s = performance.now();
      const res = await fetch(`${billing.url}/billing/webhooks/stripe`, { method: 'POST', headers: { 'stripe-signature': header, 'content-type': 'application/json' }, body: payload });
      await res.text();
      times.push(performance.now() - s);
      if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
    }
    times.sort((a, b) => a - b);
    console.log(`webhooks: ${WEBHOOKS} signed events through HTTP (verify, store once, fetch the subscription, update): p50 ${pct(times, 50).toFixed(1)} ms, p95 ${pct(times, 95).toFixed(1)} ms`);
    await billing.close();
  } finally {
    redis.disconnect();
    await stand.stop();
    await db.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
