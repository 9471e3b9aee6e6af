/**
 * The outbox sweeper, run by the scheduler role every few seconds: PostgreSQL's spool is the truth and BullMQ only a
 * doorbell, so anything due that no job finished (Redis lost, a node killed mid-job, a deferral falling due) is
 * enqueued again. Job ids make double enqueueing harmless. It also closes finished messages and purges old ones,
 * which releases their blobs (the refcount trigger on spool_message).
 */
import type { DeliveryEnqueuer } from '../local/local-delivery';
import type { SpoolStore } from '../ports/spool-store';

export interface SweeperOptions {
  spool: SpoolStore;
  queues: DeliveryEnqueuer;
  /** Work younger than this is left to the job SMTP enqueued itself. Default 5 s. */
  graceSeconds?: number;
  /** Finished spool messages are kept this long (operators look at the queue), then deleted. Default: setting spoolRetentionDays, else 7. */
  retentionDays?: number | (() => number);
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
  private readonly retentionDays: () => number;
  private readonly batch: number;

  constructor(private readonly o: SweeperOptions) {
    this.graceSeconds = o.graceSeconds ?? 5;
    const retention = o.retentionDays ?? 7;
    this.retentionDays = typeof retention === 'function' ? retention : () => retention;
    this.batch = o.batch ?? 1000;
  }

  async sweep(): Promise<SweepResult> {
    const { spool, queues } = this.o;
    const local = await spool.dueLocalMessages(this.graceSeconds, this.batch);
    const remote = await spool.dueRemoteDestinations(this.graceSeconds, this.batch);
    await Promise.all([
      ...local.map((id) => queues.enqueueDelivery(id)),
      ...remote.map((r) => queues.enqueueOutbound(r.messageId, r.domain, r.attempts)),
    ]);
    const closed = await spool.closeFinished(this.graceSeconds, this.batch);
    const purged = await spool.purgeDone(this.retentionDays(), this.batch);
    return { deliveryJobs: local.length, outboundJobs: remote.length, closed, purged };
  }
}
