/**
 * Usage per tenant and day: mailboxes (peak) and storage (peak bytes, a day at that level is that many GB-days)
 * sampled while the day runs, messages sent outside and received counted from the spool when the day is closed.
 * Closing is idempotent (counts are set, not added) and catches up every day missed since the last close, as far
 * back as the spool keeps messages. Closed days are reported to Stripe's Billing Meters once: each meter event has an
 * identifier made of tenant, day and meter, so a retry after a crash is refused by Stripe, not counted twice.
 */
import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';

/** Any key, the same for every billing process: only one closes or reports at a time. */
const CLOSE_LOCK = 0x6469_7a69_0017n;
const DAY_MS = 86_400_000;

export const utcDay = (d: Date): string => d.toISOString().slice(0, 10);
const addDays = (day: string, n: number): string => utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS));

/** Today's peaks so far, for every tenant (one statement). */
export async function sampleUsage(db: DataSource, now: Date = new Date()): Promise<number> {
  const rows = await db.query(
    `INSERT INTO usage_daily (tenant_id, day, mailboxes_peak, storage_bytes_peak)
     SELECT t.id, $1::date, coalesce(m.n, 0), coalesce(m.bytes, 0)
       FROM tenant t LEFT JOIN (SELECT tenant_id, count(*)::int AS n, sum(used_bytes)::bigint AS bytes FROM mailbox GROUP BY tenant_id) m ON m.tenant_id = t.id
     ON CONFLICT (tenant_id, day) DO UPDATE
        SET mailboxes_peak = GREATEST(usage_daily.mailboxes_peak, EXCLUDED.mailboxes_peak),
            storage_bytes_peak = GREATEST(usage_daily.storage_bytes_peak, EXCLUDED.storage_bytes_peak)
      WHERE usage_daily.closed_at IS NULL
     RETURNING 1`,
    [utcDay(now)],
  );
  return rows.length;
}

export interface CloseResult {
  days: string[];
  queries: number;
}

/**
 * Closes every day before today not closed yet (the first run starts `catchUpDays` back, the spool's retention).
 * Days without a sample (the job was down) get today's mailbox count of mailboxes that existed then, and today's storage.
 */
export async function closeUsageDays(db: DataSource, now: Date = new Date(), catchUpDays = 7): Promise<CloseResult> {
  const today = utcDay(now);
  let queries = 0;
  const days: string[] = [];
  await db.transaction(async (m) => {
    const q = (sql: string, params: unknown[] = []) => {
      queries += 1;
      return m.query(sql, params);
    };
    await q(`SELECT pg_advisory_xact_lock($1)`, [CLOSE_LOCK.toString()]);
    const [mark] = await q(`SELECT to_char(last_closed_day, 'YYYY-MM-DD') AS day FROM usage_close`);
    let day = mark ? addDays(mark.day, 1) : addDays(today, -catchUpDays);
    for (; day < today; day = addDays(day, 1)) {
      const next = addDays(day, 1);
      await q(
        `INSERT INTO usage_daily (tenant_id, day, mailboxes_peak, storage_bytes_peak)
         SELECT t.id, $1::date, coalesce(m.n, 0), coalesce(m.bytes, 0)
           FROM tenant t LEFT JOIN (SELECT tenant_id, count(*)::int AS n, sum(used_bytes)::bigint AS bytes FROM mailbox WHERE created_at < $2::date GROUP BY tenant_id) m
             ON m.tenant_id = t.id
          WHERE t.created_at < $2::date
         ON CONFLICT (tenant_id, day) DO NOTHING`,
        [day, next],
      );
      // Each count once for the whole day (MATERIALIZED: never re-planned per tenant row), then one join to the day's rows.
      await q(
        `WITH s AS MATERIALIZED (
                SELECT mb.tenant_id, count(DISTINCT sm.id)::int AS n
                  FROM spool_message sm JOIN spool_recipient sr ON sr.message_id = sm.id JOIN mailbox mb ON mb.id = sm.auth_mailbox_id
                 WHERE sr.kind = 'remote' AND sm.received_at >= $1::date AND sm.received_at < $2::date GROUP BY mb.tenant_id),
              r AS MATERIALIZED (
                SELECT d.tenant_id, count(DISTINCT sm.id)::int AS n
                  FROM spool_message sm JOIN spool_recipient sr ON sr.message_id = sm.id JOIN domain d ON d.name = sr.domain
                 WHERE sr.kind = 'local' AND sm.source <> 'system' AND sm.received_at >= $1::date AND sm.received_at < $2::date GROUP BY d.tenant_id)
         UPDATE usage_daily u SET sent_outside = coalesce(s.n, 0), received = coalesce(r.n, 0), closed_at = now()
           FROM usage_daily u0 LEFT JOIN s ON s.tenant_id = u0.tenant_id LEFT JOIN r ON r.tenant_id = u0.tenant_id
          WHERE u0.day = $1::date AND u.day = $1::date AND u.tenant_id = u0.tenant_id AND u.closed_at IS NULL`,
        [day, next],
      );
      // For ISPs' own billing: one signed outgoing webhook per tenant and closed day (outgoing-webhooks.ts).
      await q(
        `INSERT INTO billing_outbox (type, tenant_id, payload)
         SELECT 'usage.day_closed', tenant_id, jsonb_build_object('day', to_char(day, 'YYYY-MM-DD'), 'mailboxesPeak', mailboxes_peak,
                'storageGbDays', round(storage_bytes_peak / 1e9, 3), 'sentOutside', sent_outside, 'received', received)
           FROM usage_daily WHERE day = $1::date AND closed_at = now()`,
        [day],
      );
      await q(`INSERT INTO usage_close (id, last_closed_day) VALUES (true, $1::date) ON CONFLICT (id) DO UPDATE SET last_closed_day = EXCLUDED.last_closed_day`, [day]);
      days.push(day);
    }
  });
  return { days, queries };
}

export interface MeterNames {
  mailboxes: string;
  storageGbDays: string;
  sentOutside: string;
}

export interface ReportResult {
  events: number;
  /** Events Stripe already had (identifier seen): counted once, there. */
  alreadyReported: number;
  rows: number;
}

/** GB-days of one day at `bytes`, whole units as meters aggregate them (rounded up: a started GB counts). */
export const gbDays = (bytes: number): number => Math.ceil(bytes / 1e9);

/** Reports closed, unreported days of tenants billed through Stripe, then marks them reported. */
export async function reportUsageToStripe(db: DataSource, stripe: Stripe, meters: MeterNames, batch = 500): Promise<ReportResult> {
  const result: ReportResult = { events: 0, alreadyReported: 0, rows: 0 };
  for (;;) {
    const rows: Array<{ tenant_id: string; day: string; mailboxes_peak: number; storage_bytes_peak: string; sent_outside: number; customer: string }> = await db.query(
      `SELECT u.tenant_id, to_char(u.day, 'YYYY-MM-DD') AS day, u.mailboxes_peak, u.storage_bytes_peak, u.sent_outside, b.stripe_customer_id AS customer
         FROM usage_daily u JOIN tenant_billing b ON b.tenant_id = u.tenant_id
        WHERE u.closed_at IS NOT NULL AND u.reported_at IS NULL AND b.mode = 'stripe' AND b.stripe_customer_id IS NOT NULL
        ORDER BY u.day, u.tenant_id LIMIT $1`,
      [batch],
    );
    if (!rows.length) return result;
    for (const row of rows) {
      // Inside the day, so Stripe puts it in the right billing period.
      const timestamp = Math.floor(Date.parse(`${row.day}T23:59:59Z`) / 1000);
      const values: Array<[string, string, number]> = [
        ['mailboxes', meters.mailboxes, row.mailboxes_peak],
        ['storage', meters.storageGbDays, gbDays(Number(row.storage_bytes_peak))],
        ['sent', meters.sentOutside, row.sent_outside],
      ];
      for (const [kind, eventName, value] of values) {
        try {
          await stripe.billing.meterEvents.create({
            event_name: eventName,
            identifier: `dizi-${row.tenant_id}-${row.day}-${kind}`,
            timestamp,
            payload: { stripe_customer_id: row.customer, value: String(value) },
          });
          result.events += 1;
        } catch (err) {
          const e = err as { code?: string; statusCode?: number };
          if (e.code !== 'resource_already_exists') throw err;
          result.alreadyReported += 1;
        }
      }
      await db.query(`UPDATE usage_daily SET reported_at = now() WHERE tenant_id = $1 AND day = $2::date`, [row.tenant_id, row.day]);
      result.rows += 1;
    }
  }
}
