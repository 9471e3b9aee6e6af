import { LocalDelivery } from '@dizi/delivery/local/local-delivery';
import { startDeliveryWorker } from '@dizi/delivery/queue/delivery-worker';
import { MailQueues } from '@dizi/delivery/queue/mail-queues';
import type { MtaContext } from '../context';
import type { RunningRole } from './role';

/**
 * Delivers spooled messages to local mailboxes: BullMQ workers on Queue.Delivery (ARCHITECTURE.md step 7), and what
 * this node's smtp role hands over directly.
 */
export async function startDeliveryRole(ctx: MtaContext): Promise<RunningRole> {
  const logger = ctx.logger.child({ role: 'delivery' });
  const queues = new MailQueues(ctx.redis, ctx.config.REDIS_PREFIX);
  const delivery = new LocalDelivery({
    spool: ctx.spool,
    directory: ctx.directory,
    notices: ctx.notices,
    store: ctx.store,
    blobs: ctx.blobs,
    settings: () => ctx.settings.smtp,
    hostname: ctx.config.MTA_HOSTNAME,
    queues,
    logger,
    srs: ctx.srs,
    sieveScripts: ctx.sieveScripts,
  });
  const worker = startDeliveryWorker({
    redis: ctx.redis,
    redisPrefix: ctx.config.REDIS_PREFIX,
    delivery,
    concurrency: ctx.config.DELIVERY_CONCURRENCY,
    handoffLimit: ctx.config.DELIVERY_HANDOFF_LIMIT,
    onError: (err) => logger.warn({ err: String(err) }, 'delivery worker error'),
  });
  if (ctx.config.DELIVERY_HANDOFF_LIMIT > 0) ctx.deliveryHandoff = worker;
  logger.info({ concurrency: ctx.config.DELIVERY_CONCURRENCY, handoffLimit: ctx.config.DELIVERY_HANDOFF_LIMIT }, 'delivery workers started');
  return {
    name: 'delivery',
    async stop() {
      if (ctx.deliveryHandoff === worker) ctx.deliveryHandoff = null;
      await worker.close();
      await queues.close();
    },
  };
}
