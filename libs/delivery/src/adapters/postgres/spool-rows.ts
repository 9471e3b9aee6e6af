/**
 * The rows that make a received message durable: spool_message, its spool_recipient rows and the sender's daily send
 * count, for any number of messages in ONE statement (so one commit). Data-modifying CTEs always run, all as one
 * statement: either every row is there or none is, and the recipients' foreign key is checked at its end.
 */
import type { Pool } from 'pg';
import type { SpoolMarks, SpoolRequest } from '@dizi/smtp/inbound/ports';
import { SEND_DAY_SQL } from './pg-recipient-directory';
import type { SpoolSummary } from '../../inbound/spool-summary';

export interface SpoolRow {
  req: SpoolRequest;
  blobHash: string;
  size: number;
  /** The summary as JSON text and the keys of its search lexemes (null when summarising failed). */
  summary: SpoolSummary | null;
  /** The content filter's headers, folder and spam score (null when no scanner looked at it). */
  marks?: SpoolMarks | null;
}

export async function insertSpoolRows(pool: Pick<Pool, 'query'>, rows: readonly SpoolRow[]): Promise<void> {
  const sends = new Map<string, number>();
  for (const r of rows) if (r.req.authMailboxId) sends.set(r.req.authMailboxId, (sends.get(r.req.authMailboxId) ?? 0) + 1);
  // One json document per table: cheaper to build and to send than arrays of quoted elements. The summary is json
  // text already and goes in as it is. The search keys, thousands of numbers, go as a parameter each: PostgreSQL
  // reads them once, as an int8[], instead of lexing them as json first.
  const messages = `[${rows.map((r, n) => {
    const columns = JSON.stringify({
      n, id: r.req.id, blob_hash: r.blobHash, size: r.size, mail_from: r.req.mailFrom, source: r.req.source, session_id: r.req.sessionId,
      client_ip: r.req.clientIp, helo: r.req.helo, auth_mailbox_id: r.req.authMailboxId, env_id: r.req.envId, dsn_ret: r.req.dsnRet,
      filter_headers: r.marks?.headers ?? null, filter_folder: r.marks?.folder ?? null, spam_score: r.marks?.spamScore ?? null,
      release_at: r.req.releaseAt ? r.req.releaseAt.toISOString() : null,
    });
    return `${columns.slice(0, -1)},"summary":${r.summary?.json ?? 'null'}}`;
  }).join(',')}]`;
  const keys = rows.map((r, n) => `(${n}, $${5 + n}::int8[])`).join(', ');
  // A held message's (release_at) recipients are due at its release time.
  // A quarantined message's recipients are held from the start (no node delivers them) and get a quarantine row each.
  const recipients = rows.flatMap((r) => r.req.recipients.map((rcpt) => ({
    message_id: r.req.id, address: rcpt.address, original_address: rcpt.originalAddress, kind: rcpt.kind, domain: rcpt.domain,
    dsn_notify: rcpt.dsnNotify,
    ...(r.marks?.quarantine ? { q_reason: r.marks.quarantine.reason, q_detail: r.marks.quarantine.detail, q_score: r.marks.spamScore } : {}),
  })));
  await pool.query(
    `WITH m AS (
       INSERT INTO spool_message (id, blob_hash, size, mail_from, source, session_id, client_ip, helo, auth_mailbox_id, env_id, dsn_ret, summary,
                                  search_keys, filter_headers, filter_folder, spam_score, release_at)
       SELECT id, blob_hash, size, mail_from, source, session_id, client_ip, helo, auth_mailbox_id, env_id, dsn_ret, summary,
              k.keys, filter_headers, filter_folder, spam_score, release_at
         FROM json_to_recordset($1::json) AS m(n int, id uuid, blob_hash text, size bigint, mail_from text, source text, session_id text,
                client_ip text, helo text, auth_mailbox_id uuid, env_id text, dsn_ret text, summary jsonb,
                filter_headers text, filter_folder text, spam_score real, release_at timestamptz)
         JOIN (VALUES ${keys}) AS k(n, keys) ON k.n = m.n
       RETURNING id, release_at),
     r AS (
       INSERT INTO spool_recipient (message_id, address, original_address, kind, domain, dsn_notify, held_at, next_attempt_at)
       SELECT message_id, address, original_address, kind, domain, dsn_notify,
              CASE WHEN q_reason IS NULL THEN NULL ELSE now() END,
              CASE WHEN q_reason IS NOT NULL THEN 'infinity'::timestamptz ELSE greatest(now(), coalesce(m.release_at, now())) END
         FROM json_to_recordset($2::json) AS r(message_id uuid, address text, original_address text, kind text, domain text, dsn_notify text,
                q_reason text)
         LEFT JOIN m ON m.id = r.message_id
       RETURNING id, message_id, address, kind, domain),
     q AS (
       INSERT INTO quarantine (recipient_id, message_id, address, mailbox_id, domain_id, tenant_id, reason, detail, spam_score)
       SELECT r.id, r.message_id, r.address, mb.id, d.id, d.tenant_id, j.q_reason, j.q_detail, j.q_score
         FROM r JOIN json_to_recordset($2::json) AS j(message_id uuid, address text, q_reason text, q_detail text, q_score real)
                  ON j.q_reason IS NOT NULL AND j.message_id = r.message_id AND j.address = r.address
         LEFT JOIN mailbox mb ON mb.address = r.address
         LEFT JOIN domain d ON r.kind = 'local' AND d.name = r.domain),
     s AS (
       INSERT INTO send_count (mailbox_id, day, messages)
       SELECT id, ${SEND_DAY_SQL}, n FROM unnest($3::uuid[], $4::int[]) AS t(id, n)
       ON CONFLICT (mailbox_id, day) DO UPDATE SET messages = send_count.messages + EXCLUDED.messages)
     SELECT count(*) FROM m`,
    [messages, JSON.stringify(recipients), [...sends.keys()], [...sends.values()],
      ...rows.map((r) => (r.summary ? `{${r.summary.searchKeys}}` : null))],
  );
}
