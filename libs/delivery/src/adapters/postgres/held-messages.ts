/**
 * Messages held in the spool until a release time (spool_message.release_at: JMAP sendAt, SMTP FUTURERELEASE).
 * Their recipients were written due at the release time, so no node claims them before; the sweeper enqueues them
 * `graceSeconds` after it. Cancelling takes, in one statement, the recipients that are still due exactly at the
 * release time (never claimed: a claim moves next_attempt_at to its lease) while the release time is still ahead by
 * the clock, and marks them `deleted`; the message is then closed. A message past its release time cannot be
 * cancelled, so a message is either sent or cancelled, never both.
 */
import type { Pool, PoolClient } from 'pg';

export type CancelHeld = 'canceled' | 'released' | 'notFound';

export async function cancelHeldMessage(db: Pick<Pool | PoolClient, 'query'>, messageId: string, authMailboxId: string): Promise<CancelHeld> {
  const { rows } = await db.query<{ canceled: number; release_at: Date | null; found: boolean }>(
    `WITH c AS (
       UPDATE spool_recipient r SET status = 'deleted', last_error = 'canceled by the sender before its release time'
         FROM spool_message m
        WHERE m.id = $1 AND m.auth_mailbox_id = $2 AND r.message_id = m.id AND m.release_at > clock_timestamp()
          AND r.status = 'queued' AND r.next_attempt_at = m.release_at
       RETURNING r.id),
     d AS (
       UPDATE spool_message SET done_at = now()
        WHERE id = $1 AND auth_mailbox_id = $2 AND done_at IS NULL AND EXISTS (SELECT 1 FROM c) RETURNING id)
     SELECT (SELECT count(*)::int FROM c) AS canceled, m.release_at, true AS found
       FROM spool_message m WHERE m.id = $1 AND m.auth_mailbox_id = $2`,
    [messageId, authMailboxId],
  );
  if (rows.length === 0) return 'notFound';
  return rows[0].canceled > 0 ? 'canceled' : 'released';
}
