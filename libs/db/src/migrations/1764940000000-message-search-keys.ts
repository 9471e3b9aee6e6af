import { MigrationInterface, QueryRunner } from 'typeorm';
import { searchKeyList } from '@dizi/domain/search-key';
import { reportMigrationProgress } from '../migration-progress';

const BATCH = 500;

/**
 * The search index holds 53-bit keys of the lexemes (libs/domain search-key.ts) in an int8[] under a plain GIN
 * instead of the lexemes in a tsvector: the same prefilter for a fraction of PostgreSQL's time per delivered message
 * (one 300 KB message of prose: 18 ms for tsvector + GIN, under 5 ms for the keys).
 *
 * Messages already stored are rekeyed from their tsvector's lexemes, which are the indexed lexemes as given, in
 * batches, with progress reported; the index is built once at the end. New keys wait in the index's pending list,
 * which may grow to 32 MB, until the scheduler merges them in bulk (libs/mail-store mergeSearchIndex).
 */
export class MessageSearchKeys1764940000000 implements MigrationInterface {
  name = 'MessageSearchKeys1764940000000';

  async up(q: QueryRunner): Promise<void> {
    // Kept out of line and uncompressed: hashes do not compress, and pglz spent a third of PostgreSQL's time trying.
    await q.query(`ALTER TABLE message ADD COLUMN search_keys int8[] NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE message ALTER COLUMN search_keys SET STORAGE EXTERNAL`);
    // A spooled message's keys, made once by the summariser and copied into each delivered copy by SQL. NULL: rows
    // spooled before, whose summary holds the lexemes or the text.
    await q.query(`ALTER TABLE spool_message ADD COLUMN search_keys int8[]`);
    await q.query(`ALTER TABLE spool_message ALTER COLUMN search_keys SET STORAGE EXTERNAL`);
    const [{ total }] = await q.query(`SELECT count(*)::int AS total FROM message WHERE search <> ''::tsvector`);
    let done = 0;
    let after = '0';
    for (;;) {
      const rows: Array<{ id: string; lexemes: string[] }> = await q.query(
        `SELECT id, tsvector_to_array(search) AS lexemes FROM message
          WHERE id > $1 AND search <> ''::tsvector ORDER BY id LIMIT ${BATCH}`,
        [after],
      );
      if (rows.length === 0) break;
      await q.query(
        `UPDATE message m SET search_keys = ('{' || d.keys || '}')::int8[]
           FROM unnest($1::bigint[], $2::text[]) AS d(id, keys) WHERE m.id = d.id`,
        [rows.map((r) => r.id), rows.map((r) => searchKeyList(r.lexemes))],
      );
      after = rows[rows.length - 1].id;
      done += rows.length;
      reportMigrationProgress({ migration: this.name, done, total });
    }
    await q.query(`DROP INDEX message_search_idx`);
    await q.query(`ALTER TABLE message DROP COLUMN search`);
    // Keys wait in the pending list (up to 32 MB) until the scheduler merges them in bulk (mergeSearchIndex).
    await q.query(`CREATE INDEX message_search_keys_idx ON message USING gin (search_keys) WITH (gin_pending_list_limit = 32768)`);
  }

  /** Back to an empty tsvector: keys cannot be turned back into lexemes, so SEARCH finds nothing stored before. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX message_search_keys_idx`);
    await q.query(`ALTER TABLE spool_message DROP COLUMN search_keys`);
    await q.query(`ALTER TABLE message DROP COLUMN search_keys, ADD COLUMN search tsvector NOT NULL DEFAULT ''::tsvector`);
    await q.query(`CREATE INDEX message_search_idx ON message USING gin (search)`);
  }
}
