import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * JMAP Email/query's usual first page, newest first in one folder or across the mailbox, read from an index in sort
 * order (a backward scan stops after the page) instead of sorting every message of a large mailbox. The id is the
 * tie-break of PostgresMessageStore.queryMessages, so the index gives the whole order.
 */
export class MessageMailboxQueryIndexes1765850000000 implements MigrationInterface {
  name = 'MessageMailboxQueryIndexes1765850000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX message_folder_received_idx ON message (folder_id, internal_date, id)`);
    await q.query(`CREATE INDEX message_mailbox_received_idx ON message (mailbox_id, internal_date, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX message_mailbox_received_idx`);
    await q.query(`DROP INDEX message_folder_received_idx`);
  }
}
