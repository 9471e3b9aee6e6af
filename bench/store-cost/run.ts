/**
 * What a flag update over a large folder costs inside PostgreSQL, and what each index of `message` adds to it:
 * STORE 1:* +FLAGS / -FLAGS through PostgresMessageStore.setFlags on a folder of BENCH_MESSAGES (5,000) rows, timed
 * BENCH_RUNS times, with WAL bytes written; then again with each optional index dropped in turn (a what-if: the
 * indexes are put back between steps). No IMAP, no node-side rendering: the statement alone.
 * Two what-ifs for the narrow-table design (issue 13), measured before the index drops: the same STORE with
 * `synchronous_commit = off` on its connections, and the store's flag statement run raw (no lock, no event) once on
 * `message` and once on a narrow copy of the mutable columns (id, folder_id, uid, modseq, flags) with the same keys
 * and `(folder_id, modseq)` index — what a flags table would write.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Pool } from 'pg';
import { storedParts } from '@dizi/imap/commands/append.command';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { MemoryNotifier } from '@dizi/mail-store/adapters/memory-notifier';
import { PostgresMessageStore } from '@dizi/mail-store/adapters/postgres-message-store';
import { summariseMessage } from '@dizi/mime/message-summary';
import { createTestDatabase } from '@dizi/testing/test-database';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 5000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const ALL = [{ from: 1, to: 2 ** 31 - 1 }];

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const pool = new Pool({ connectionString: db.url, max: 4 });
  const root = await mkdtemp(join(tmpdir(), 'dizi-store-cost-'));
  const store = new PostgresMessageStore({ pool, blobs: new FsBlobStore(root), notifier: new MemoryNotifier() });
  const asyncPool = new Pool({ connectionString: db.url, max: 4, options: '-c synchronous_commit=off' });
  const asyncStore = new PostgresMessageStore({ pool: asyncPool, blobs: new FsBlobStore(root), notifier: new MemoryNotifier() });
  try {
    const { rows: [tenant] } = await pool.query(`INSERT INTO tenant (name) VALUES ('Bench') RETURNING id`);
    const { rows: [domain] } = await pool.query(
      `INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, 'bench.example', 'bench.example') RETURNING id`, [tenant.id]);
    const { rows: [mailbox] } = await pool.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes)
       VALUES ($1, $2, 'cost', 'cost@bench.example', 'x', 1e12) RETURNING id`, [tenant.id, domain.id]);
    const folders = await store.createDefaultFolders(mailbox.id);
    const inbox = folders.find((f) => f.name === 'INBOX')!;
    const raw = Buffer.from(`From: Sender <s@remote.example>\r\nTo: cost@bench.example\r\nSubject: cost\r\nMessage-ID: <c@remote.example>\r\n\r\n${'Text. '.repeat(1500)}\r\n`);
    const blob = await store.putBlob(Readable.from([raw]));
    await store.append(mailbox.id, { id: inbox.id }, { blobHash: blob.hash, ...storedParts(await summariseMessage(raw)) }, { enforceQuota: false });
    // The other rows as copies of the first in SQL, each with its own Message-ID, half of them seen.
    const columns = `mailbox_id, folder_id, internal_date, size, blob_hash, header_prefix, summary, subject, base_subject, from_addr, to_addr,
      cc_addr, sent_date, in_reply_to, refs, attachment_names, imap_envelope, imap_bodystructure, search_fields`;
    await pool.query(
      `INSERT INTO message (uid, modseq, flags, message_id, ${columns})
       SELECT g, 2, CASE WHEN g % 2 = 0 THEN ARRAY['\\Seen'] ELSE '{}'::text[] END, '<c' || g || '@remote.example>', ${columns}
         FROM message, generate_series(2, $1::int) g WHERE folder_id = $2`, [MESSAGES, inbox.id]);
    await pool.query(`UPDATE folder SET uid_next = $2 + 1, highest_modseq = 2, message_count = $2 WHERE id = $1`, [inbox.id, MESSAGES]);
    await pool.query(`VACUUM ANALYZE message`);

    const walBytes = async () => BigInt((await pool.query(`SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn AS b`)).rows[0].b);
    type Run = (mode: 'add' | 'remove') => Promise<unknown>;
    const viaStore = (s: PostgresMessageStore): Run => (mode) => s.setFlags(inbox.id, ALL, mode, ['\\Flagged']);
    // The flag statement of PostgresMessageStore.setFlags (add/remove one keyword, MODSEQ from the folder) on `table`.
    const rawFlags = (table: string): Run => (mode) => pool.query(
      `WITH fo AS (SELECT highest_modseq FROM folder WHERE id = $1::uuid),
         sel AS (SELECT m.id, m.flags AS old,
                        ${mode === 'add'
                          ? `m.flags || ARRAY(SELECT g FROM unnest($2::text[]) g WHERE NOT EXISTS (SELECT 1 FROM unnest(m.flags) h WHERE lower(h) = lower(g)))`
                          : `ARRAY(SELECT g FROM unnest(m.flags) WITH ORDINALITY a(g, o) WHERE NOT lower(g) = ANY ($2::text[]) ORDER BY o)`} AS next
                   FROM ${table} m WHERE m.folder_id = $1::uuid AND m.uid BETWEEN 1 AND 2147483647),
         upd AS (UPDATE ${table} m SET flags = s.next, modseq = (SELECT highest_modseq + 1 FROM fo) FROM sel s
                  WHERE m.id = s.id AND cardinality(s.next) ${mode === 'add' ? '>' : '<'} cardinality(s.old)
                  RETURNING m.uid, m.flags),
         f AS (UPDATE folder SET highest_modseq = highest_modseq + 1 WHERE id = $1::uuid AND EXISTS (SELECT 1 FROM upd))
       SELECT (SELECT json_agg(json_build_array(uid, flags) ORDER BY uid)::text FROM upd) AS changed`,
      [inbox.id, [mode === 'add' ? '\\Flagged' : '\\flagged']]);
    const measure = async (label: string, run: Run = viaStore(store)) => {
      const ms: number[] = [];
      let wal = 0n;
      for (let i = 0; i < RUNS; i++) {
        const w0 = await walBytes();
        const t0 = performance.now();
        await run('add');
        ms.push(performance.now() - t0);
        wal += (await walBytes()) - w0;
        await run('remove');
      }
      ms.sort((a, b) => a - b);
      console.log(`${label.padEnd(44)} p50 ${ms[Math.floor(ms.length / 2)].toFixed(1).padStart(7)} ms  min ${ms[0].toFixed(1).padStart(7)} ms  WAL ${(Number(wal) / RUNS / 1024).toFixed(0).padStart(6)} KB`);
    };
    const indexes = (await pool.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'message' AND indexname NOT IN ('message_pkey', 'message_folder_id_uid_key', 'message_folder_modseq_idx', 'message_delivery_key_key')
        ORDER BY indexname`)).rows;
    console.log(`UID STORE 1:* +FLAGS (\\Flagged) on ${MESSAGES} messages, ${RUNS} runs (each followed by -FLAGS)`);
    await measure('all indexes');
    await measure('all indexes, synchronous_commit = off', viaStore(asyncStore));
    await measure('raw statement on message (all indexes)', rawFlags('message'));
    await pool.query(`CREATE TABLE flags_whatif AS SELECT id, folder_id, uid, modseq, flags FROM message`);
    await pool.query(`ALTER TABLE flags_whatif ADD PRIMARY KEY (id), ADD UNIQUE (folder_id, uid)`);
    await pool.query(`CREATE INDEX flags_whatif_modseq_idx ON flags_whatif (folder_id, modseq)`);
    await pool.query(`VACUUM ANALYZE flags_whatif`);
    await measure('raw statement on a narrow flags table', rawFlags('flags_whatif'));
    await pool.query(`DROP TABLE flags_whatif`);
    for (const ix of indexes) {
      await pool.query(`DROP INDEX ${ix.indexname}`);
      await measure(`without ${ix.indexname}`);
      await pool.query(ix.indexdef);
    }
    for (const ix of indexes) await pool.query(`DROP INDEX ${ix.indexname}`);
    await measure('only the keys and (folder_id, modseq)');
  } finally {
    await asyncPool.end();
    await pool.end();
    await db.drop();
    await rm(root, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
