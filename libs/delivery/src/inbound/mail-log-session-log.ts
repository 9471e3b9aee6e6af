/** SessionLog into mail_log (kind `session`); a failed write is logged, never allowed to disturb a session. */
import type { Pool } from 'pg';
import type { InboundLogger, SessionLog, SessionLogEntry } from '@dizi/smtp/inbound/ports';
import { writeMailLog } from '../logs/mail-log';

export class MailLogSessionLog implements SessionLog {
  constructor(
    private readonly pool: Pool,
    private readonly node: string,
    private readonly logger: InboundLogger,
  ) {}

  record(e: SessionLogEntry): void {
    this.logger.info({ session: e.sessionId, ip: e.clientIp, helo: e.helo, from: e.mailFrom, rcpt: e.recipients, size: e.size, result: e.result, reason: e.reason, id: e.messageId }, 'SMTP session');
    writeMailLog(this.pool, { ...e, kind: 'session', node: this.node }).catch((err) =>
      this.logger.warn({ err: String(err), session: e.sessionId }, 'mail_log write failed'),
    );
  }
}
