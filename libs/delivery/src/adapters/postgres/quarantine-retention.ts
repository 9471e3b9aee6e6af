/**
 * Quarantine retention (setting quarantineRetentionDays): held entries older than that are deleted like a user's
 * delete — the spooled recipient marked deleted, the message finished once nothing of it waits — and the spool
 * retention sweep later removes message and blob. Idempotent; any number of scheduler nodes may run it.
 */
import type { Pool } from 'pg';

export async function expireQuarantine(pool: Pick<Pool, 'query'>, retentionDays: number): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `WITH expired AS (
       UPDATE quarantine q SET deleted_at = now()
        WHERE q.released_at IS NULL AND q.deleted_at IS NULL AND q.created_at < now() - make_interval(days => $1)
        RETURNING q.recipient_id, q.message_id),
     gone AS (
       UPDATE spool_recipient r SET status = 'deleted', last_error = 'quarantine: retention period over'
         FROM expired e WHERE r.id = e.recipient_id AND r.status IN ('queued', 'deferred') AND r.held_at IS NOT NULL
       RETURNING r.message_id)
     UPDATE spool_message m SET done_at = now()
      WHERE m.id IN (SELECT message_id FROM gone) AND m.done_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM spool_recipient r WHERE r.message_id = m.id AND r.status IN ('queued', 'deferred')
                          AND r.id NOT IN (SELECT e.recipient_id FROM expired e))
     RETURNING 1`,
    [retentionDays],
  );
  return rows.length;
}
