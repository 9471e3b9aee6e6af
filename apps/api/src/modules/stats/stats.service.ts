/**
 * The operators' dashboard. Each figure is one query that PostgreSQL aggregates, so the browser gets a
 * few dozen numbers however large the mail log is. Buckets are UTC hours and days, and every bucket of
 * the window is present (zero when nothing happened) so charts need no gap filling. The mail-log charts read
 * the rollups the scheduler keeps (libs/delivery mail-log-rollup.ts) before their watermark and the raw log
 * from it on (the last hour or so), so they cost the same whatever the month of log holds; with no rollup yet
 * they read the raw log only, with the same result.
 */
import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DashboardView } from '@dizi/contracts/stats.contract';
import type { Actor } from '@dizi/domain/policy';
import { forbidden } from '../../common/api-error';
import { DashboardQueryDto } from './dto';

import {
  MAIL_LOG_INBOUND as INBOUND,
  MAIL_LOG_OUTBOUND as OUTBOUND,
  MAIL_LOG_REASON as REASON,
  MAIL_LOG_REFUSED as REFUSED,
  MAIL_LOG_SENDER as SENDER,
} from '@dizi/delivery/adapters/postgres/mail-log-rollup';


// Every mail_log row before this instant is counted in the rollup tables.
const WATERMARK = `SELECT coalesce(max(rolled_until), '-infinity'::timestamptz)::text AS until FROM mail_rollup_state`;

interface BucketRow {
  at: Date;
  inbound: number;
  outbound: number;
  refused: number;
}

@Injectable()
export class StatsService {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The dashboard, and how long each chart's query took in milliseconds (they run concurrently; the controller
   * sends the timings as a Server-Timing header, which bench/consoles reads).
   */
  async dashboard(actor: Actor, query: DashboardQueryDto): Promise<{ view: DashboardView; timings: Record<string, number> }> {
    const timings: Record<string, number> = {};
    const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const start = performance.now();
      try {
        return await work();
      } finally {
        timings[name] = performance.now() - start;
      }
    };
    if (actor.role !== 'operator') throw forbidden('only operators see the installation dashboard');
    // The rollups' watermark: log rows before it are counted in the rollup tables, rows from it on only in mail_log.
    // Passed as a parameter so PostgreSQL plans the raw part as the short index range it is.
    const [{ until }]: { until: string }[] = await timed('watermark', () =>
      this.dataSource.query(WATERMARK),
    );
    const [perHour, perDay, refusals, queueNow, queuePerHour, storage, senders] = await Promise.all([
      timed('mailPerHour', () => this.mailBuckets('hour', query.hours, until)),
      timed('mailPerDay', () => this.mailBuckets('day', query.days, until)),
      timed('refusalsByReason', () => this.refusals(query.days, query.top, until)),
      timed('queueNow', () =>
        this.dataSource.query(
          `SELECT count(*) FILTER (WHERE status = 'queued')::int AS queued, count(*) FILTER (WHERE status = 'deferred')::int AS deferred
             FROM spool_recipient WHERE status IN ('queued', 'deferred')`,
        ),
      ),
      timed('queuePerHour', () => this.queuePerHour(query.hours)),
      timed('storageByTenant', () =>
        this.dataSource.query(
          `SELECT t.id, t.name, t.max_storage_bytes::text AS max, coalesce(sum(m.used_bytes), 0)::text AS used, count(m.id)::int AS mailboxes
             FROM tenant t LEFT JOIN mailbox m ON m.tenant_id = t.id
            GROUP BY t.id ORDER BY coalesce(sum(m.used_bytes), 0) DESC, t.name LIMIT $1`,
          [query.top],
        ),
      ),
      timed('topSenders', () => this.topSenders(query.days, query.top)),
    ]);
    const view: DashboardView = {
      generatedAt: new Date().toISOString(),
      mailPerHour: perHour,
      mailPerDay: perDay,
      refusalsByReason: refusals,
      queueNow: queueNow[0],
      queuePerHour,
      storageByTenant: storage.map((r: { id: string; name: string; max: string | null; used: string; mailboxes: number }) => ({
        tenantId: r.id,
        name: r.name,
        usedBytes: Number(r.used),
        maxStorageBytes: r.max === null ? null : Number(r.max),
        mailboxes: r.mailboxes,
      })),
      topSenders: senders,
    };
    return { view, timings };
  }

  /** Inbound, outbound and refused per UTC hour or day, the current one last. */
  private async mailBuckets(unit: 'hour' | 'day', count: number, until: string) {
    const rows: BucketRow[] = await this.dataSource.query(
      `WITH w AS (SELECT date_trunc('${unit}', now(), 'UTC') - ($1::int - 1) * interval '1 ${unit}' AS start, $2::timestamptz AS until),
       counts AS (
         SELECT date_trunc('${unit}', h.hour, 'UTC') AS at, h.inbound, h.outbound, h.refused
           FROM mail_hourly h, w WHERE h.hour >= w.start AND h.hour < w.until
         UNION ALL
         SELECT date_trunc('${unit}', at, 'UTC') AS at,
                count(*) FILTER (WHERE ${INBOUND}), count(*) FILTER (WHERE ${OUTBOUND}), count(*) FILTER (WHERE ${REFUSED})
           FROM mail_log, w
          WHERE at >= greatest(w.start, w.until)
          GROUP BY 1)
       SELECT s.at, coalesce(sum(c.inbound), 0)::int AS inbound, coalesce(sum(c.outbound), 0)::int AS outbound, coalesce(sum(c.refused), 0)::int AS refused
         FROM w, generate_series(w.start, date_trunc('${unit}', now(), 'UTC'), interval '1 ${unit}') s(at)
         LEFT JOIN counts c ON c.at = s.at
        GROUP BY s.at ORDER BY s.at`,
      [count, until],
    );
    return rows.map((r) => ({ at: r.at.toISOString(), inbound: r.inbound, outbound: r.outbound, refused: r.refused }));
  }

  /** Session refusals by reason over the last `days` UTC days. */
  private refusals(days: number, top: number, until: string): Promise<{ reason: string; count: number }[]> {
    return this.dataSource.query(
      `WITH w AS (SELECT date_trunc('day', now(), 'UTC') - ($1::int - 1) * interval '1 day' AS start, $3::timestamptz AS until),
       counts AS (
         SELECT r.reason, r.count FROM mail_refusal_hourly r, w WHERE r.hour >= w.start AND r.hour < w.until
         UNION ALL
         SELECT ${REASON}, count(*) FROM mail_log, w WHERE at >= greatest(w.start, w.until) AND ${REFUSED} GROUP BY 1)
       SELECT reason, sum(count)::int AS count FROM counts GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $2`,
      [days, top, until],
    );
  }

  /**
   * Senders of accepted mail over the last `days` UTC days (the rollup is per day, the window whole days). A day's
   * row grows while the rollup passes its hours, so the watermark is read again here in the same snapshot as the
   * rows: a rollup committing meanwhile cannot count an hour twice. (The hourly tables need no such care: the other
   * charts only read hours before the watermark they were given, and those never change.)
   */
  private topSenders(days: number, top: number): Promise<{ sender: string; messages: number }[]> {
    return this.dataSource.transaction('REPEATABLE READ', async (m) => {
      const [{ until }]: { until: string }[] = await m.query(WATERMARK);
      return m.query(
        `WITH w AS (SELECT date_trunc('day', now(), 'UTC') - ($1::int - 1) * interval '1 day' AS start, $3::timestamptz AS until),
         counts AS (
           SELECT d.sender, d.count FROM mail_sender_daily d, w WHERE d.day >= w.start AND d.day < w.until
           UNION ALL
           SELECT ${SENDER}, count(*) FROM mail_log, w WHERE at >= greatest(w.start, w.until) AND ${INBOUND} GROUP BY 1)
         SELECT sender, sum(count)::int AS messages FROM counts GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $2`,
        [days, top, until],
      );
    });
  }

  /**
   * Recipients waiting at the end of each hour, rebuilt from the spool: received before then and either
   * still queued/deferred or finished (delivered, bounced, failed) after then. Only rows that were open at
   * some point of the window are read.
   */
  private async queuePerHour(hours: number) {
    const rows: { at: Date; waiting: number }[] = await this.dataSource.query(
      `WITH win AS (SELECT date_trunc('hour', now(), 'UTC') - ($1::int - 1) * interval '1 hour' AS start),
       open AS (
         SELECT m.received_at AS since,
                CASE WHEN r.status IN ('queued', 'deferred') THEN NULL ELSE coalesce(r.delivered_at, r.last_attempt_at, m.received_at) END AS until
           FROM spool_recipient r JOIN spool_message m ON m.id = r.message_id, win
          WHERE r.status IN ('queued', 'deferred') OR coalesce(r.delivered_at, r.last_attempt_at, m.received_at) >= win.start)
       SELECT s.at,
              (SELECT count(*) FROM open o WHERE o.since < s.at + interval '1 hour' AND (o.until IS NULL OR o.until >= s.at + interval '1 hour'))::int AS waiting
         FROM win, generate_series(win.start, date_trunc('hour', now(), 'UTC'), interval '1 hour') s(at)
        ORDER BY s.at`,
      [hours],
    );
    return rows.map((r) => ({ at: r.at.toISOString(), waiting: r.waiting }));
  }
}
