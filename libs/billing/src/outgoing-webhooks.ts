/**
 * Signed outgoing webhooks for ISPs that bill with their own systems: `tenant.billing_status` when a tenant's
 * billing status changes and `usage.day_closed` for each tenant's closed usage day. Events are written to
 * billing_outbox in the transaction of the change; the billing process POSTs them as JSON with
 * `Dizi-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the shared secret>` (the scheme Stripe
 * uses, so receivers know it) and retries with exponential backoff until a 2xx, or gives up after MAX_ATTEMPTS.
 */
import { createHmac } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Queryable } from './plan-catalogue';

export const MAX_ATTEMPTS = 16;
const FIRST_RETRY_SECONDS = 30;
const LONGEST_RETRY_SECONDS = 6 * 3600;

export async function enqueueBillingEvent(db: Queryable, type: string, tenantId: string | null, payload: unknown): Promise<void> {
  await db.query(`INSERT INTO billing_outbox (type, tenant_id, payload) VALUES ($1, $2, $3)`, [type, tenantId, JSON.stringify(payload)]);
}

/** Seconds before attempt `n + 1` after `n` failed ones: 30 s, 1 min, 2 min, … at most 6 h. */
export const retryDelaySeconds = (failed: number): number => Math.min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** Math.max(0, failed - 1));

export function signWebhook(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface OutgoingTarget {
  url: string;
  secret: string;
  timeoutMs?: number;
}

export interface SendResult {
  delivered: number;
  failed: number;
  gaveUp: number;
}

/** Sends what is due at `now`; safe on several processes at once (rows are claimed with SKIP LOCKED). */
export async function sendDueBillingEvents(db: DataSource, target: OutgoingTarget | null, now: Date = new Date(), batch = 100): Promise<SendResult> {
  const result: SendResult = { delivered: 0, failed: 0, gaveUp: 0 };
  if (!target) {
    // No receiver configured: nothing to keep.
    await db.query(`UPDATE billing_outbox SET delivered_at = now(), last_error = 'no receiver configured' WHERE delivered_at IS NULL AND failed_at IS NULL`);
    return result;
  }
  for (;;) {
    let sent = 0;
    await db.transaction(async (m) => {
      const rows: Array<{ id: string; type: string; tenant_id: string | null; payload: unknown; created_at: Date; attempts: number }> = await m.query(
        `SELECT id, type, tenant_id, payload, created_at, attempts FROM billing_outbox
          WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [now, batch],
      );
      for (const row of rows) {
        sent += 1;
        const body = JSON.stringify({ id: `dizi_evt_${row.id}`, type: row.type, tenantId: row.tenant_id, created: new Date(row.created_at).toISOString(), data: row.payload });
        const error = await post(target, body, `dizi_evt_${row.id}`, Math.floor(now.getTime() / 1000));
        if (!error) {
          await m.query(`UPDATE billing_outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1`, [row.id]);
          result.delivered += 1;
        } else if (row.attempts + 1 >= MAX_ATTEMPTS) {
          await m.query(`UPDATE billing_outbox SET failed_at = now(), attempts = attempts + 1, last_error = $2 WHERE id = $1`, [row.id, error]);
          result.gaveUp += 1;
        } else {
          await m.query(`UPDATE billing_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3::timestamptz + make_interval(secs => $4) WHERE id = $1`, [
            row.id, error, now, retryDelaySeconds(row.attempts + 1),
          ]);
          result.failed += 1;
        }
      }
    });
    if (sent < batch) return result;
  }
}

async function post(target: OutgoingTarget, body: string, id: string, timestamp: number): Promise<string | null> {
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'dizi-event-id': id, 'dizi-signature': signWebhook(target.secret, body, timestamp), 'user-agent': 'dizi-billing' },
      body,
      signal: AbortSignal.timeout(target.timeoutMs ?? 10_000),
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? null : `HTTP ${res.status}`;
  } catch (err) {
    return (err as Error).message;
  }
}
