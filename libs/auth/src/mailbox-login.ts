/**
 * Mailbox password sign-in, the same for the API, SMTP AUTH, IMAP and POP3: resolves the login
 * name, applies the shared throttle, checks the password (legacy hashes upgraded to argon2id on
 * success) and the mailbox, domain and tenant status and the domain's protocol switch.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { addressKey } from '@dizi/domain/lookup-key';
import type { MailboxRole } from '@dizi/domain/roles';
import { LoginCache, type LoginCacheOptions } from './login-cache';
import { LoginThrottle } from './login-throttle';
import { hashPassword, needsRehash, UnsupportedHashError, verifyPassword } from './password-hash';

/** Where the sign-in comes from; mail protocols can be switched off per domain. */
export type LoginChannel = 'api' | 'smtp' | 'imap' | 'pop3';

/** What runs the SQL: a TypeORM DataSource or EntityManager, or a pg pool wrapper. */
export interface SqlRunner {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows are shaped by each query
  query(sql: string, params?: unknown[]): Promise<any[]>;
}

export interface MailboxIdentity {
  mailboxId: string;
  address: string;
  tenantId: string;
  domainId: string;
  domain: string;
  role: MailboxRole;
  displayName: string;
  maySendOutside: boolean;
  tokenVersion: number;
}

export type LoginOutcome =
  | { ok: true; mailbox: MailboxIdentity }
  | { ok: false; reason: 'throttled'; waitMs: number }
  | { ok: false; reason: 'invalid' }
  /** The password was right but billing suspended the tenant (unpaid): said plainly, the user can do something about it. */
  | { ok: false; reason: 'unpaid' };

const CHANNEL_COLUMN: Record<LoginChannel, string | null> = { api: null, smtp: 'smtp_enabled', imap: 'imap_enabled', pop3: 'pop3_enabled' };

export class MailboxLogin {
  private dummyHash?: Promise<string>;
  /** Verified sign-ins (keyed hashes, never passwords); off unless `options.cache` is given. */
  readonly cache: LoginCache;

  constructor(
    private readonly db: SqlRunner,
    private readonly throttle: LoginThrottle,
    private readonly options: { failureDelayMs: number; onUnreadableHash?: (reason: string) => void; cache?: LoginCacheOptions },
  ) {
    this.cache = new LoginCache(options.cache ?? { ttlMs: 0, maxEntries: 0 });
  }

  /** `alice` means alice@<default domain>; addresses are compared in their stored form. */
  async resolveAddress(username: string): Promise<string> {
    const name = username.trim().toLowerCase();
    if (name.includes('@')) return addressKey(name);
    const [d] = await this.db.query(`SELECT name FROM domain WHERE is_default`);
    return d ? `${name}@${d.name}` : name;
  }

  async login(username: string, password: string, ip: string, channel: LoginChannel): Promise<LoginOutcome> {
    const address = await this.resolveAddress(username);
    const waitMs = await this.throttle.waitBeforeAttempt(address, ip);
    if (waitMs > 0) return { ok: false, reason: 'throttled', waitMs };
    const column = CHANNEL_COLUMN[channel];
    const [row] = await this.db.query(
      `SELECT m.id, m.address, m.tenant_id, m.domain_id, d.name AS domain, m.role, m.display_name, m.may_send_outside,
              m.token_version, m.password_hash,
              (m.status = 'active' AND d.status = 'active' AND t.status = 'active' ${column ? `AND d.${column}` : ''}) AS usable,
              (t.status <> 'active' AND EXISTS (SELECT 1 FROM tenant_billing b WHERE b.tenant_id = t.id AND b.suspended_by_billing)) AS unpaid
         FROM mailbox m JOIN domain d ON d.id = m.domain_id JOIN tenant t ON t.id = m.tenant_id
        WHERE m.address = $1`,
      [address],
    );
    // The row is read on every sign-in: status and the protocol switch are never cached, and the cached proof is bound
    // to the stored hash, so a password change, suspension or delete takes effect on the next sign-in.
    const cached = typeof row?.password_hash === 'string' && this.cache.matches(address, row.password_hash, password);
    const passwordOk = cached || (typeof row?.password_hash === 'string'
      ? await this.cache.verifyOnce(address, row.password_hash, password, () => this.checkPassword(password, row.password_hash))
      : await this.checkPassword(password, row?.password_hash));
    if (!row || (passwordOk && !row.usable)) this.cache.forget(address);
    if (passwordOk && !row.usable && row.unpaid) {
      await this.throttle.recordSuccess(address, ip);
      return { ok: false, reason: 'unpaid' };
    }
    if (!passwordOk || !row.usable) {
      await this.throttle.recordFailure(address, ip);
      await sleep(this.options.failureDelayMs);
      return { ok: false, reason: 'invalid' };
    }
    await this.throttle.recordSuccess(address, ip);
    if (!cached) this.cache.remember(address, row.password_hash, password);
    if (needsRehash(row.password_hash)) {
      // Only if nobody changed the password meanwhile.
      await this.db.query(`UPDATE mailbox SET password_hash = $2 WHERE id = $1 AND password_hash = $3`, [row.id, await hashPassword(password), row.password_hash]);
    }
    return {
      ok: true,
      mailbox: {
        mailboxId: row.id,
        address: row.address,
        tenantId: row.tenant_id,
        domainId: row.domain_id,
        domain: row.domain,
        role: row.role,
        displayName: row.display_name,
        maySendOutside: row.may_send_outside,
        tokenVersion: row.token_version,
      },
    };
  }

  /** Compares against a dummy hash when the account does not exist, so timing does not tell. */
  async checkPassword(password: string, stored: string | undefined): Promise<boolean> {
    if (!stored) {
      this.dummyHash ??= hashPassword('dizi-timing-equaliser');
      await verifyPassword(password, await this.dummyHash);
      return false;
    }
    try {
      return await verifyPassword(password, stored);
    } catch (e) {
      // A corrupt stored hash is the operator's problem to fix; to the person signing in it is a refusal.
      if (!(e instanceof UnsupportedHashError)) throw e;
      this.options.onUnreadableHash?.(e.reason);
      return false;
    }
  }
}
