/**
 * Where the smtp role puts a freshly spooled message: to this node's own delivery workers when the node runs the
 * delivery role and they have room, otherwise on the shared BullMQ queue. The in-process path skips three Redis
 * scripts per message (add, take, finish) and their round trips, which on a busy node cost as much CPU as storing the
 * message. It needs no new safety: the spool is the truth and BullMQ only a doorbell (mail-queues.ts), so a message
 * handed over in memory and lost with its process is found by the sweeper like any unfinished job.
 */
import type { DeliveryEnqueuer } from '../local/local-delivery';
import type { MailQueues } from './mail-queues';

/** The delivery role's side: takes a spooled message now, or says no (busy, stopping). */
export interface DeliveryHandoff {
  offer(spoolMessageId: string): boolean;
}

export class LocalFirstQueues implements Pick<MailQueues, 'enqueueDelivery' | 'enqueueOutbound'> {
  constructor(
    private readonly queues: Pick<MailQueues, 'enqueueDelivery' | 'enqueueOutbound'>,
    /** Looked up at each message: the delivery role may start after, or stop before, the smtp role. */
    private readonly handoff: () => DeliveryHandoff | null,
  ) {}

  async enqueueDelivery(spoolMessageId: string, delayMs = 0): Promise<void> {
    if (delayMs === 0 && this.handoff()?.offer(spoolMessageId)) return;
    await this.queues.enqueueDelivery(spoolMessageId, delayMs);
  }

  enqueueOutbound(...args: Parameters<DeliveryEnqueuer['enqueueOutbound']>): Promise<void> {
    return this.queues.enqueueOutbound(...args);
  }
}
