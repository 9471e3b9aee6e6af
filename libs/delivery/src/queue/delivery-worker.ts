/**
 * The BullMQ worker of Queue.Delivery: one job = one spooled message, delivered by LocalDelivery. Jobs running at the
 * same time are handed to LocalDelivery together (group commit), so a busy node stores many messages per transaction.
 * Messages this node's smtp role spooled arrive the same way through `offer`, without a job.
 */
import { Worker, type ConnectionOptions } from 'bullmq';
import type Redis from 'ioredis';
import { Queue, type DeliveryJob } from '@dizi/contracts/queues';
import { GroupCommit } from '@dizi/mail-store/group-commit';
import type { DeliveryResult, LocalDelivery } from '../local/local-delivery';
import type { DeliveryHandoff } from './local-first-queues';
import { bullConnection, bullPrefix } from './mail-queues';

export interface DeliveryWorkerOptions {
  redis: Redis;
  redisPrefix: string;
  delivery: LocalDelivery;
  concurrency: number;
  /** Most messages delivered as one batch (default: the concurrency). */
  batchSize?: number;
  /** Messages handed over in process (offer) that may wait or run at once; beyond, offer says no. Default 256. */
  handoffLimit?: number;
  onError?: (err: unknown) => void;
}

export interface DeliveryWorker extends DeliveryHandoff {
  close(): Promise<void>;
}

export function startDeliveryWorker(o: DeliveryWorkerOptions): DeliveryWorker {
  const connection = bullConnection(o.redis);
  const maxBatch = o.batchSize ?? o.concurrency;
  const batches = new GroupCommit<string, DeliveryResult>({
    flush: (ids) => o.delivery.deliverMessages(ids),
    maxBatch,
    // A second batch beside the first only once a full one waits (group-commit.ts): fewer round trips per message.
    maxInFlight: 2,
  });
  const worker = new Worker<DeliveryJob>(
    Queue.Delivery,
    async (job) => batches.submit(job.data.spoolMessageId),
    {
      connection: connection as ConnectionOptions,
      prefix: bullPrefix(o.redisPrefix),
      concurrency: o.concurrency,
      // A job killed with its node is picked up again once its lock lapses (renewed every lockDuration/2 while
      // alive); until then the sweeper's re-add is a no-op. Short, since a re-run is harmless.
      lockDuration: 10_000,
      stalledInterval: 5_000,
      maxStalledCount: 100,
      // Whoever added the job, it leaves no finished copy behind that would swallow a later add with the same id.
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
    },
  );
  worker.on('error', (err) => o.onError?.(err));

  // Messages handed over by this node's smtp role (local-first-queues.ts) join the same batches as queued jobs.
  const handoffLimit = o.handoffLimit ?? 256;
  const handedOver = new Set<Promise<unknown>>();
  let closing = false;
  return {
    offer(spoolMessageId) {
      if (closing || handedOver.size >= handoffLimit) return false;
      const delivering = batches.submit(spoolMessageId).catch((err: unknown) => o.onError?.(err));
      handedOver.add(delivering);
      void delivering.finally(() => handedOver.delete(delivering));
      return true;
    },
    async close() {
      closing = true;
      // What was handed over finishes like an active job; were it cut short, the sweeper would pick it up.
      await Promise.all([worker.close(), Promise.allSettled(handedOver)]);
      connection.disconnect();
    },
  };
}
