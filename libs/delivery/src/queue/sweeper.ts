/**
 * The outbox sweeper, run by the scheduler role every few seconds: PostgreSQL's spool is the truth and BullMQ only a
 * doorbell, so anything due that no job finished (Redis lost, a node killed mid-job, a deferral falling due) is
 * enqueued again. Job ids make double enqueueing harmless. It also closes finished messages and purges old ones,
 * which releases their blobs (the refcount trigger on spool_message).
 */
import type { Pool } from 'pg';
import type { DeliveryEnqueuer } from '../local/local-delivery';

export interface SweeperOptions {
  pool: Pool;
  queues: DeliveryEnqueuer;
  /** Work younger than this is left to the job SMTP enqueued itself. Default 5 s. */
  graceSeconds?: number;
  /** Finished spool messages are kept this long (operators look at the queue), then deleted. Default 7 days. */
  retentionDays?: number;
  /** Rows per statement, so one sweep never holds long locks. Default 1000. */
  batch?: number;
}

export interface SweepResult {
  deliveryJobs: number;
  outboundJobs: number;
  closed: number;
  purged: number;
}

export class SpoolSweeper {
  private readonly graceSeconds: number;
  private readonly retentionDays: number;
  private readonly batch: number;

  constructor(private readonly o: SweeperOptions) {
    this.graceSeconds = o.graceSeconds ?? 5;
    this.retentionDays = o.retentionDays ?? 7;
    this.batch = o.batch ?? 1000;
  }

  async sweep(): Promise<SweepResult> {
    const { pool, queues } = this.o;
    const { rows: local } = await pool.query<{ message_id: string }>(
      `SELECT DISTINCT message_id FROM spool_recipient
        WHERE status IN ('queued', 'deferred') AND kind = 'local' AND next_attempt_at <= now() - make_interval(secs => $1)
        LIMIT $2`,
      [this.graceSeconds, this.batch],
    );
    const { rows: remote } = await pool.query<{ message_id: string; domain: string; attempts: number }>(
      `SELECT message_id, domain, min(attempts) AS attempts FROM spool_recipient
        WHERE status IN ('queued', 'deferred') AND kind = 'remote' AND next_attempt_at <= now() - make_interval(secs => $1)
        GROUP BY message_id, domain LIMIT $2`,
      [this.graceSeconds, this.batch],
    );
    await Promise.all([
      ...local.map((r) => queues.enqueueDelivery(r.message_id)),
      ...remote.map((r) => queues.enqueueOutbound(r.message_id, r.domain, Number(r.attempts))),
    ]);

    const closed = await pool.query(
      `UPDATE spool_message m SET done_at = now()
        WHERE m.id IN (
          SELECT s.id FROM spool_message s
           WHERE s.done_at IS NULL AND s.received_at <= now() - make_interval(secs => $1)
             AND NOT EXISTS (SELECT 1 FROM spool_recipient r WHERE r.message_id = s.id AND r.status IN ('queued', 'deferred'))
           LIMIT $2)`,
      [this.graceSeconds, this.batch],
    );
    const purged = await pool.query(
      `DELETE FROM spool_message WHERE id IN (
         SELECT id FROM spool_message WHERE done_at < now() - make_interval(days => $1) LIMIT $2)`,
      [this.retentionDays, this.batch],
    );
    return { deliveryJobs: local.length, outboundJobs: remote.length, closed: closed.rowCount ?? 0, purged: purged.rowCount ?? 0 };
  }
}
