import { MigrationInterface, QueryRunner } from 'typeorm';
import { reportMigrationProgress } from '../migration-progress';

const BATCH = 500;

/**
 * The search keys leave the message row for blob_search, one row per blob, written once when the first copy of the
 * blob is stored and never updated. In the message row they made every STORE, COPY and MOVE re-index them: a flag
 * change moves MODSEQ (an indexed column), so the update is not HOT and PostgreSQL re-inserted all of the row's
 * ~2,000 keys (a 10 KB message) into the GIN index; a copy inserted them again. Now those statements write the
 * narrow row only, and every copy of a message (recipients of one delivery, COPY, MOVE) shares one set of keys.
 *
 * The keys are made from the blob alone (the per-recipient header prefix, Return-Path / Delivered-To / filter
 * headers, was never indexed), so keying them by blob hash loses nothing. SEARCH joins the folder's rows to them, so
 * only the folder's messages are ever found: a blob held by several tenants leaks nothing. The row goes with its blob
 * (ON DELETE CASCADE) when garbage collection removes it.
 *
 * Stored keys are copied in batches of blobs, with progress reported; where copies of one blob disagree (rows
 * written with no keys) the longest set is kept. The index is built once at the end.
 */
export class BlobSearchKeys1765450000000 implements MigrationInterface {
  name = 'BlobSearchKeys1765450000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE blob_search (
        blob_hash text PRIMARY KEY REFERENCES blob (hash) ON DELETE CASCADE,
        keys int8[] NOT NULL
      )`);
    // Out of line and uncompressed, as message.search_keys was: hashes do not compress.
    await q.query(`ALTER TABLE blob_search ALTER COLUMN keys SET STORAGE EXTERNAL`);
    const [{ total }] = await q.query(`SELECT count(DISTINCT blob_hash)::int AS total FROM message WHERE search_keys <> '{}'`);
    let done = 0;
    let after = '';
    for (;;) {
      const rows: Array<{ blob_hash: string }> = await q.query(
        `SELECT DISTINCT blob_hash FROM message WHERE blob_hash > $1 AND search_keys <> '{}' ORDER BY blob_hash LIMIT ${BATCH}`, [after],
      );
      if (rows.length === 0) break;
      await q.query(
        `INSERT INTO blob_search (blob_hash, keys)
         SELECT h, (SELECT m.search_keys FROM message m WHERE m.blob_hash = h ORDER BY cardinality(m.search_keys) DESC LIMIT 1)
           FROM unnest($1::text[]) AS h`,
        [rows.map((r) => r.blob_hash)],
      );
      after = rows[rows.length - 1].blob_hash;
      done += rows.length;
      reportMigrationProgress({ migration: this.name, done, total });
    }
    await q.query(`DROP INDEX message_search_keys_idx`);
    await q.query(`ALTER TABLE message DROP COLUMN search_keys`);
    // New keys wait in the pending list (up to 32 MB) until the scheduler merges them in bulk (mergeSearchIndex).
    await q.query(`CREATE INDEX blob_search_keys_idx ON blob_search USING gin (keys) WITH (gin_pending_list_limit = 32768)`);
    // The blobs holding every key asked for, from the index and only from it. The planner costs a scan of blob_search
    // by its heap, which is small (the keys are TOASTed, ~16 KB per 10 KB message), not by the keys it would detoast
    // and test row by row: with a few keys (a word's trigrams) it chose that scan, 60-140 ms for 2,000 blobs and
    // linear in every tenant's blobs. Inside this function (never inlined, for its SET) only the GIN bitmap is left.
    await q.query(`
      CREATE FUNCTION blob_search_match(wanted int8[]) RETURNS SETOF text LANGUAGE sql STABLE
        SET enable_seqscan = off SET enable_indexscan = off
        AS $$ SELECT blob_hash FROM blob_search WHERE keys @> wanted $$`);
    // Statistics now, not when autovacuum gets to it: the heap is small beside its TOASTed keys, and without them the
    // planner reads every blob's keys (a sequential scan) instead of asking the index.
    await q.query(`ANALYZE blob_search`);
  }

  /** Back into the message rows: every copy of a blob gets the blob's keys. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE message ADD COLUMN search_keys int8[] NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE message ALTER COLUMN search_keys SET STORAGE EXTERNAL`);
    await q.query(`UPDATE message m SET search_keys = b.keys FROM blob_search b WHERE b.blob_hash = m.blob_hash`);
    await q.query(`DROP FUNCTION blob_search_match(int8[])`);
    await q.query(`DROP TABLE blob_search`);
    await q.query(`CREATE INDEX message_search_keys_idx ON message USING gin (search_keys) WITH (gin_pending_list_limit = 32768)`);
  }
}
