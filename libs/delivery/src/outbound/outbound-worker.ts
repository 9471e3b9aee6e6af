/**
 * The outbound queue's worker process part: a BullMQ worker on Queue.Outbound running sendOutboundJob, a
 * per-destination limit so one slow domain cannot take every slot, and a sweeper that enqueues remote
 * recipients whose next attempt is due (first tries the SMTP role did not enqueue, retries, "retry now").
 */
import { DelayedError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type Redis from 'ioredis';
import { Queue, type OutboundJob } from '@dizi/contracts/queues';
import { domainKey } from '@dizi/domain/lookup-key';
import { bullConnection, bullPrefix, MailQueues } from '../queue/mail-queues';
import { sendOutboundJob, type OutboundDeps, type OutboundJobResult } from './send-outbound.job';

export interface OutboundWorkerOptions {
  /** Jobs this process runs at once. */
  concurrency: number;
  /** Jobs for one destination domain at once, on this process; more wait a moment and try again. */
  perDomainConcurrency?: number;
  /** How often due retries are looked for. */
  sweepIntervalMs?: number;
  /** Called after each job (tests wait on it). */
  onJobDone?: (job: OutboundJob, result: OutboundJobResult) => void;
}

export class OutboundWorker {
  private worker?: Worker<OutboundJob>;
  private connection?: Redis;
  private sweeper?: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  private readonly active = new Map<string, number>();

  constructor(
    private readonly deps: OutboundDeps,
    private readonly queues: MailQueues,
    private readonly redis: Redis,
    private readonly redisPrefix: string,
    private readonly opts: OutboundWorkerOptions,
  ) {}

  start(): void {
    this.connection = bullConnection(this.redis);
    this.worker = new Worker<OutboundJob>(Queue.Outbound, (job, token) => this.process(job, token), {
      connection: this.connection as ConnectionOptions,
      prefix: bullPrefix(this.redisPrefix),
      concurrency: this.opts.concurrency,
    });
    this.worker.on('error', (e) => this.deps.logger.warn({ err: String(e) }, 'outbound worker error'));
    this.worker.on('failed', (job, e) => this.deps.logger.warn({ err: String(e), job: job?.data }, 'outbound job failed; the sweeper retries it after its lease'));
    const interval = this.opts.sweepIntervalMs ?? 10_000;
    this.sweeper = setInterval(() => void this.sweep().catch((e) => this.deps.logger.warn({ err: String(e) }, 'outbound sweep failed')), interval);
    void this.sweep().catch(() => undefined);
  }

  private async process(job: Job<OutboundJob>, token?: string): Promise<OutboundJobResult | undefined> {
    const domain = domainKey(job.data.domain);
    const limit = this.opts.perDomainConcurrency ?? Math.max(1, Math.ceil(this.opts.concurrency / 4));
    const running = this.active.get(domain) ?? 0;
    if (running >= limit && token) {
      // Give the slot back to other destinations; this one is looked at again shortly.
      await job.moveToDelayed(Date.now() + 500 + Math.floor(Math.random() * 1000), token);
      throw new DelayedError();
    }
    this.active.set(domain, running + 1);
    try {
      const result = await sendOutboundJob(this.deps, job.data);
      for (const n of result.notices) {
        if (n.local) await this.queues.enqueueDelivery(n.id);
        else await this.queues.enqueueOutbound(n.id, n.domain, 0);
      }
      this.opts.onJobDone?.(job.data, result);
      return result;
    } finally {
      const left = (this.active.get(domain) ?? 1) - 1;
      if (left > 0) this.active.set(domain, left);
      else this.active.delete(domain);
    }
  }

  /** Enqueues every (message, domain) with due remote recipients; job ids carry the attempt (as SpoolSweeper computes it), so repeats are no-ops. */
  async sweep(limit = 1000): Promise<number> {
    if (this.sweeping) return 0;
    const run = (async () => {
      const due = await this.deps.spool.dueRemoteDestinations(0, limit);
      for (const r of due) await this.queues.enqueueOutbound(r.messageId, r.domain, r.attempts);
      return due.length;
    })();
    this.sweeping = run.then(() => undefined, () => undefined);
    try {
      return await run;
    } finally {
      this.sweeping = undefined;
    }
  }

  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.sweeping;
    await this.worker?.close();
    this.connection?.disconnect();
  }
}
