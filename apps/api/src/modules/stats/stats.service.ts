/**
 * The operators' dashboard. Each figure is one query that PostgreSQL aggregates, so the browser gets a
 * few dozen numbers however large the mail log is. Buckets are UTC hours and days, and every bucket of
 * the window is present (zero when nothing happened) so charts need no gap filling.
 */
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DashboardView } from '@dizi/contracts/stats.contract';
import type { Actor } from '@dizi/domain/policy';
import { forbidden } from '../../common/api-error';
import { DashboardQueryDto } from './dto';

// What counts as "in", "out" and "refused" in the mail log (libs/delivery/src/logs/mail-log.ts).
const INBOUND = `kind = 'session' AND result = 'accepted'`;
const OUTBOUND = `kind = 'outbound' AND result = 'delivered'`;
const REFUSED = `kind = 'session' AND result = 'rejected'`;

interface BucketRow {
  at: Date;
  inbound: number;
  outbound: number;
  refused: number;
}

@Injectable()
export class StatsService {
  constructor(private readonly dataSource: DataSource) {}

  async dashboard(actor: Actor, query: DashboardQueryDto): Promise<DashboardView> {
    if (actor.role !== 'operator') throw forbidden('only operators see the installation dashboard');
    const [perHour, perDay, refusals, queueNow, queuePerHour, storage, senders] = await Promise.all([
      this.mailBuckets('hour', query.hours),
      this.mailBuckets('day', query.days),
      this.dataSource.query(
        `SELECT left(reason, 120) AS reason, count(*)::int AS count FROM mail_log
          WHERE at >= date_trunc('day', now(), 'UTC') - ($1::int - 1) * interval '1 day' AND ${REFUSED}
          GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $2`,
        [query.days, query.top],
      ),
      this.dataSource.query(
        `SELECT count(*) FILTER (WHERE status = 'queued')::int AS queued, count(*) FILTER (WHERE status = 'deferred')::int AS deferred
           FROM spool_recipient WHERE status IN ('queued', 'deferred')`,
      ),
      this.queuePerHour(query.hours),
      this.dataSource.query(
        `SELECT t.id, t.name, t.max_storage_bytes::text AS max, coalesce(sum(m.used_bytes), 0)::text AS used, count(m.id)::int AS mailboxes
           FROM tenant t LEFT JOIN mailbox m ON m.tenant_id = t.id
          GROUP BY t.id ORDER BY coalesce(sum(m.used_bytes), 0) DESC, t.name LIMIT $1`,
        [query.top],
      ),
      this.dataSource.query(
        `SELECT lower(coalesce(mail_from, '')) AS sender, count(*)::int AS messages FROM mail_log
          WHERE at >= date_trunc('day', now(), 'UTC') - ($1::int - 1) * interval '1 day' AND ${INBOUND}
          GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $2`,
        [query.days, query.top],
      ),
    ]);
    return {
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
  }

  /** Inbound, outbound and refused per UTC hour or day, the current one last. */
  private async mailBuckets(unit: 'hour' | 'day', count: number) {
    const rows: BucketRow[] = await this.dataSource.query(
      `WITH counts AS (
         SELECT date_trunc('${unit}', at, 'UTC') AS at,
                count(*) FILTER (WHERE ${INBOUND}) AS inbound,
                count(*) FILTER (WHERE ${OUTBOUND}) AS outbound,
                count(*) FILTER (WHERE ${REFUSED}) AS refused
           FROM mail_log
          WHERE at >= date_trunc('${unit}', now(), 'UTC') - ($1::int - 1) * interval '1 ${unit}'
          GROUP BY 1)
       SELECT s.at, coalesce(c.inbound, 0)::int AS inbound, coalesce(c.outbound, 0)::int AS outbound, coalesce(c.refused, 0)::int AS refused
         FROM generate_series(date_trunc('${unit}', now(), 'UTC') - ($1::int - 1) * interval '1 ${unit}', date_trunc('${unit}', now(), 'UTC'), interval '1 ${unit}') s(at)
         LEFT JOIN counts c ON c.at = s.at
        ORDER BY s.at`,
      [count],
    );
    return rows.map((r) => ({ at: r.at.toISOString(), inbound: r.inbound, outbound: r.outbound, refused: r.refused }));
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
