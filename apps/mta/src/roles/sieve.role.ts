/**
 * The sieve role: ManageSieve (RFC 5804) on SIEVE_PORT (24190 in development, 4190 in production) with STARTTLS and
 * SASL PLAIN after it, so Thunderbird's and Roundcube's managesieve plugins edit the scripts delivery runs. Sign-in
 * goes through MailboxLogin as for IMAP (same throttle, same per-domain IMAP switch); connections are admitted per
 * client address through the Redis counters the other listeners use.
 */
import { LoginThrottle } from '@dizi/auth/login-throttle';
import { MailboxLogin } from '@dizi/auth/mailbox-login';
import { RedisConnectionLimiter } from '@dizi/delivery/adapters/redis/redis-connection-limiter';
import type { AdmitConnection, ManageSieveAuthenticator } from '@dizi/managesieve/ports';
import { createManageSieveServer, type ManageSieveServer } from '@dizi/managesieve/server';
import type { ManageSieveSettings } from '@dizi/managesieve/settings';
import { MailboxSieveScripts } from '../adapters/managesieve-store';
import { closeSessionsOnAnnouncement } from '../adapters/session-ends';
import type { MtaContext } from '../context';
import { loginCacheOptions, loginLimits } from './login-limits';
import type { RunningRole } from './role';

/** Connections one client address may hold open at once, across every node. */
export const MAX_SIEVE_CONNECTIONS_PER_IP = 20;
/** Connections one client address may open per minute: a client opens one when the user edits filters. */
export const MAX_SIEVE_CONNECTIONS_PER_IP_PER_MINUTE = 60;

export interface SieveRoleOptions {
  settings?: Partial<ManageSieveSettings>;
  maxConnectionsPerIp?: number;
  maxConnectionsPerIpPerMinute?: number;
}

export interface SieveRunningRole extends RunningRole {
  port: number;
  server: ManageSieveServer;
}

export async function startSieveRole(ctx: MtaContext, options: SieveRoleOptions = {}): Promise<SieveRunningRole> {
  const logger = ctx.logger.child({ role: 'sieve' });
  const rows = { query: async (sql: string, params?: unknown[]) => (await ctx.pool.query(sql, params)).rows };
  const login = new MailboxLogin(rows, new LoginThrottle(ctx.redis, () => loginLimits(ctx)), {
    failureDelayMs: 1000,
    onUnreadableHash: (reason) => logger.warn({ reason }, 'stored password hash cannot be read'),
    cache: loginCacheOptions(ctx),
  });
  const authenticator: ManageSieveAuthenticator = {
    async login({ username, password, remoteAddress }) {
      const outcome = await login.login(username, password, remoteAddress, 'imap');
      if (outcome.ok) return { ok: true, mailboxId: outcome.mailbox.mailboxId, username: outcome.mailbox.address };
      if (outcome.reason === 'throttled') return { ok: false, tryLater: true, text: `Too many failed logins; try again in ${Math.ceil(outcome.waitMs / 1000)} seconds.` };
      return { ok: false, tryLater: false, text: 'Authentication failed.' };
    },
  };
  const limiter = new RedisConnectionLimiter(ctx.redis, (err) => logger.warn({ err: String(err) }, 'connection limiter unavailable; admitting'), 'sieve');
  const limits = {
    perMinute: options.maxConnectionsPerIpPerMinute ?? MAX_SIEVE_CONNECTIONS_PER_IP_PER_MINUTE,
    concurrent: options.maxConnectionsPerIp ?? MAX_SIEVE_CONNECTIONS_PER_IP,
  };
  const admitConnection: AdmitConnection = async (ip) => {
    const admission = await limiter.admit(ip, limits);
    return admission.admitted ? { admitted: true, release: () => void admission.release() } : admission;
  };
  const server = createManageSieveServer({
    store: new MailboxSieveScripts(ctx.sieveScripts),
    authenticator,
    limits: () => {
      const s = ctx.settings.smtp;
      return { maxScriptSize: s.sieveMaxScriptSize, maxScripts: s.sieveMaxScripts, maxRedirects: s.sieveMaxRedirects };
    },
    settings: options.settings,
    tls: { key: ctx.tls.key, cert: ctx.tls.cert },
    admitConnection,
    onError: (err) => logger.error({ err }, 'ManageSieve session failed'),
    onLogin: ({ username, remoteAddress }) => logger.info({ username, remoteAddress }, 'ManageSieve login'),
  });
  let port: number;
  try {
    port = await server.listen(ctx.config.SIEVE_PORT, ctx.config.MTA_BIND);
  } catch (err) {
    await limiter.close();
    throw err;
  }
  logger.info({ port, bind: ctx.config.MTA_BIND }, 'ManageSieve listener started');
  const stopClosing = await closeSessionsOnAnnouncement(ctx, logger, (id) => server.endSessionsOf(id));
  return {
    name: 'sieve',
    port,
    server,
    stop: async () => {
      await stopClosing();
      await server.close();
      await limiter.close();
    },
  };
}
