/** Mail node entry: starts the roles MTA_ROLES names (ARCHITECTURE.md process table) and stops them cleanly. */
import { loadMtaConfig, MtaRole } from '@dizi/config/mta.config';
import { createContext } from './context';
import { startDeliveryRole } from './roles/delivery.role';
import { startImapRole } from './roles/imap.role';
import { startOutboundRole } from './roles/outbound.role';
import { startPop3Role } from './roles/pop3.role';
import { startSieveRole } from './roles/sieve.role';
import { NodeHeartbeatWriter } from '@dizi/delivery/adapters/redis/node-heartbeat';
import type { RoleStarter, RunningRole } from './roles/role';
import { startSchedulerRole } from './roles/scheduler.role';
import { startSmtpRole } from './roles/smtp.role';

const STARTERS: Record<MtaRole, RoleStarter> = {
  smtp: startSmtpRole,
  imap: startImapRole,
  pop3: startPop3Role,
  sieve: startSieveRole,
  delivery: startDeliveryRole,
  outbound: startOutboundRole,
  scheduler: startSchedulerRole,
};

async function main(): Promise<void> {
  const config = loadMtaConfig();
  const ctx = await createContext(config);
  const running: RunningRole[] = [];
  for (const role of config.MTA_ROLES) running.push(await STARTERS[role](ctx));
  ctx.logger.info({ roles: config.MTA_ROLES }, 'mail node started');
  // Operators see the node (roles, open connections) in the console until it stops or goes silent.
  const heartbeat = new NodeHeartbeatWriter(ctx.redis, { name: config.MTA_HOSTNAME, roles: [...config.MTA_ROLES] }, (e) => ctx.logger.warn({ err: String(e) }, 'node heartbeat not written'));
  await heartbeat.beat();

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    ctx.logger.info('mail node stopping');
    await heartbeat.stop();
    await Promise.allSettled(running.reverse().map((r) => r.stop()));
    await ctx.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
