/** The migration of search keys from message rows to blob_search, on a database that holds messages keyed per row. */
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/data-source';
import type { MigrationProgress } from '../src/migration-progress';
import { BlobSearchKeys1765450000000 } from '../src/migrations/1765450000000-blob-search-keys';
import { schemaBefore, seedMailbox, type SchemaBefore } from './schema-before';


const hash = (g: number) => g.toString(16).padStart(64, '0');

describe('BlobSearchKeys migration', () => {
  let schema: SchemaBefore;
  let db: DataSource;

  beforeAll(async () => {
    schema = await schemaBefore(BlobSearchKeys1765450000000);
    const { old } = schema;
    await seedMailbox(old, 'blobkeys.test');
    // 1,100 blobs, two copies of each (INBOX and Trash), as the old code kept them: the keys in every row. Blob 1,000's
    // Trash copy was stored without keys (the longest set wins); blob 1,100 has none at all (no row).
    await old.query(`INSERT INTO blob (hash, size) SELECT lpad(to_hex(g), 64, '0'), 10 FROM generate_series(1, 1100) g`);
    await old.query(`
      INSERT INTO message (mailbox_id, folder_id, uid, modseq, internal_date, size, blob_hash, summary, search_keys)
      SELECT f.mailbox_id, f.id, g, 1, now(), 10, lpad(to_hex(g), 64, '0'), '{}',
             CASE WHEN g = 1100 OR (g = 1000 AND f.special_use = 'trash') THEN '{}'::int8[]
                  ELSE ARRAY[g, 7] || CASE WHEN g % 2 = 0 THEN ARRAY[2::int8] ELSE '{}' END END
        FROM folder f, generate_series(1, 1100) g WHERE f.special_use IN ('inbox', 'trash')`);
    db = await schema.reopen();
  });

  afterAll(async () => {
    await schema?.drop();
  });

  it('moves the keys to one row per blob in batches, reporting progress, and drops them from the message rows', async () => {
    const seen: MigrationProgress[] = [];
    expect(await migrate(db, (p) => seen.push(p))).toContain('BlobSearchKeys1765450000000');
    expect(seen.map((p) => p.done)).toEqual([500, 1000, 1099]);
    expect(seen.every((p) => p.total === 1099 && p.migration === 'BlobSearchKeys1765450000000')).toBe(true);

    const rows: Array<{ blob_hash: string; keys: string[] }> = await db.query(`SELECT blob_hash, keys::text[] AS keys FROM blob_search ORDER BY blob_hash`);
    expect(rows).toHaveLength(1099);
    for (const [i, r] of rows.entries()) {
      const g = i + 1;
      expect(r.blob_hash).toBe(hash(g));
      expect(r.keys.map(Number), `blob ${g}`).toEqual([g, 7, ...(g % 2 === 0 ? [2] : [])]);
    }
    const uids = async (folder: string, keys: number[]) => (await db.query(
      `SELECT m.uid FROM message m JOIN folder f ON f.id = m.folder_id JOIN blob_search b ON b.blob_hash = m.blob_hash
        WHERE f.special_use = $1 AND b.keys @> $2::int8[] ORDER BY m.uid`, [folder, keys],
    )).map((r: { uid: number }) => r.uid);
    expect(await uids('trash', [1000, 7])).toEqual([1000]);
    expect(await uids('inbox', [77])).toEqual([77]);
    expect(await uids('inbox', [7])).toHaveLength(1099);
    expect(await uids('inbox', [2, 77])).toEqual([]);

    const columns = await db.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'message' AND column_name LIKE 'search%'`);
    expect(columns.map((c: { column_name: string }) => c.column_name)).toEqual(['search_fields']);
    expect(await db.query(`SELECT indexname FROM pg_indexes WHERE indexname = 'message_search_keys_idx'`)).toEqual([]);
    const [index] = await db.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'blob_search_keys_idx'`);
    expect(index.indexdef).toContain('USING gin (keys)');
    // The row goes with its blob.
    await db.query(`DELETE FROM message WHERE blob_hash = $1`, [hash(5)]);
    await db.query(`DELETE FROM blob WHERE hash = $1`, [hash(5)]);
    expect(await db.query(`SELECT 1 FROM blob_search WHERE blob_hash = $1`, [hash(5)])).toEqual([]);
  });
});
