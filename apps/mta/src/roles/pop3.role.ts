/** The pop3 role: the plain listener (STLS, no credentials before it) and the implicit-TLS one, wired to PostgreSQL and Redis. */
import { LoginThrottle } from '@dizi/auth/login-throttle';
import { RedisConnectionLimiter } from '@dizi/delivery/adapters/redis/redis-connection-limiter';
import { MailboxLogin } from '@dizi/auth/mailbox-login';
import type { AdmitConnection } from '@dizi/pop3/connection-admission';
import { createPop3Server, type Pop3Server } from '@dizi/pop3/server';
import type { Pop3Settings } from '@dizi/pop3/settings';
import { Pop3MailboxAuthenticator } from '../adapters/pop3-mailbox-authenticator';
import { RedisMailboxLock } from '../adapters/pop3-redis-lock';
import { closeSessionsOnAnnouncement } from '../adapters/session-ends';
import type { MtaContext } from '../context';
import { loginCacheOptions, loginLimits } from './login-limits';
import type { RunningRole } from './role';

/** Connections one client address may hold open at once, across every node (as for IMAP). */
export const MAX_POP3_CONNECTIONS_PER_IP = 50;
/** Connections one client address may open per minute, across every node: a mail client polls every few minutes. */
export const MAX_POP3_CONNECTIONS_PER_IP_PER_MINUTE = 120;

export interface Pop3RoleOptions {
  settings?: Partial<Pop3Settings>;
  maxConnectionsPerIp?: number;
  maxConnectionsPerIpPerMinute?: number;
}

export interface Pop3RunningRole extends RunningRole {
  /** Bound ports (useful when the config asks for port 0). */
  ports: { pop3: number; pop3s: number };
}


export async function startPop3Role(ctx: MtaContext, options: Pop3RoleOptions = {}): Promise<Pop3RunningRole> {
  const logger = ctx.logger.child({ role: 'pop3' });
  const rows = { query: async (sql: string, params?: unknown[]) => (await ctx.pool.query(sql, params)).rows };
  const login = new MailboxLogin(rows, new LoginThrottle(ctx.redis, () => loginLimits(ctx)), {
    failureDelayMs: 1000,
    onUnreadableHash: (reason) => logger.warn({ reason }, 'stored password hash cannot be read'),
    cache: loginCacheOptions(ctx),
  });
  // Counted in Redis under pop3:*; Redis trouble admits (and is logged), as for SMTP and IMAP.
  const limiter = new RedisConnectionLimiter(ctx.redis, (err) => logger.warn({ err: String(err) }, 'connection limiter unavailable; admitting'), 'pop3');
  const limits = {
    perMinute: options.maxConnectionsPerIpPerMinute ?? MAX_POP3_CONNECTIONS_PER_IP_PER_MINUTE,
    concurrent: options.maxConnectionsPerIp ?? MAX_POP3_CONNECTIONS_PER_IP,
  };
  const admitConnection: AdmitConnection = async (ip) => {
    const admission = await limiter.admit(ip, limits);
    return admission.admitted ? { admitted: true, release: () => void admission.release() } : admission;
  };
  const common = {
    admitConnection,
    store: ctx.store,
    authenticator: new Pop3MailboxAuthenticator(login),
    lock: new RedisMailboxLock(ctx.redis, { onError: (err) => logger.warn({ err: String(err) }, 'POP3 mailbox lock refresh failed') }),
    settings: options.settings,
    tls: { key: ctx.tls.key, cert: ctx.tls.cert },
    onError: (err: unknown) => logger.error({ err }, 'POP3 session failed'),
  };
  const listeners: Array<['pop3' | 'pop3s', number]> = [
    ['pop3', ctx.config.POP3_PORT],
    ['pop3s', ctx.config.POP3S_PORT],
  ];
  const servers: Pop3Server[] = [];
  const ports = { pop3: 0, pop3s: 0 };
  try {
    for (const [kind, port] of listeners) {
      const server = createPop3Server({ ...common, implicitTls: kind === 'pop3s' });
      ports[kind] = await server.listen(port, ctx.config.MTA_BIND);
      servers.push(server);
      logger.info({ listener: kind, port: ports[kind], bind: ctx.config.MTA_BIND }, 'POP3 listener started');
    }
  } catch (err) {
    await Promise.allSettled(servers.map((s) => s.close()));
    await limiter.close();
    throw err;
  }
  // Suspension or a new password ends this mailbox's sessions on every node at once.
  const stopClosing = await closeSessionsOnAnnouncement(ctx, logger, (id) => servers.reduce((n, s) => n + s.endSessionsOf(id), 0));
  return {
    name: 'pop3',
    ports,
    // Open sessions end without UPDATE: nothing they marked is deleted, and their locks are released.
    stop: async () => {
      await stopClosing();
      await Promise.allSettled(servers.map((s) => s.close()));
      await limiter.close();
    },
  };
}
