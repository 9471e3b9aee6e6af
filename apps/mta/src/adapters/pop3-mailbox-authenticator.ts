// POP3 logins through the shared MailboxLogin (throttle, failure delay, status and pop3_enabled checks).
import type { MailboxLogin } from '@dizi/auth/mailbox-login';
import type { Authenticator, LoginRequest, LoginVerdict } from '@dizi/pop3/authenticator';

export class Pop3MailboxAuthenticator implements Authenticator {
  constructor(private readonly mailboxLogin: MailboxLogin) {}

  async login({ username, password, remoteAddress }: LoginRequest): Promise<LoginVerdict> {
    const outcome = await this.mailboxLogin.login(username, password, remoteAddress, 'pop3');
    if (outcome.ok) return { ok: true, mailboxId: outcome.mailbox.mailboxId, username: outcome.mailbox.address };
    if (outcome.reason === 'throttled') {
      // RFC 3206: a temporary refusal, so the client retries later instead of asking for a new password.
      return { ok: false, code: 'SYS/TEMP', text: `Too many failed logins; try again in ${Math.ceil(outcome.waitMs / 1000)} seconds` };
    }
    if (outcome.reason === 'unpaid') return { ok: false, code: 'AUTH', text: 'Account suspended: the subscription is unpaid, contact your administrator' };
    // Suspended, disabled for POP3 or a wrong password all read the same, so none of them is revealed.
    return { ok: false, code: 'AUTH', text: 'Authentication failed' };
  }
}
