import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A mailbox user's webmail preferences (issue 15): display density, time zone and the senders whose remote images
 * are shown without asking. Kept by the API so they follow the user from browser to browser; rows go with the mailbox.
 */
export class MailboxPreference1766240000000 implements MigrationInterface {
  name = 'MailboxPreference1766240000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mailbox_preference (
        mailbox_id uuid PRIMARY KEY REFERENCES mailbox(id) ON DELETE CASCADE,
        density text NOT NULL DEFAULT 'comfortable' CHECK (density IN ('comfortable', 'compact')),
        time_zone text,
        image_senders text[] NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mailbox_preference`);
  }
}
