import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * JMAP Email/query's first page read from an index in sort order (a scan, backward for descending, stops after the
 * page) instead of sorting every message of a large mailbox: newest first in one folder or across the mailbox, and by
 * subject, sender (display form) or size in one folder. The expressions are PostgresMessageStore's sort expressions
 * word for word, and the id is its tie-break, so the index gives the whole order. Subject and sender are indexed by
 * their first 256 characters (a btree entry must stay under 2,704 bytes, and a subject can be a megabyte long); the
 * store orders by that prefix, then the whole value, so the index still gives the order and ties are sorted in memory.
 */
export class MessageMailboxQueryIndexes1765850000000 implements MigrationInterface {
  name = 'MessageMailboxQueryIndexes1765850000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX message_folder_received_idx ON message (folder_id, internal_date, id)`);
    await q.query(`CREATE INDEX message_mailbox_received_idx ON message (mailbox_id, internal_date, id)`);
    await q.query(`CREATE INDEX message_folder_subject_idx ON message (folder_id, (left(search_fields->'s'->>'subject', 256) COLLATE "C"), id)`);
    await q.query(`CREATE INDEX message_folder_from_idx ON message (folder_id, (left(search_fields->'s'->>'dfrom', 256) COLLATE "C"), id)`);
    await q.query(`CREATE INDEX message_folder_size_idx ON message (folder_id, size, id)`);
    // The threads of one folder are counted (collapseThreads' total) from this index alone, not from the rows.
    await q.query(`DROP INDEX message_mailbox_thread_idx`);
    await q.query(`CREATE INDEX message_mailbox_thread_idx ON message (mailbox_id, thread_id) INCLUDE (folder_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX message_mailbox_thread_idx`);
    await q.query(`CREATE INDEX message_mailbox_thread_idx ON message (mailbox_id, thread_id)`);
    await q.query(`DROP INDEX message_folder_size_idx`);
    await q.query(`DROP INDEX message_folder_from_idx`);
    await q.query(`DROP INDEX message_folder_subject_idx`);
    await q.query(`DROP INDEX message_mailbox_received_idx`);
    await q.query(`DROP INDEX message_folder_received_idx`);
  }
}
