/** The migration from tsvector lexemes to search keys, on a database that holds messages indexed the old way. */
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchKey, searchKeyList } from '@dizi/domain/search-key';
import { migrate } from '../src/data-source';
import type { MigrationProgress } from '../src/migration-progress';
import { MessageSearchKeys1764940000000 } from '../src/migrations/1764940000000-message-search-keys';
import { schemaBefore, seedMailbox, type SchemaBefore } from './schema-before';

describe('MessageSearchKeys migration', () => {
  let schema: SchemaBefore;
  let db: DataSource;

  beforeAll(async () => {
    schema = await schemaBefore(MessageSearchKeys1764940000000);
    const { old } = schema;
    // 1,203 messages as the old code stored them: three batches of the migration, and one message with no lexemes.
    await seedMailbox(old, 'keys.test');
    await old.query(`INSERT INTO blob (hash, size, refcount) VALUES (repeat('a', 64), 10, 1203)`);
    // The mailbox's folders came with it (a trigger of that schema); the messages go in its INBOX.
    await old.query(`
      INSERT INTO message (mailbox_id, folder_id, uid, modseq, internal_date, size, blob_hash, summary, search)
      SELECT f.mailbox_id, f.id, g, 1, now(), 10, repeat('a', 64), '{}',
             CASE WHEN g = 600 THEN ''::tsvector
                  ELSE array_to_tsvector(ARRAY['word' || g, 'shared', '金笛', 'it''s', 'a&b'] || CASE WHEN g % 2 = 0 THEN ARRAY['even'] ELSE ARRAY[]::text[] END)
             END
        FROM folder f, generate_series(1, 1203) g WHERE f.special_use = 'inbox'`);
    // Up to this migration only: its outcome is checked as it left it (later ones move the keys, see blob-search-keys.spec.ts).
    db = await schema.reopen(MessageSearchKeys1764940000000);
  });

  afterAll(async () => {
    await schema?.drop();
  });

  it('rekeys every stored message in batches, reporting progress, and indexes the keys', async () => {
    const seen: MigrationProgress[] = [];
    expect(await migrate(db, (p) => seen.push(p))).toContain('MessageSearchKeys1764940000000');
    expect(seen.map((p) => p.done)).toEqual([500, 1000, 1202]);
    expect(seen.every((p) => p.total === 1202 && p.migration === 'MessageSearchKeys1764940000000')).toBe(true);

    const rows: Array<{ uid: number; keys: string[] }> = await db.query(`SELECT uid, search_keys::text[] AS keys FROM message ORDER BY uid`);
    expect(rows).toHaveLength(1203);
    for (const r of rows) {
      const lexemes = r.uid === 600 ? [] : [`word${r.uid}`, 'shared', '金笛', "it's", 'a&b', ...(r.uid % 2 === 0 ? ['even'] : [])];
      expect(r.keys.join(','), `uid ${r.uid}`).toBe(searchKeyList(lexemes));
    }
    const uids = async (lexemes: string[]) =>
      (await db.query(`SELECT uid FROM message WHERE search_keys @> $1::int8[] ORDER BY uid`, [lexemes.map(searchKey)])).map((r: { uid: number }) => r.uid);
    expect(await uids(['word77'])).toEqual([77]);
    expect(await uids(['金笛', 'even', 'word1000'])).toEqual([1000]);
    expect(await uids(['even', 'word77'])).toEqual([]);
    expect(await uids(["it's", 'a&b'])).toHaveLength(1202);

    // The tsvector column is gone (search_fields, a later migration's, is no search index column).
    const columns = await db.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'message' AND column_name IN ('search', 'search_keys')`);
    expect(columns.map((c: { column_name: string }) => c.column_name)).toEqual(['search_keys']);
    const [index] = await db.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'message_search_keys_idx'`);
    expect(index.indexdef).toContain('USING gin (search_keys)');
  });
});
