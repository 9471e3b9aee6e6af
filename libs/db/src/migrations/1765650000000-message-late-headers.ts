import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * List-Id joins the header fields kept in message.search_fields (libs/mail-store search-fields.ts): new messages carry
 * it from their summary, with `x` set. Rows stored before have no `x`; the store reads their header block once, the
 * first time their folder is searched by such a field, and sets it. This partial index finds those rows without reading
 * the folder; it empties as they are filled, and new rows never enter it.
 */
export class MessageLateHeaders1765650000000 implements MigrationInterface {
  name = 'MessageLateHeaders1765650000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX message_late_headers_missing_idx ON message (folder_id) WHERE NOT (search_fields ? 'x')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX message_late_headers_missing_idx`);
  }
}
