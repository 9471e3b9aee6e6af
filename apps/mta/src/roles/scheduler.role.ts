import { SystemNotices } from '@dizi/delivery/local/system-notices';
import { purgeMailLogs } from '@dizi/delivery/adapters/postgres/mail-log';
import { purgeMailRollups, rollUpMailLog } from '@dizi/delivery/adapters/postgres/mail-log-rollup';
import { expireQuarantine } from '@dizi/delivery/adapters/postgres/quarantine-retention';
import { MailQueues } from '@dizi/delivery/queue/mail-queues';
import { SpoolSweeper } from '@dizi/delivery/queue/sweeper';
import type { MtaContext } from '../context';
import type { RunningRole } from './role';

const SWEEP_EVERY_MS = 3_000;
const WELCOME_EVERY_MS = 2_000;
const SEARCH_MERGE_EVERY_MS = 2_000;
const HOUSEKEEPING_EVERY_MS = 3600_000;
const ROLLUP_EVERY_MS = 60_000;

/**
 * Periodic work of the mail flow: the spool sweeper every few seconds (re-enqueues what no job finished, closes and
 * purges finished messages), the welcome mails the API asked for and the search index's bulk merge every two seconds,
 * the dashboard's mail-log rollups every minute (each closed hour once, catching up after downtime), and hourly housekeeping (mail log
 * retention, quarantine retention, blob garbage collection). Every step is idempotent, so several nodes may run this role at once.
 */
export async function startSchedulerRole(ctx: MtaContext): Promise<RunningRole> {
  const logger = ctx.logger.child({ role: 'scheduler' });
  const queues = new MailQueues(ctx.redis, ctx.config.REDIS_PREFIX);
  const sweeper = new SpoolSweeper({ spool: ctx.spool, queues, retentionDays: () => ctx.settings.smtp.spoolRetentionDays });
  const notices = new SystemNotices(ctx.pool, ctx.store, ctx.config.MTA_HOSTNAME);
  let stopped = false;
  const running = new Set<Promise<unknown>>();

  // Each task waits for its own previous run: a slow sweep is never overlapped by the next.
  const every = (ms: number, name: string, work: () => Promise<unknown>) => {
    const tick = async () => {
      if (stopped) return;
      const run = work().catch((err) => logger.warn({ err: String(err), task: name }, 'scheduled task failed'));
      running.add(run);
      await run;
      running.delete(run);
      if (!stopped) timer = setTimeout(() => void tick(), ms);
    };
    let timer = setTimeout(() => void tick(), 0);
    return () => clearTimeout(timer);
  };

  const stops = [
    every(SWEEP_EVERY_MS, 'sweep', async () => {
      const r = await sweeper.sweep();
      if (r.deliveryJobs + r.outboundJobs + r.purged > 0) logger.debug(r, 'spool swept');
    }),
    every(WELCOME_EVERY_MS, 'welcome-mail', async () => {
      const sent = await notices.sendPendingWelcomes(100, (err, mailboxId) => logger.warn({ err: String(err), mailboxId }, 'welcome mail failed; retried next run'));
      if (sent > 0) logger.debug({ sent }, 'welcome mails sent');
    }),
    every(SEARCH_MERGE_EVERY_MS, 'search-index', async () => {
      const pages = await ctx.store.mergeSearchIndex();
      if (pages > 0) logger.debug({ pages }, 'search index merged');
    }),
    every(ROLLUP_EVERY_MS, 'mail-log-rollup', async () => {
      const r = await rollUpMailLog(ctx.pool);
      if (r.hours > 0) logger.debug(r, 'mail log rolled up');
    }),
    every(HOUSEKEEPING_EVERY_MS, 'housekeeping', async () => {
      await purgeMailLogs(ctx.pool, ctx.settings.smtp.logRetentionDays);
      await purgeMailRollups(ctx.pool, ctx.settings.smtp.logRetentionDays);
      await expireQuarantine(ctx.pool, ctx.settings.smtp.quarantineRetentionDays);
      if (ctx.settings.smtp.quarantineDigestEnabled) await notices.sendQuarantineDigests(ctx.settings.smtp.quarantineRetentionDays);
      await ctx.store.collectGarbage();
    }),
  ];
  logger.info('scheduler started');
  return {
    name: 'scheduler',
    async stop() {
      stopped = true;
      for (const s of stops) s();
      await Promise.allSettled([...running]);
      await queues.close();
    },
  };
}
