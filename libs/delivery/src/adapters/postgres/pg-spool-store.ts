/**
 * SpoolStore on PostgreSQL: the statements local delivery and the sweeper used to run inline, unchanged (same
 * conditions, same row locks by UPDATE … WHERE status IN ('queued', 'deferred')).
 */
import { domainOfAddress } from '@dizi/domain/address';
import type { Pool, PoolClient } from 'pg';
import { addressKey, domainKey } from '@dizi/domain/lookup-key';
import type { StoredBlob } from '@dizi/mail-store/ports/blob-store';
import { mailLogInsert, writeMailLog, type MailLogEntry } from './mail-log';
import type {
  ClaimedRecipient, DueRecipientRow, OutboundAttempt, OutboundMessageRow, PreparedBounce, SpoolMessageRow, SpoolStore, SpoolTransaction,
  SpooledSystemMail,
} from '../../ports/spool-store';

type Db = Pick<Pool, 'query'> | Pick<PoolClient, 'query'>;

/** Marks the message done when no recipient is left to work on (every state final). */
export async function markDoneIfFinal(db: Db, spoolMessageIds: string | string[]): Promise<void> {
  await db.query(
    `UPDATE spool_message s SET done_at = now()
      WHERE s.id = ANY($1::uuid[]) AND s.done_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM spool_recipient r WHERE r.message_id = s.id AND r.status IN ('queued', 'deferred'))`,
    [Array.isArray(spoolMessageIds) ? spoolMessageIds : [spoolMessageIds]],
  );
}

/**
 * Mail the system itself sends through the normal flow (DSNs, auto-replies): spooled like an inbound message, with
 * source `system`, so local recipients go through delivery and remote ones through outbound with all their retries.
 * The insert runs in the caller's transaction, together with the state change that decides the mail is due, so the
 * mail exists exactly once whatever crashes.
 */
export async function spoolSystemMail(
  c: Db, blob: StoredBlob, mailFrom: string, recipients: string[], summary: unknown = null,
): Promise<SpooledSystemMail> {
  const addresses = [...new Set(recipients.map((r) => r.toLowerCase()))];
  const { rows: local } = await c.query<{ name: string }>(`SELECT name FROM domain WHERE name = ANY($1)`, [addresses.map(domainOfAddress)]);
  const localDomains = new Set(local.map((r) => r.name));
  const { rows } = await c.query<{ id: string }>(
    `INSERT INTO spool_message (blob_hash, size, mail_from, source, summary) VALUES ($1, $2, $3, 'system', $4) RETURNING id`,
    [blob.hash, blob.size, mailFrom, summary === null ? null : JSON.stringify(summary)],
  );
  const id = rows[0].id;
  await c.query(
    `INSERT INTO spool_recipient (message_id, address, kind, domain)
     SELECT $1, a, k, d FROM unnest($2::text[], $3::text[], $4::text[]) AS t(a, k, d)`,
    [id, addresses, addresses.map((a) => (localDomains.has(domainOfAddress(a)) ? 'local' : 'remote')), addresses.map(domainOfAddress)],
  );
  const remoteDomains = [...new Set(addresses.map(domainOfAddress).filter((d) => !localDomains.has(d)))];
  return { spoolMessageId: id, remoteDomains, hasLocal: addresses.some((a) => localDomains.has(domainOfAddress(a))) };
}

/**
 * Spools a prepared DSN in the caller's transaction; returns the new spool message id and whether its one
 * recipient is local (then local delivery takes it, else the outbound queue).
 */
export async function spoolBounce(client: Pick<PoolClient, 'query'>, bounce: PreparedBounce, reportingMta: string): Promise<{ id: string; local: boolean; domain: string }> {
  const at = bounce.to.lastIndexOf('@');
  const domain = domainKey(bounce.to.slice(at + 1));
  const local = (await client.query(`SELECT 1 FROM domain WHERE name = $1`, [domain])).rowCount! > 0;
  const { rows } = await client.query(
    `INSERT INTO spool_message (blob_hash, size, mail_from, source, helo, summary)
     VALUES ($1, $2, '', 'system', $3, $4) RETURNING id`,
    [bounce.blobHash, bounce.size, reportingMta, JSON.stringify(bounce.summary)],
  );
  // NOTIFY=NEVER: a notice about a notice would loop.
  await client.query(
    `INSERT INTO spool_recipient (message_id, address, kind, domain, dsn_notify) VALUES ($1, $2, $3, $4, 'NEVER')`,
    [rows[0].id, addressKey(bounce.to), local ? 'local' : 'remote', domain],
  );
  return { id: rows[0].id, local, domain };
}

async function defer(db: Db, recipientId: string, delaySeconds: number, error: string): Promise<void> {
  await db.query(
    `UPDATE spool_recipient SET status = 'deferred', attempts = attempts + 1, last_attempt_at = now(),
            next_attempt_at = now() + make_interval(secs => $2), last_error = $3
      WHERE id = $1 AND status IN ('queued', 'deferred')`,
    [recipientId, delaySeconds, error],
  );
}

class PgSpoolTransaction implements SpoolTransaction {
  constructor(private readonly c: PoolClient) {}

  async claimAutoReply(mailboxId: string, sender: string, periodDays: number): Promise<boolean> {
    const { rows } = await this.c.query(
      `INSERT INTO auto_reply_sent (mailbox_id, sender) VALUES ($1, $2)
       ON CONFLICT (mailbox_id, sender) DO UPDATE SET sent_at = now()
         WHERE auto_reply_sent.sent_at <= now() - make_interval(days => $3)
       RETURNING sent_at`,
      [mailboxId, sender, periodDays],
    );
    return rows.length > 0;
  }

  spoolSystemMail(blob: StoredBlob, mailFrom: string, recipients: string[], summary?: unknown): Promise<SpooledSystemMail> {
    return spoolSystemMail(this.c, blob, mailFrom, recipients, summary);
  }

  async markDelivered(recipientIds: string[]): Promise<number> {
    if (recipientIds.length === 0) return 0;
    const r = await this.c.query(
      `UPDATE spool_recipient SET status = 'delivered', delivered_at = now(), last_attempt_at = now(), attempts = attempts + 1,
              last_error = NULL
        WHERE id = ANY($1) AND status IN ('queued', 'deferred')`,
      [recipientIds],
    );
    return r.rowCount ?? 0;
  }

  defer(recipientId: string, delaySeconds: number, error: string): Promise<void> {
    return defer(this.c, recipientId, delaySeconds, error);
  }

  async bounce(recipientId: string, error: string): Promise<number> {
    const r = await this.c.query(
      `UPDATE spool_recipient SET status = 'bounced', attempts = attempts + 1, last_attempt_at = now(), last_error = $2
        WHERE id = $1 AND status IN ('queued', 'deferred')`,
      [recipientId, error],
    );
    return r.rowCount ?? 0;
  }

  markDoneIfFinal(messageIds: string[]): Promise<void> {
    return markDoneIfFinal(this.c, messageIds);
  }

  async recordOutboundAttempt(a: OutboundAttempt): Promise<void> {
    await this.c.query(
      `UPDATE spool_recipient
          SET status = $2, attempts = attempts + 1, last_attempt_at = now(), last_reply = $3,
              last_error = CASE WHEN $2 = 'delivered' THEN NULL ELSE $3 END,
              delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END,
              next_attempt_at = CASE WHEN $2 = 'deferred' THEN now() + make_interval(secs => $4) ELSE next_attempt_at END,
              delay_notified = delay_notified OR $5
        WHERE id = $1`,
      [a.recipientId, a.status, a.reply, a.retrySeconds, a.delayNotified],
    );
  }

  spoolBounce(bounce: PreparedBounce, reportingMta: string): Promise<{ id: string; local: boolean; domain: string }> {
    return spoolBounce(this.c, bounce, reportingMta);
  }

  writeMailLog(entries: MailLogEntry[]): Promise<void> {
    return writeMailLog(this.c, entries);
  }
}

export class PgSpoolStore implements SpoolStore {
  constructor(private readonly pool: Pool) {}

  async messagesWithDueLocal(messageIds: string[]): Promise<Array<SpoolMessageRow & { due: DueRecipientRow[] | null }>> {
    // The messages and their due local recipients in one round trip (a job's fixed cost is mostly round trips).
    const { rows } = await this.pool.query<SpoolMessageRow & { due: DueRecipientRow[] | null }>(
      `SELECT s.id, s.blob_hash, s.size, s.mail_from, s.source, s.auth_mailbox_id, s.received_at, s.env_id, s.dsn_ret, s.summary,
              s.search_keys IS NOT NULL AS keys_spooled, s.done_at, s.filter_headers, s.filter_folder,
              (SELECT json_agg(json_build_object('id', r.id::text, 'address', r.address, 'original_address', r.original_address,
                                                 'attempts', r.attempts, 'dsn_notify', r.dsn_notify) ORDER BY r.id)
                 FROM spool_recipient r
                WHERE r.message_id = s.id AND r.kind = 'local' AND r.status IN ('queued', 'deferred') AND r.next_attempt_at <= now()
              ) AS due
         FROM spool_message s WHERE s.id = ANY($1::uuid[])`,
      [messageIds],
    );
    return rows;
  }

  async addRemoteRecipients(messageId: string, recipients: Array<{ address: string; originalAddress: string; mailFrom: string | null }>): Promise<void> {
    if (recipients.length === 0) return;
    await this.pool.query(
      `INSERT INTO spool_recipient (message_id, address, original_address, kind, domain, mail_from)
       SELECT $1, a, o, 'remote', split_part(a, '@', 2), f FROM unnest($2::text[], $3::text[], $4::text[]) AS t(a, o, f)
       ON CONFLICT (message_id, address) DO NOTHING`,
      [messageId, recipients.map((r) => r.address), recipients.map((r) => r.originalAddress), recipients.map((r) => r.mailFrom)],
    );
  }

  async saveSummary(messageId: string, summary: unknown): Promise<void> {
    await this.pool.query(`UPDATE spool_message SET summary = $2 WHERE id = $1 AND summary IS NULL`, [messageId, JSON.stringify(summary)]);
  }

  async autoReplySentWithin(mailboxId: string, sender: string, periodDays: number): Promise<boolean> {
    const { rows: recent } = await this.pool.query(
      `SELECT 1 FROM auto_reply_sent WHERE mailbox_id = $1 AND sender = $2 AND sent_at > now() - make_interval(days => $3)`,
      [mailboxId, sender, periodDays],
    );
    return recent.length > 0;
  }

  async settleDelivered(delivered: string[], messageIds: string[], logs: MailLogEntry[]): Promise<Map<string, number>> {
    const log = logs.length > 0 ? mailLogInsert(logs, 2) : null;
    const { rows } = await this.pool.query<{ message_id: string; n: number }>(
      `WITH d AS (
         UPDATE spool_recipient SET status = 'delivered', delivered_at = now(), last_attempt_at = now(), attempts = attempts + 1,
                last_error = NULL
          WHERE id = ANY($1::bigint[]) AND status IN ('queued', 'deferred') RETURNING message_id),
       m AS (
         UPDATE spool_message s SET done_at = now()
          WHERE s.id = ANY($2::uuid[]) AND s.done_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM spool_recipient r
                             WHERE r.message_id = s.id AND r.status IN ('queued', 'deferred') AND r.id <> ALL($1::bigint[])))
       ${log ? `, l AS (${log.text})` : ''}
       SELECT message_id, count(*)::int AS n FROM d GROUP BY message_id`,
      [delivered, messageIds, ...(log?.params ?? [])],
    );
    return new Map(rows.map((r) => [r.message_id, r.n]));
  }

  defer(recipientId: string, delaySeconds: number, error: string): Promise<void> {
    return defer(this.pool, recipientId, delaySeconds, error);
  }

  markDoneIfFinal(messageIds: string[]): Promise<void> {
    return markDoneIfFinal(this.pool, messageIds);
  }

  writeMailLog(entries: MailLogEntry[]): Promise<void> {
    return writeMailLog(this.pool, entries);
  }

  async transaction<T>(work: (tx: SpoolTransaction) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const result = await work(new PgSpoolTransaction(c));
      await c.query('COMMIT');
      return result;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  async outboundMessage(messageId: string): Promise<OutboundMessageRow | null> {
    const { rows: messages } = await this.pool.query<OutboundMessageRow>(
      `SELECT id, blob_hash, size, mail_from, received_at, release_at, env_id, dsn_ret, done_at, summary->'envelope'->>'messageId' AS message_id_header
         FROM spool_message WHERE id = $1`,
      [messageId],
    );
    return messages[0] ?? null;
  }

  async claimRemote(messageId: string, domain: string, leaseSeconds: number): Promise<ClaimedRecipient[]> {
    const { rows: claimed } = await this.pool.query<ClaimedRecipient>(
      `UPDATE spool_recipient SET next_attempt_at = now() + make_interval(secs => $3)
        WHERE message_id = $1 AND domain = $2 AND kind = 'remote' AND status IN ('queued', 'deferred') AND next_attempt_at <= now()
        RETURNING id, address, original_address, attempts, dsn_notify, delay_notified, mail_from`,
      [messageId, domain, leaseSeconds],
    );
    return claimed;
  }

  async dueLocalMessages(graceSeconds: number, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ message_id: string }>(
      `SELECT DISTINCT message_id FROM spool_recipient
        WHERE status IN ('queued', 'deferred') AND kind = 'local' AND next_attempt_at <= now() - make_interval(secs => $1)
        LIMIT $2`,
      [graceSeconds, limit],
    );
    return rows.map((r) => r.message_id);
  }

  async dueRemoteDestinations(graceSeconds: number, limit: number): Promise<Array<{ messageId: string; domain: string; attempts: number }>> {
    const { rows } = await this.pool.query<{ message_id: string; domain: string; attempts: number }>(
      `SELECT message_id, domain, min(attempts) AS attempts FROM spool_recipient
        WHERE status IN ('queued', 'deferred') AND kind = 'remote' AND next_attempt_at <= now() - make_interval(secs => $1)
        GROUP BY message_id, domain LIMIT $2`,
      [graceSeconds, limit],
    );
    return rows.map((r) => ({ messageId: r.message_id, domain: r.domain, attempts: Number(r.attempts) }));
  }

  async closeFinished(graceSeconds: number, limit: number): Promise<number> {
    const closed = await this.pool.query(
      `UPDATE spool_message m SET done_at = now()
        WHERE m.id IN (
          SELECT s.id FROM spool_message s
           WHERE s.done_at IS NULL AND s.received_at <= now() - make_interval(secs => $1)
             AND NOT EXISTS (SELECT 1 FROM spool_recipient r WHERE r.message_id = s.id AND r.status IN ('queued', 'deferred'))
           LIMIT $2)`,
      [graceSeconds, limit],
    );
    return closed.rowCount ?? 0;
  }

  async purgeDone(retentionDays: number, limit: number): Promise<number> {
    const purged = await this.pool.query(
      `DELETE FROM spool_message WHERE id IN (
         SELECT id FROM spool_message WHERE done_at < now() - make_interval(days => $1) LIMIT $2)`,
      [retentionDays, limit],
    );
    return purged.rowCount ?? 0;
  }
}
