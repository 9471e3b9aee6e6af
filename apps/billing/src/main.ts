/** Billing process entry (port 3002): validate config, migrate, serve webhooks and run the billing jobs. */
import 'reflect-metadata';
import Redis from 'ioredis';
import pino from 'pino';
import { loadBillingConfig } from '@dizi/config/billing.config';
import { createDataSource, migrate } from '@dizi/db/data-source';
import { startBillingServer } from './billing-server';

async function main(): Promise<void> {
  const config = loadBillingConfig();
  const log = pino({ level: config.LOG_LEVEL, base: { service: 'dizi-billing' }, redact: { paths: ['req.headers["stripe-signature"]'], censor: '[redacted]' } });
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set (npm start sets it, with an embedded PostgreSQL when none is given)');
  const db = createDataSource(config.DATABASE_URL, { poolSize: 5, applicationName: 'dizi-billing' });
  await db.initialize();
  await migrate(db);
  const redis = new Redis(config.REDIS_URL, { lazyConnect: false });
  redis.on('error', (err) => log.warn({ err: String(err) }, 'redis error'));
  const server = await startBillingServer(config, db, redis, log);
  if (server.stripe) {
    log.info({ url: server.url, webhooks: `${server.url}/billing/webhooks/stripe`, webhookSecret: !!config.STRIPE_WEBHOOK_SECRET }, 'billing listening; Stripe enabled');
  } else {
    log.warn({ url: server.url }, 'billing listening without Stripe (no STRIPE_SECRET_KEY): manual billing only / 未配置 Stripe：仅手工计费');
  }
  const stop = async () => {
    await server.close();
    redis.disconnect();
    await db.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
