import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Subscriptions to names that have no folder: a deleted subscribed folder stays subscribed, and a client may
 * subscribe before creating (RFC 3501 §6.3.6, RFC 5258 \NonExistent). Folders that exist keep folder.subscribed;
 * a row here goes when its name is created again (as a subscribed folder) or unsubscribed.
 */
export class FolderSubscription1764500000000 implements MigrationInterface {
  name = 'FolderSubscription1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE folder_subscription (
        mailbox_id uuid NOT NULL REFERENCES mailbox (id) ON DELETE CASCADE,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (mailbox_id, name)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE folder_subscription`);
  }
}
