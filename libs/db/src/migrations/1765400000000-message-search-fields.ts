import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * message.search_fields: what SEARCH by header, SENT* and SORT read of a message (libs/mail-store search-fields.ts),
 * made from the summary when the message is stored, so those are answered from the rows instead of by reading every
 * message's header from its blob. Rows stored before are filled by the store the first time their folder is searched
 * (the partial index finds them without reading the folder); adding the column rewrites nothing.
 */
export class MessageSearchFields1765400000000 implements MigrationInterface {
  name = 'MessageSearchFields1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE message ADD COLUMN search_fields jsonb`);
    await q.query(`CREATE INDEX message_search_fields_missing_idx ON message (folder_id) WHERE search_fields IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX message_search_fields_missing_idx`);
    await q.query(`ALTER TABLE message DROP COLUMN search_fields`);
  }
}
