import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What IMAP SELECT announces without reading every message row: the first unseen message (most of a mailbox is
 * seen, so the index holds few rows) and the keywords in use (most messages carry only system flags). The
 * predicates are repeated word for word in PostgresMessageStore.viewFolder, so the planner matches them.
 */
export class MessageSelectIndexes1764650000000 implements MigrationInterface {
  name = 'MessageSelectIndexes1764650000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX message_unseen_idx ON message (folder_id, uid) WHERE NOT ('\\Seen' = ANY (flags))`);
    await q.query(`
      CREATE INDEX message_keyword_idx ON message (folder_id)
        WHERE NOT (flags <@ ARRAY['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft']::text[])`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX message_keyword_idx`);
    await q.query(`DROP INDEX message_unseen_idx`);
  }
}
