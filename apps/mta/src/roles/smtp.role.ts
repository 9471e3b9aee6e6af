/** The smtp role: inbound MX, submission (STARTTLS) and implicit-TLS submission listeners, wired to PostgreSQL, Redis and the spool. */
import { LoginThrottle } from '@dizi/auth/login-throttle';
import { MailauthMessageAuthenticator } from '@dizi/delivery/auth-results/mailauth-authenticator';
import { MailboxLogin } from '@dizi/auth/mailbox-login';
import { DnsDomainResolver } from '@dizi/delivery/adapters/dns/dns-domain-resolver';
import { DnsReputationResolver } from '@dizi/delivery/adapters/dns/dns-reputation-resolver';
import { RedisGreylistStore } from '@dizi/delivery/adapters/redis/redis-greylist';
import { MailboxAuthenticator } from '@dizi/delivery/adapters/postgres/mailbox-authenticator';
import { MailLogSessionLog } from '@dizi/delivery/adapters/postgres/mail-log-session-log';
import { PgRecipientDirectory } from '@dizi/delivery/adapters/postgres/pg-recipient-directory';
import { PgTrustedSenders } from '@dizi/delivery/adapters/postgres/pg-trusted-senders';
import { PgSpoolWriter } from '@dizi/delivery/adapters/postgres/pg-spool-writer';
import { RedisConnectionLimiter } from '@dizi/delivery/adapters/redis/redis-connection-limiter';
import { RedisGreetingPassList } from '@dizi/delivery/adapters/redis/redis-greeting-pass';
import { LocalFirstQueues } from '@dizi/delivery/queue/local-first-queues';
import { MailQueues } from '@dizi/delivery/queue/mail-queues';
import { DaemonContentScanner } from '@dizi/filters/daemon-content-scanner';
import { createInboundServer, InboundServer } from '@dizi/smtp/inbound/inbound-server';
import type { ListenerKind } from '@dizi/smtp/inbound/session';
import { closeSessionsOnAnnouncement } from '../adapters/session-ends';
import type { MtaContext } from '../context';
import { loginCacheOptions, loginLimits } from './login-limits';
import type { RunningRole } from './role';

export interface SmtpRoleOptions {
  /** Pause after a failed AUTH, multiplied by the session's failure count (default 1 s); tests pass 0. */
  authFailureDelayMs?: number;
  /** Pause per unknown recipient beyond the allowance, growing with each (default 1 s). */
  tarpitStepMs?: number;
  /** DATA may run below the minimum rate for this long before it is judged (default 10 s). */
  dataRateGraceMs?: number;
  /** The clock greylisting reads (tests move it instead of waiting). */
  now?: () => number;
}

export interface SmtpRunningRole extends RunningRole {
  /** Bound ports (useful when the config asks for port 0). */
  ports: { smtp: number; submission: number; submissions: number };
}


export async function startSmtpRole(ctx: MtaContext, options: SmtpRoleOptions = {}): Promise<SmtpRunningRole> {
  const logger = ctx.logger.child({ role: 'smtp' });
  const rows = { query: async (sql: string, params?: unknown[]) => (await ctx.pool.query(sql, params)).rows };
  const login = new MailboxLogin(rows, new LoginThrottle(ctx.redis, () => loginLimits(ctx)), {
    // The SMTP session adds its own growing pause per failure (settings.maxAuthFailures).
    failureDelayMs: 0,
    onUnreadableHash: (reason) => logger.warn({ reason }, 'stored password hash cannot be read'),
    cache: loginCacheOptions(ctx),
  });
  const queues = new MailQueues(ctx.redis, ctx.config.REDIS_PREFIX);

  // Connection admission and release, and the greeting passes, on a connection of their own that sends what many
  // sessions ask in the same tick as one write: two round trips per connection, shared under load.
  const counters = ctx.redis.duplicate({ enableAutoPipelining: true });
  counters.on('error', (e) => logger.warn({ err: e.message }, 'Redis connection error (connection counters)'));
  const limiter = new RedisConnectionLimiter(counters, (err) => logger.warn({ err: String(err) }, 'connection limiter unavailable; admitting'));
  const dnsServers = ctx.config.DNS_SERVERS.split(',').map((s) => s.trim()).filter(Boolean);
  const deps = {
    directory: new PgRecipientDirectory(ctx.pool),
    limiter,
    authenticator: new MailboxAuthenticator(login, ctx.pool),
    resolver: new DnsDomainResolver(dnsServers),
    // DNS lists and reverse DNS of MX clients, and greylisting, when the settings turn them on (off by default).
    reputation: new DnsReputationResolver(dnsServers),
    greylist: new RedisGreylistStore(counters),
    now: options.now,
    trust: new PgTrustedSenders(ctx.pool),
    authFailureDelayMs: options.authFailureDelayMs ?? 1000,
    tarpitStepMs: options.tarpitStepMs ?? 1000,
    srs: ctx.srs,
  };
  // This node's delivery workers first, when it runs them and they have room; else the shared queue.
  const spool = new PgSpoolWriter({
    pool: ctx.pool, store: ctx.store, queues: new LocalFirstQueues(queues, () => ctx.deliveryHandoff), logger,
    summaryWorkers: ctx.config.SPOOL_SUMMARY_WORKERS,
    slots: ctx.slots ?? undefined,
    settings: () => ctx.settings.smtp,
  });
  const sessionLog = new MailLogSessionLog(ctx.pool, ctx.config.MTA_HOSTNAME, logger);

  // Clients that waited for the greeting once are greeted at once afterwards, on every node (postscreen's cache).
  const greetingPass = new RedisGreetingPassList(counters);
  const contentScanner = new DaemonContentScanner({ openMessage: (hash) => ctx.blobs.get(hash) });
  // SPF/DKIM/DMARC/ARC of MX mail, against the same DNS servers as the other mail lookups.
  const messageAuth = new MailauthMessageAuthenticator(ctx.config.DNS_SERVERS);

  const listeners: Array<[ListenerKind, number]> = [
    ['mx', ctx.config.SMTP_PORT],
    ['submission', ctx.config.SUBMISSION_PORT],
    ['submissions', ctx.config.SUBMISSIONS_PORT],
  ];
  const servers: InboundServer[] = [];
  const ports = { smtp: 0, submission: 0, submissions: 0 };
  try {
    for (const [kind, port] of listeners) {
      const server = createInboundServer({
        kind,
        hostname: ctx.config.MTA_HOSTNAME,
        tls: ctx.tls,
        settings: ctx.settings,
        deps,
        spool,
        sessionLog,
        logger: logger.child({ listener: kind }),
        dataRateGraceMs: options.dataRateGraceMs,
        // ClamAV/SpamAssassin before the final reply, when the settings turn them on (off by default).
        contentScanner,
        greetingPass,
        messageAuth,
      });
      const bound = await server.listen(port, ctx.config.MTA_BIND);
      servers.push(server);
      ports[kind === 'mx' ? 'smtp' : kind] = bound;
      logger.info({ listener: kind, port: bound, bind: ctx.config.MTA_BIND }, 'SMTP listener started');
    }
  } catch (err) {
    await Promise.allSettled(servers.map((s) => s.close()));
    await spool.close();
    await limiter.close();
    counters.disconnect();
    throw err;
  }

  // Suspension or a new password ends this mailbox's sessions on every node at once.
  const stopClosing = await closeSessionsOnAnnouncement(ctx, logger, (id) => servers.reduce((n, s) => n + s.endSessionsOf(id), 0));

  return {
    name: 'smtp',
    ports,
    async stop() {
      await stopClosing();
      await Promise.allSettled(servers.map((s) => s.close()));
      // After the listeners let their sessions finish; a message still in DATA past that is spooled without a summary.
      await spool.close();
      await queues.close();
      await limiter.close();
      counters.disconnect();
    },
  };
}
