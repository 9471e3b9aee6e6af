/** A record of the mail log (SMTP sessions, delivery attempts, bounces) as the logic writes it; stored by adapters/postgres/mail-log.ts. */
export type MailLogLevel = 'info' | 'warn' | 'error';
export type MailLogKind = 'session' | 'delivery' | 'outbound' | 'bounce';

export interface MailLogEntry {
  level: MailLogLevel;
  kind: MailLogKind;
  /** Name of the node that writes the record (config NODE_NAME or hostname). */
  node: string;
  /** Short outcome: `accepted`, `rejected`, `delivered`, `deferred`, `bounced`, `250`, `550 5.1.1`... */
  result: string;
  reason?: string;
  sessionId?: string | null;
  /** `spool_message.id` (a uuid) once the message is spooled. */
  messageId?: string | null;
  clientIp?: string | null;
  helo?: string | null;
  mailFrom?: string | null;
  recipients?: readonly string[];
  size?: number | null;
  /** Tenant the record belongs to, so tenant admins see their own rows; null when none is known. */
  tenantId?: string | null;
  /** Defaults to the database's now(). */
  at?: Date;
}
