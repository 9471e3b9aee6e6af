/**
 * The billing process: Stripe webhooks at /billing/webhooks/stripe and the scheduled jobs (plan sync, usage
 * sampling and closing, meter events, dunning). Without a Stripe key it keeps measuring usage and suspending
 * nothing on its own: manual billing only.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { BillingConfig } from '@dizi/config/billing.config';
import { announceSessionEnds } from '@dizi/auth/session-ends';
import { createStripeClient, type StripeClient } from '@dizi/billing/stripe-client';
import { handleStripeWebhook } from '@dizi/billing/stripe-webhook';
import { suspendOverdueTenants } from '@dizi/billing/dunning';
import { syncAllPlans } from '@dizi/billing/plan-sync';
import { closeUsageDays, reportUsageToStripe, sampleUsage } from '@dizi/billing/usage-meter';
import { sendDueBillingEvents } from '@dizi/billing/outgoing-webhooks';

/** Stripe's event payloads are small; anything larger is not Stripe. */
const MAX_WEBHOOK_BYTES = 1024 * 1024;

export interface BillingServer {
  url: string;
  stripe: StripeClient | null;
  /** One round of every job, as the timer runs it (tests call it directly). */
  runJobs(now?: Date): Promise<JobsResult>;
  close(): Promise<void>;
}

export interface JobsResult {
  plansSynced: number;
  sampled: number;
  closedDays: string[];
  meterEvents: number;
  suspended: string[];
  webhooksDelivered: number;
  webhooksFailed: number;
}

export async function startBillingServer(config: BillingConfig, db: DataSource, redis: Redis, log: Logger): Promise<BillingServer> {
  const stripe = createStripeClient(config);
  const endSessions = (ids: string[]) => announceSessionEnds(redis, config.REDIS_PREFIX, ids).catch((err) => log.warn({ err: String(err) }, 'session ends not announced'));

  const webhook = async (req: IncomingMessage, res: ServerResponse) => {
    if (!stripe || !config.STRIPE_WEBHOOK_SECRET) return reply(res, 503, { error: 'Stripe is not configured here (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET): manual billing only' });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_WEBHOOK_BYTES) return reply(res, 413, { error: 'event too large' });
      chunks.push(chunk as Buffer);
    }
    const signature = req.headers['stripe-signature'];
    const r = await handleStripeWebhook({ db, stripe, webhookSecret: config.STRIPE_WEBHOOK_SECRET, log, endSessions }, Buffer.concat(chunks), Array.isArray(signature) ? signature[0] : signature);
    reply(res, r.status, r.body);
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const run = async () => {
      if (req.method === 'POST' && path === '/billing/webhooks/stripe') return webhook(req, res);
      if (req.method === 'GET' && path === '/billing/health') return reply(res, 200, { ok: true, stripe: !!stripe });
      reply(res, 404, { error: 'not found' });
    };
    run().catch((err) => {
      log.error({ err }, 'billing request failed');
      if (!res.headersSent) reply(res, 500, { error: 'internal error' });
    });
  });
  server.on('error', (err) => log.error({ err }, 'billing server error'));
  await new Promise<void>((resolve) => server.listen(config.BILLING_PORT, config.BILLING_HOST, resolve));
  const address = server.address() as AddressInfo;
  const url = `http://${config.BILLING_HOST}:${address.port}`;

  const runJobs = async (now = new Date()): Promise<JobsResult> => {
    const result: JobsResult = { plansSynced: 0, sampled: 0, closedDays: [], meterEvents: 0, suspended: [], webhooksDelivered: 0, webhooksFailed: 0 };
    if (stripe) result.plansSynced = await syncAllPlans(db, stripe);
    result.sampled = await sampleUsage(db, now);
    result.closedDays = (await closeUsageDays(db, now)).days;
    if (stripe) {
      const meters = { mailboxes: config.STRIPE_METER_MAILBOXES, storageGbDays: config.STRIPE_METER_STORAGE_GB_DAYS, sentOutside: config.STRIPE_METER_SENT_OUTSIDE };
      result.meterEvents = (await reportUsageToStripe(db, stripe, meters)).events;
    }
    const dunning = await suspendOverdueTenants(db, config.BILLING_GRACE_DAYS, now);
    if (dunning.endSessionsOf.length) await endSessions(dunning.endSessionsOf);
    result.suspended = dunning.suspended;
    if (result.suspended.length) log.warn({ tenants: result.suspended }, 'tenants suspended: past due longer than the grace period');
    const target = config.BILLING_WEBHOOK_URL ? { url: config.BILLING_WEBHOOK_URL, secret: config.BILLING_WEBHOOK_SECRET! } : null;
    const sent = await sendDueBillingEvents(db, target, now);
    result.webhooksDelivered = sent.delivered;
    result.webhooksFailed = sent.failed + sent.gaveUp;
    if (sent.failed + sent.gaveUp) log.warn({ ...sent }, 'outgoing billing webhooks not delivered; retried with backoff');
    return result;
  };

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  if (config.BILLING_JOBS) {
    const tick = () => {
      running = runJobs().then(
        (r) => log.debug({ ...r }, 'billing jobs ran'),
        (err) => log.error({ err }, 'billing jobs failed; next round retries'),
      );
    };
    tick();
    timer = setInterval(tick, config.BILLING_JOB_INTERVAL_SECONDS * 1000);
    timer.unref();
  }

  return {
    url,
    stripe,
    runJobs,
    async close() {
      if (timer) clearInterval(timer);
      await running;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
