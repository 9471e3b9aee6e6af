/** The imap role: STARTTLS (LOGINDISABLED until TLS) and implicit-TLS listeners over the PostgreSQL store and Redis notifications. */
import { LoginThrottle } from '@dizi/auth/login-throttle';
import { MailboxLogin } from '@dizi/auth/mailbox-login';
import { RedisConnectionLimiter } from '@dizi/delivery/adapters/redis/redis-connection-limiter';
import type { Authenticator, LoginRequest, LoginVerdict } from '@dizi/imap/authenticator';
import { ChangeFeed } from '@dizi/imap/change-feed';
import { createImapServer, type ImapServer } from '@dizi/imap/server';
import type { AdmitConnection } from '@dizi/listener/listener';
import { closeSessionsOnAnnouncement } from '../adapters/session-ends';
import type { MtaContext } from '../context';
import { loginCacheOptions, loginLimits } from './login-limits';
import type { RunningRole } from './role';

/** Connections one client address may hold open at once, across every node. */
export const MAX_IMAP_CONNECTIONS_PER_IP = 50;
/** Connections one client address may open per minute, across every node (a client opens a few per sync). */
export const MAX_IMAP_CONNECTIONS_PER_IP_PER_MINUTE = 300;

export interface ImapRoleOptions {
  /** Pause after a failed login (default 1 s); tests may shorten it. */
  loginFailureDelayMs?: number;
  maxConnectionsPerIp?: number;
  maxConnectionsPerIpPerMinute?: number;
}

export interface ImapRunningRole extends RunningRole {
  /** Bound ports (useful when the config asks for port 0). */
  ports: { imap: number; imaps: number };
}

/** The IMAP server's login port on MailboxLogin: domain IMAP switch, suspension and the shared throttle. */
export class MailboxImapAuthenticator implements Authenticator {
  constructor(private readonly mailboxLogin: MailboxLogin) {}

  async login(request: LoginRequest): Promise<LoginVerdict> {
    const outcome = await this.mailboxLogin.login(request.username, request.password, request.remoteAddress, 'imap');
    if (outcome.ok) return { ok: true, mailboxId: outcome.mailbox.mailboxId, username: outcome.mailbox.address };
    if (outcome.reason === 'throttled') {
      return { ok: false, code: 'UNAVAILABLE', text: `Too many failed logins; try again in ${Math.ceil(outcome.waitMs / 1000)} s` };
    }
    if (outcome.reason === 'unpaid') {
      return { ok: false, code: 'CONTACTADMIN', text: 'Account suspended: the subscription is unpaid, contact your administrator / 账户因欠费已暂停，请联系管理员' };
    }
    // Wrong password, unknown mailbox, suspended or IMAP switched off: one answer, so none can be told apart.
    return { ok: false, code: 'AUTHENTICATIONFAILED', text: 'Invalid credentials' };
  }
}

export async function startImapRole(ctx: MtaContext, options: ImapRoleOptions = {}): Promise<ImapRunningRole> {
  const logger = ctx.logger.child({ role: 'imap' });
  const rows = { query: async (sql: string, params?: unknown[]) => (await ctx.pool.query(sql, params)).rows };
  const login = new MailboxLogin(rows, new LoginThrottle(ctx.redis, () => loginLimits(ctx)), {
    failureDelayMs: options.loginFailureDelayMs ?? 1000,
    onUnreadableHash: (reason) => logger.warn({ reason }, 'stored password hash cannot be read'),
    cache: loginCacheOptions(ctx),
  });
  const authenticator = new MailboxImapAuthenticator(login);
  // Counted in Redis under imap:*, shared by every node; Redis trouble admits (and is logged), as for SMTP and POP3.
  const limiter = new RedisConnectionLimiter(ctx.redis, (err) => logger.warn({ err: String(err) }, 'connection limiter unavailable; admitting'), 'imap');
  const limits = {
    perMinute: options.maxConnectionsPerIpPerMinute ?? MAX_IMAP_CONNECTIONS_PER_IP_PER_MINUTE,
    concurrent: options.maxConnectionsPerIp ?? MAX_IMAP_CONNECTIONS_PER_IP,
  };
  const admitConnection: AdmitConnection = async (ip) => {
    const admission = await limiter.admit(ip, limits);
    if (!admission.admitted) {
      logger.info({ ip, reason: admission.reason }, 'IMAP connection refused: per-address limit');
      return admission;
    }
    return { admitted: true, release: () => void admission.release() };
  };
  const onError = (err: unknown) => logger.error({ err }, 'IMAP session failed');

  const listeners: Array<['imap' | 'imaps', number]> = [
    ['imap', ctx.config.IMAP_PORT],
    ['imaps', ctx.config.IMAPS_PORT],
  ];
  const servers: ImapServer[] = [];
  const ports = { imap: 0, imaps: 0 };
  // One notification fan-out for both listeners: sessions of a mailbox share its subscription and catch-up queries.
  const changes = new ChangeFeed(ctx.store, ctx.notifier);
  try {
    for (const [kind, port] of listeners) {
      const server = createImapServer({
        store: ctx.store,
        notifier: ctx.notifier,
        changes,
        authenticator,
        tls: { key: ctx.tls.key, cert: ctx.tls.cert },
        implicitTls: kind === 'imaps',
        admitConnection,
        onError,
      });
      ports[kind] = await server.listen(port, ctx.config.MTA_BIND);
      servers.push(server);
      logger.info({ listener: kind, port: ports[kind], bind: ctx.config.MTA_BIND }, 'IMAP listener started');
    }
  } catch (err) {
    await Promise.allSettled(servers.map((s) => s.close()));
    await limiter.close();
    throw err;
  }

  // Suspension or a new password ends this mailbox's sessions on every node at once.
  const stopClosing = await closeSessionsOnAnnouncement(ctx, logger, (id) => servers.reduce((n, s) => n + s.endSessionsOf(id, 'Your access has ended (mailbox suspended or password changed)'), 0));

  return {
    name: 'imap',
    ports,
    async stop() {
      await stopClosing();
      await Promise.allSettled(servers.map((s) => s.close()));
      await limiter.close();
    },
  };
}
