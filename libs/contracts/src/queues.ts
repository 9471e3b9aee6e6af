/** Every BullMQ queue of the mail flow, named once; each job's payload is typed here. */
export enum Queue {
  /** One job per spooled message: deliver its local recipients. */
  Delivery = 'dizi-delivery',
  /** One job per spooled message and destination domain: send its remote recipients. */
  Outbound = 'dizi-outbound',
}

export interface DeliveryJob {
  spoolMessageId: string;
}

export interface OutboundJob {
  spoolMessageId: string;
  /** Destination domain (the per-destination queue key). */
  domain: string;
}

/**
 * Job ids make enqueueing idempotent: the sweeper may enqueue what SMTP already did.
 * BullMQ refuses `:` in custom ids (it reserves it for repeatable jobs), hence `_`.
 */
export const deliveryJobId = (j: DeliveryJob) => `deliver_${j.spoolMessageId}`;
export const outboundJobId = (j: OutboundJob, attempt: number) => `send_${j.spoolMessageId}_${j.domain}_${attempt}`;
