import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delayed sending (JMAP EmailSubmission sendAt, RFC 8621 §7; SMTP FUTURERELEASE, RFC 4865): a spooled message may
 * carry a release time. Its recipients are written with next_attempt_at = release_at, so no node claims them and the
 * sweeper enqueues them only once it has passed; an undo marks the still-unclaimed recipients `deleted` in one
 * statement. The JMAP view of submissions (EmailSubmission/get, /query, /changes) lives in email_submission, one
 * row per submission keyed by its spool message id, with a MODSEQ from one sequence so /changes can answer from it.
 */
export class EmailSubmission1766220000000 implements MigrationInterface {
  name = 'EmailSubmission1766220000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE spool_message ADD COLUMN release_at timestamptz`);
    await q.query(`CREATE SEQUENCE email_submission_modseq`);
    await q.query(`
      CREATE TABLE email_submission (
        id uuid PRIMARY KEY,
        mailbox_id uuid NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,
        identity_id text NOT NULL,
        email_id text NOT NULL,
        thread_id text NOT NULL,
        envelope jsonb NOT NULL,
        send_at timestamptz NOT NULL,
        undo_status text NOT NULL CHECK (undo_status IN ('pending', 'final', 'canceled')),
        created_modseq bigint NOT NULL,
        modseq bigint NOT NULL,
        destroyed boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX email_submission_mailbox_modseq ON email_submission (mailbox_id, modseq)`);
    await q.query(`CREATE INDEX email_submission_pending ON email_submission (mailbox_id, send_at) WHERE undo_status = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE email_submission`);
    await q.query(`DROP SEQUENCE email_submission_modseq`);
    await q.query(`ALTER TABLE spool_message DROP COLUMN release_at`);
  }
}
