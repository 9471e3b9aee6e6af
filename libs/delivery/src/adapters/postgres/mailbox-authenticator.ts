/** Authenticator for SMTP AUTH through MailboxLogin (channel `smtp`): one password check for every protocol. */
import type { Pool } from 'pg';
import type { MailboxLogin } from '@dizi/auth/mailbox-login';
import type { Authenticator, AuthOutcome } from '@dizi/smtp/inbound/ports';

export class MailboxAuthenticator implements Authenticator {
  constructor(
    private readonly login: MailboxLogin,
    private readonly pool: Pool,
  ) {}

  async authenticate(username: string, password: string, clientIp: string): Promise<AuthOutcome> {
    const outcome = await this.login.login(username, password, clientIp, 'smtp');
    if (!outcome.ok) return outcome.reason === 'throttled' ? { ok: false, reason: 'throttled', retryAfterMs: outcome.waitMs } : { ok: false, reason: 'invalid' };
    const m = outcome.mailbox;
    const { rows } = await this.pool.query(`SELECT local_only FROM domain WHERE id = $1`, [m.domainId]);
    return {
      ok: true,
      user: {
        mailboxId: m.mailboxId,
        address: m.address,
        tenantId: m.tenantId,
        domainId: m.domainId,
        domain: m.domain,
        mayRelay: m.maySendOutside && rows[0]?.local_only === false,
      },
    };
  }

  resolveLogin(username: string): Promise<string> {
    return this.login.resolveAddress(username);
  }
}
