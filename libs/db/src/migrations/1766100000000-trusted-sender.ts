import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The automatic whitelist (issue 18, anti-spam): every address a mailbox sends to through submission (SMTP or JMAP) is
 * trusted by that mailbox, so mail from it is never tagged, put in Junk or greylisted for it. `last_used_at` lets old
 * entries be pruned; rows go with the mailbox.
 */
export class TrustedSender1766100000000 implements MigrationInterface {
  name = 'TrustedSender1766100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mailbox_trusted_sender (
        mailbox_id uuid NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,
        address text NOT NULL,
        last_used_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (mailbox_id, address)
      )`);
    // MX mail asks "which of these recipients trust this sender": by address first.
    await q.query(`CREATE INDEX mailbox_trusted_sender_address ON mailbox_trusted_sender (address)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mailbox_trusted_sender`);
  }
}
