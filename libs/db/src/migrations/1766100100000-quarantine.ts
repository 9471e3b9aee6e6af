import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Quarantine (issue 18): a message the content filter judged a virus or high spam (antivirusAction `quarantine`,
 * antispamQuarantineScore) is spooled like any other — its blob kept by the spool_message row — but its recipients are
 * held (held_at, next_attempt_at infinity), so no node delivers it, and each gets a quarantine row its mailbox owner and
 * the admins list. Releasing lifts the hold (delivered to INBOX); deleting marks the recipients deleted, and the spool
 * retention sweep then removes message and blob. Entries past quarantineRetentionDays are deleted the same way. Each
 * mailbox with new entries gets one digest mail a day listing them.
 */
export class Quarantine1766100100000 implements MigrationInterface {
  name = 'Quarantine1766100100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE quarantine (
        recipient_id bigint PRIMARY KEY REFERENCES spool_recipient (id) ON DELETE CASCADE,
        message_id uuid NOT NULL REFERENCES spool_message (id) ON DELETE CASCADE,
        address text NOT NULL,
        mailbox_id uuid REFERENCES mailbox (id) ON DELETE SET NULL,
        domain_id uuid REFERENCES domain (id) ON DELETE CASCADE,
        tenant_id uuid REFERENCES tenant (id) ON DELETE CASCADE,
        reason text NOT NULL CHECK (reason IN ('spam', 'virus')),
        detail text NOT NULL DEFAULT '',
        spam_score real,
        created_at timestamptz NOT NULL DEFAULT now(),
        released_at timestamptz,
        deleted_at timestamptz,
        -- Listed in the recipient's daily digest (once).
        digest_sent_at timestamptz
      )`);
    await q.query(`CREATE INDEX quarantine_mailbox_idx ON quarantine (mailbox_id, created_at) WHERE released_at IS NULL AND deleted_at IS NULL`);
    await q.query(`CREATE INDEX quarantine_domain_idx ON quarantine (domain_id, created_at) WHERE released_at IS NULL AND deleted_at IS NULL`);
    await q.query(`CREATE INDEX quarantine_created_idx ON quarantine (created_at) WHERE released_at IS NULL AND deleted_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE quarantine`);
  }
}
