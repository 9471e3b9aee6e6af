/**
 * Structured records of SMTP sessions and delivery attempts (table `mail_log`), written by the mail
 * nodes and read by operators through `GET /api/logs/mail`. Retention: `purgeMailLogs`, run daily by
 * the scheduler role with the `logRetentionDays` setting.
 */
import type { Pool, PoolClient } from 'pg';
import type { MailLogEntry } from '../../ports/mail-log';

export type { MailLogEntry, MailLogKind, MailLogLevel } from '../../ports/mail-log';

/** Anything that runs a query: a pool, or a client inside a transaction the caller owns. */
export type MailLogDb = Pick<Pool, 'query'> | Pick<PoolClient, 'query'>;

// Peer-supplied text (HELO, addresses, replies) may be huge or carry NUL, which PostgreSQL text refuses;
// a log write must never fail because of what a client sent.
const MAX_FIELD = 2000;
function clean(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return value.replaceAll('\u0000', '').slice(0, MAX_FIELD);
}

/** The lower-case text the trigram index searches: sender, recipients and reason. */
export function mailLogSearchText(entry: Pick<MailLogEntry, 'mailFrom' | 'recipients' | 'reason'>): string {
  return [entry.mailFrom ?? '', ...(entry.recipients ?? []), entry.reason ?? '']
    .filter((s) => s !== '')
    .join(' ')
    .toLowerCase()
    .replaceAll('\u0000', '')
    .slice(0, 4 * MAX_FIELD);
}

const COLUMNS = [
  'at', 'level', 'kind', 'node', 'session_id', 'message_id', 'client_ip', 'helo',
  'mail_from', 'recipients', 'size', 'result', 'reason', 'tenant_id', 'search', 'domain_id',
] as const;

function rowValues(e: MailLogEntry): unknown[] {
  const recipients = (e.recipients ?? []).map((r) => clean(r) ?? '');
  return [
    e.at ?? null, e.level, e.kind, clean(e.node) ?? '', clean(e.sessionId), e.messageId ?? null,
    clean(e.clientIp), clean(e.helo), clean(e.mailFrom), recipients, e.size ?? null,
    clean(e.result) ?? '', clean(e.reason) ?? '', e.tenantId ?? null,
    mailLogSearchText({ mailFrom: e.mailFrom, recipients, reason: e.reason }),
    null,
  ];
}

/** Writes one record, or several in one statement. */
export async function writeMailLog(db: MailLogDb, entry: MailLogEntry | readonly MailLogEntry[]): Promise<void> {
  const entries: readonly MailLogEntry[] = Array.isArray(entry) ? entry : [entry as MailLogEntry];
  if (entries.length === 0) return;
  const insert = mailLogInsert(entries);
  await db.query(insert.text, insert.params);
}

/**
 * The INSERT of some records, its parameters numbered from `$${after + 1}`, to run inside a bigger statement (a CTE
 * beside the state change the records describe). At least one entry.
 */
export function mailLogInsert(entries: readonly MailLogEntry[], after = 0): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const at = COLUMNS.indexOf('at');
  const tenant = COLUMNS.indexOf('tenant_id');
  const domain = COLUMNS.indexOf('domain_id');
  const domainWhere = (text: string) => `FROM domain d WHERE d.name = lower(substring(${text} from '@([^@]*)$'))`;
  const tuples = entries.map((e) => {
    const values = rowValues(e);
    const base = after + params.length;
    const ref = (column: (typeof COLUMNS)[number]) => `$${base + COLUMNS.indexOf(column) + 1}`;
    const placeholders = values.map((v, i) => {
      params.push(v);
      // `at` falls back to now() when the caller gave none.
      if (i === at) return `COALESCE($${after + params.length}::timestamptz, now())`;
      // A delivery, bounce or outbound record without a tenant belongs to the tenant of its first
      // recipient's domain, else of its sender's: that tenant's admins read it in /api/logs/mail.
      // (An SMTP session names its tenant itself, or has none: a refused stranger's.)
      if (i === tenant && e.kind !== 'session') {
        const tenantOf = (text: string) => `(SELECT d.tenant_id ${domainWhere(text)})`;
        return `COALESCE($${after + params.length}::uuid, ${tenantOf(`(${ref('recipients')}::text[])[1]`)}, ${tenantOf(`${ref('mail_from')}::text`)})`;
      }
      // The same record's domain, found the same way, so domain admins read exactly their domains' records.
      // Sessions get none: one session may carry several domains' recipients.
      if (i === domain && e.kind !== 'session') {
        const idOf = (text: string) => `(SELECT d.id ${domainWhere(text)})`;
        return `COALESCE($${after + params.length}::uuid, ${idOf(`(${ref('recipients')}::text[])[1]`)}, ${idOf(`${ref('mail_from')}::text`)})`;
      }
      return `$${after + params.length}`;
    });
    return `(${placeholders.join(', ')})`;
  });
  return { text: `INSERT INTO mail_log (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, params };
}

/**
 * Deletes records older than `days` days, in batches so a large backlog never holds one long lock
 * against the nodes writing new rows. Returns how many were deleted.
 */
export async function purgeMailLogs(db: MailLogDb, days: number, batchSize = 10_000): Promise<number> {
  if (!Number.isFinite(days) || days < 1) throw new RangeError(`mail log retention must be at least 1 day, got ${days}`);
  let total = 0;
  for (;;) {
    const res = await db.query(
      `DELETE FROM mail_log WHERE id IN (
         SELECT id FROM mail_log WHERE at < now() - make_interval(days => $1) LIMIT $2)`,
      [Math.floor(days), batchSize],
    );
    const deleted = res.rowCount ?? 0;
    total += deleted;
    if (deleted < batchSize) return total;
  }
}
