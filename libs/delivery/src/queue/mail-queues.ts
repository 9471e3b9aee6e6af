/**
 * The BullMQ queues of the mail flow and how work is put on them. PostgreSQL's spool is the source of truth;
 * a job only says "look at this spooled message now", so enqueueing twice, or losing a job, is harmless:
 * the sweeper enqueues again whatever is still due.
 */
import { Queue as BullQueue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type Redis from 'ioredis';
import { deliveryJobId, outboundJobId, Queue, type DeliveryJob, type OutboundJob } from '@dizi/contracts/queues';
import { GroupCommit } from '@dizi/mail-store/group-commit';

/** BullMQ keys live under the installation's prefix; it has its own `prefix` option and ignores ioredis keyPrefix. */
export const bullPrefix = (redisPrefix: string): string => `${redisPrefix}bull`;

/**
 * Finished jobs are removed at once, so the same job id can be added again later (a deferred recipient that
 * falls due); while a job waits or runs, adding its id again is a no-op.
 */
const JOB_OPTIONS: JobsOptions = { removeOnComplete: true, removeOnFail: true, attempts: 1 };

/** A BullMQ connection from the node's client: no key prefix (BullMQ prefixes itself), no request retry limit. */
export function bullConnection(redis: Redis): Redis {
  const c = redis.duplicate({ keyPrefix: '', maxRetriesPerRequest: null });
  c.on('error', () => undefined);
  return c;
}

export class MailQueues {
  readonly delivery: BullQueue<DeliveryJob>;
  readonly outbound: BullQueue<OutboundJob>;
  private readonly connection: Redis;
  /** Delivery jobs added at the same time go to Redis in one pipeline (one write instead of one per job). */
  private readonly deliveryAdds: GroupCommit<{ job: DeliveryJob; delayMs: number }, void>;

  constructor(redis: Redis, redisPrefix: string) {
    this.connection = bullConnection(redis);
    const opts = { connection: this.connection as ConnectionOptions, prefix: bullPrefix(redisPrefix) };
    this.delivery = new BullQueue<DeliveryJob>(Queue.Delivery, opts);
    this.outbound = new BullQueue<OutboundJob>(Queue.Outbound, opts);
    this.deliveryAdds = new GroupCommit({
      flush: async (adds) => {
        await this.delivery.addBulk(adds.map(({ job, delayMs }) => ({
          name: 'deliver', data: job, opts: { ...JOB_OPTIONS, jobId: deliveryJobId(job), delay: delayMs },
        })));
        return adds.map(() => undefined);
      },
    });
  }

  /** Deliver the local recipients of a spooled message. */
  async enqueueDelivery(spoolMessageId: string, delayMs = 0): Promise<void> {
    await this.deliveryAdds.submit({ job: { spoolMessageId }, delayMs });
  }

  /** Send the remote recipients of a spooled message at one destination domain. */
  async enqueueOutbound(spoolMessageId: string, domain: string, attempt = 0, delayMs = 0): Promise<void> {
    const job: OutboundJob = { spoolMessageId, domain };
    await this.outbound.add('send', job, { ...JOB_OPTIONS, jobId: outboundJobId(job, attempt), delay: delayMs });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.delivery.close(), this.outbound.close()]);
    this.connection.disconnect();
  }
}
