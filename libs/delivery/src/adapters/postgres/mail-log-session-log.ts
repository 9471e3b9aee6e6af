/**
 * SessionLog into mail_log (kind `session`); a failed write is logged, never allowed to disturb a session. Records
 * are written in batches, one multi-row insert per tenth of a second at most (a crash may lose that tenth).
 */
import type { Pool } from 'pg';
import { GroupCommit } from '@dizi/mail-store/group-commit';
import type { InboundLogger, SessionLog, SessionLogEntry } from '@dizi/smtp/inbound/ports';
import { writeMailLog, type MailLogEntry } from './mail-log';

export class MailLogSessionLog implements SessionLog {
  private readonly writes: GroupCommit<MailLogEntry, void>;

  constructor(
    pool: Pool,
    private readonly node: string,
    private readonly logger: InboundLogger,
  ) {
    this.writes = new GroupCommit<MailLogEntry, void>({
      flush: async (entries) => {
        await writeMailLog(pool, entries);
        return entries.map(() => undefined);
      },
      // Nobody waits for a log row: gather a tenth of a second of sessions into one insert.
      delayMs: 100,
      maxBatch: 500,
    });
  }

  record(e: SessionLogEntry): void {
    this.logger.info({ session: e.sessionId, ip: e.clientIp, helo: e.helo, from: e.mailFrom, rcpt: e.recipients, size: e.size, result: e.result, reason: e.reason, id: e.messageId }, 'SMTP session');
    this.writes.submit({ ...e, kind: 'session', node: this.node }).catch((err) =>
      this.logger.warn({ err: String(err), session: e.sessionId }, 'mail_log write failed'),
    );
  }
}
