/**
 * Hourly rollups of `mail_log` for the operators' dashboard (tables in migration 1766150000000): mail in, out and
 * refused per UTC hour, refusals per hour and reason, senders per UTC day. The scheduler role calls
 * `rollUpMailLog` every few minutes. Each pass adds the closed hours after the watermark and moves the watermark in
 * the same transaction, holding the state row's lock, so runs on several nodes at once or twice in a row count each
 * row once, and a run after downtime catches up every hour it missed. Hours are closed a grace period after they end
 * so rows written a little late (buffered by a node) are still counted. The dashboard reads rollups before the
 * watermark and the raw log from it on (apps/api stats.service.ts).
 */
import type { Pool } from 'pg';
import type { MailLogDb } from './mail-log';

// What counts as "in", "out" and "refused" — the same conditions the dashboard applied to the raw log.
export const MAIL_LOG_INBOUND = `kind = 'session' AND result = 'accepted'`;
export const MAIL_LOG_OUTBOUND = `kind = 'outbound' AND result = 'delivered'`;
export const MAIL_LOG_REFUSED = `kind = 'session' AND result = 'rejected'`;
/** Refusal reasons are grouped by their first 120 characters, senders in lower case ('' for the null sender). */
export const MAIL_LOG_REASON = `left(reason, 120)`;
export const MAIL_LOG_SENDER = `lower(coalesce(mail_from, ''))`;

export interface RollupOptions {
  /** An hour is rolled up once it ended this long ago (default 5 minutes). */
  graceMs?: number;
  /** Hours per transaction while catching up (default 24). */
  chunkHours?: number;
}

export interface RollupResult {
  /** Hours added by this call. */
  hours: number;
  /** The watermark afterwards: every log row before it is in the rollups. */
  rolledUntil: Date | null;
}

export async function rollUpMailLog(pool: Pool, options: RollupOptions = {}): Promise<RollupResult> {
  const graceMs = Math.max(0, Math.floor(options.graceMs ?? 300_000));
  const chunkHours = Math.max(1, Math.floor(options.chunkHours ?? 24));
  let hours = 0;
  for (;;) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const state = await client.query(
        `SELECT s.rolled_until,
                date_trunc('hour', now() - make_interval(secs => $1::double precision / 1000), 'UTC') AS target,
                (SELECT date_trunc('hour', min(at), 'UTC') FROM mail_log) AS first
           FROM mail_rollup_state s WHERE s.id FOR UPDATE`,
        [graceMs],
      );
      if (state.rows.length === 0) throw new Error('mail_rollup_state has no row: run the migrations');
      const { rolled_until: rolledUntil, target, first } = state.rows[0] as { rolled_until: Date | null; target: Date; first: Date | null };
      const from: Date | null = rolledUntil ?? first;
      if (from === null || from >= target) {
        // Nothing logged yet, or caught up. An empty log starts the watermark at the target hour.
        if (rolledUntil === null && from === null) await client.query(`UPDATE mail_rollup_state SET rolled_until = $1 WHERE id`, [target]);
        await client.query('COMMIT');
        return { hours, rolledUntil: rolledUntil ?? (from === null ? target : null) };
      }
      const to = new Date(Math.min(from.getTime() + chunkHours * 3_600_000, target.getTime()));
      await client.query(
        `INSERT INTO mail_hourly (hour, inbound, outbound, refused)
         SELECT date_trunc('hour', at, 'UTC'), count(*) FILTER (WHERE ${MAIL_LOG_INBOUND}), count(*) FILTER (WHERE ${MAIL_LOG_OUTBOUND}),
                count(*) FILTER (WHERE ${MAIL_LOG_REFUSED})
           FROM mail_log WHERE at >= $1 AND at < $2
          GROUP BY 1
         ON CONFLICT (hour) DO UPDATE SET inbound = mail_hourly.inbound + excluded.inbound,
           outbound = mail_hourly.outbound + excluded.outbound, refused = mail_hourly.refused + excluded.refused`,
        [from, to],
      );
      await client.query(
        `INSERT INTO mail_refusal_hourly (hour, reason, count)
         SELECT date_trunc('hour', at, 'UTC'), ${MAIL_LOG_REASON}, count(*)
           FROM mail_log WHERE at >= $1 AND at < $2 AND ${MAIL_LOG_REFUSED}
          GROUP BY 1, 2
         ON CONFLICT (hour, reason) DO UPDATE SET count = mail_refusal_hourly.count + excluded.count`,
        [from, to],
      );
      // A day spans several passes: its counts add up across them.
      await client.query(
        `INSERT INTO mail_sender_daily (day, sender, count)
         SELECT date_trunc('day', at, 'UTC'), ${MAIL_LOG_SENDER}, count(*)
           FROM mail_log WHERE at >= $1 AND at < $2 AND ${MAIL_LOG_INBOUND}
          GROUP BY 1, 2
         ON CONFLICT (day, sender) DO UPDATE SET count = mail_sender_daily.count + excluded.count`,
        [from, to],
      );
      await client.query(`UPDATE mail_rollup_state SET rolled_until = $1 WHERE id`, [to]);
      await client.query('COMMIT');
      hours += Math.round((to.getTime() - from.getTime()) / 3_600_000);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}

/**
 * Drops rollup rows whose whole hour (or day) lies past the mail log's retention, as purgeMailLogs drops the rows
 * they count. A bucket the cut-off falls into is kept.
 */
export async function purgeMailRollups(db: MailLogDb, days: number): Promise<void> {
  if (!Number.isFinite(days) || days < 1) throw new RangeError(`mail log retention must be at least 1 day, got ${days}`);
  const d = Math.floor(days);
  await db.query(`DELETE FROM mail_hourly WHERE hour + interval '1 hour' <= now() - make_interval(days => $1)`, [d]);
  await db.query(`DELETE FROM mail_refusal_hourly WHERE hour + interval '1 hour' <= now() - make_interval(days => $1)`, [d]);
  await db.query(`DELETE FROM mail_sender_daily WHERE day + interval '1 day' <= now() - make_interval(days => $1)`, [d]);
}
