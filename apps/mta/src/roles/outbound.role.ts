import { promises as dns } from 'node:dns';
import type { ConnectionOptions } from 'node:tls';
import type { OutboundJob } from '@dizi/contracts/queues';
import { OutboundWorker } from '@dizi/delivery/outbound/outbound-worker';
import type { OutboundJobResult } from '@dizi/delivery/outbound/send-outbound.job';
import { MailQueues } from '@dizi/delivery/queue/mail-queues';
import type { MtaContext } from '../context';
import type { RunningRole } from './role';

export interface OutboundRoleOptions {
  /** Port of MX hosts; 25 unless a test points it at its fake server. */
  mxPort?: number;
  delayNoticeAfterMs?: number;
  sweepIntervalMs?: number;
  perDomainConcurrency?: number;
  tlsOptions?: ConnectionOptions;
  connectTimeoutMs?: number;
  onJobDone?: (job: OutboundJob, result: OutboundJobResult) => void;
}

export interface OutboundRunningRole extends RunningRole {
  worker: OutboundWorker;
}

/** Sends spooled mail for remote recipients (ARCHITECTURE.md "Inbound mail" step 8). */
export async function startOutboundRole(ctx: MtaContext, opts: OutboundRoleOptions = {}): Promise<OutboundRunningRole> {
  const resolver = new dns.Resolver({ timeout: 5000, tries: 2 });
  const servers = ctx.config.DNS_SERVERS.split(',').map((s) => s.trim()).filter(Boolean);
  if (servers.length) resolver.setServers(servers);

  const queues = new MailQueues(ctx.redis, ctx.config.REDIS_PREFIX);
  const logger = ctx.logger.child({ role: 'outbound' });
  const worker = new OutboundWorker(
    {
      spool: ctx.spool,
      directory: ctx.directory,
      blobs: ctx.blobs,
      store: ctx.store,
      settings: () => ctx.settings.smtp,
      resolver,
      hostname: ctx.config.MTA_HOSTNAME,
      logger,
      mxPort: opts.mxPort,
      delayNoticeAfterMs: opts.delayNoticeAfterMs,
      tlsOptions: opts.tlsOptions,
      secretBox: ctx.secretBox,
      connectTimeoutMs: opts.connectTimeoutMs,
    },
    queues,
    ctx.redis,
    ctx.config.REDIS_PREFIX,
    {
      concurrency: ctx.config.OUTBOUND_CONCURRENCY,
      perDomainConcurrency: opts.perDomainConcurrency,
      sweepIntervalMs: opts.sweepIntervalMs,
      onJobDone: opts.onJobDone,
    },
  );
  worker.start();
  logger.info({ concurrency: ctx.config.OUTBOUND_CONCURRENCY, dns: servers.length ? servers : 'system' }, 'outbound queue worker started');
  return {
    name: 'outbound',
    worker,
    async stop() {
      await worker.stop();
      await queues.close();
    },
  };
}
