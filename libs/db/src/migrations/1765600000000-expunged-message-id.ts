import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * expunged_message.message_id: the id of the message a tombstone stands for, so JMAP Email/changes can name destroyed
 * messages by id (IMAP VANISHED names UIDs only). Tombstones written before stay without one; adding a nullable
 * column rewrites nothing.
 */
export class ExpungedMessageId1765600000000 implements MigrationInterface {
  name = 'ExpungedMessageId1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE expunged_message ADD COLUMN message_id bigint`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE expunged_message DROP COLUMN message_id`);
  }
}
