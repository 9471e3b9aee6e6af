import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Welcome mails asked for and not yet sent (issue 12 item 4). The API writes a row in the transaction that creates
 * the mailbox (one by one or by CSV import) when the `welcomeMailEnabled` setting is on; the scheduler role of a mail
 * node, which holds the blob store the API lacks, puts the mail in the INBOX (idempotent by its delivery key) and
 * deletes the row. A mailbox deleted first takes its row with it.
 */
export class MailboxWelcome1765510000000 implements MigrationInterface {
  name = 'MailboxWelcome1765510000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mailbox_welcome (
        mailbox_id uuid PRIMARY KEY REFERENCES mailbox(id) ON DELETE CASCADE,
        requested_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX mailbox_welcome_requested_idx ON mailbox_welcome (requested_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mailbox_welcome`);
  }
}
