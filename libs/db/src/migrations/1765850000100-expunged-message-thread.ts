import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * expunged_message.thread_id: the thread of the message an EXPUNGE removed, so JMAP Thread/changes can tell which
 * threads lost an email (the message row is gone). Tombstones of moves and older ones stay without one; adding a
 * nullable column rewrites nothing.
 */
export class ExpungedMessageThread1765850000100 implements MigrationInterface {
  name = 'ExpungedMessageThread1765850000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE expunged_message ADD COLUMN thread_id bigint`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE expunged_message DROP COLUMN thread_id`);
  }
}
