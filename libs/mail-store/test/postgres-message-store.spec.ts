import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchKeyList, searchKeys } from '@dizi/domain/search-key';
// The shared fresh-database helper is test infrastructure, not a runtime dependency of the store.
import { createTestDatabase, type TestDatabase } from '@dizi/testing/test-database';
import { FsBlobStore } from '../src/adapters/fs-blob-store';
import { MemoryNotifier } from '../src/adapters/memory-notifier';
import { PostgresMessageStore } from '../src/adapters/postgres-message-store';
import { QuotaExceededError } from '../src/ports/message-store';
import { GC_GRACE_MS, describeMessageStore } from './message-store-suite';

async function insertMailbox(pool: Pool, quotaBytes: number): Promise<string> {
  const tag = Math.random().toString(36).slice(2, 10);
  const { rows: [tenant] } = await pool.query(`INSERT INTO tenant (name) VALUES ($1) RETURNING id`, [`t-${tag}`]);
  const { rows: [domain] } = await pool.query(
    `INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, $2, $2) RETURNING id`, [tenant.id, `${tag}.example`],
  );
  const { rows: [mailbox] } = await pool.query(
    `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes)
     VALUES ($1, $2, 'user', $3, 'x', $4) RETURNING id`,
    [tenant.id, domain.id, `user@${tag}.example`, quotaBytes],
  );
  return mailbox.id;
}

/** Counters recomputed from the rows by SQL, independent of the store's own bookkeeping. */
async function checkStoredCounters(pool: Pool, mailboxId: string): Promise<void> {
  const { rows: folders } = await pool.query(
    `SELECT f.name, f.message_count, f.unseen_count, f.size_bytes::int AS size_bytes,
            count(m.id)::int AS rows, count(m.id) FILTER (WHERE NOT '\\Seen' = ANY(m.flags))::int AS unseen,
            coalesce(sum(m.size), 0)::int AS bytes, coalesce(max(m.uid), 0) AS max_uid, f.uid_next,
            coalesce(max(m.modseq), 0)::int AS max_modseq, f.highest_modseq::int AS highest_modseq
       FROM folder f LEFT JOIN message m ON m.folder_id = f.id WHERE f.mailbox_id = $1 GROUP BY f.id`,
    [mailboxId],
  );
  for (const f of folders) {
    expect({ name: f.name, count: f.message_count, unseen: f.unseen_count, size: f.size_bytes })
      .toEqual({ name: f.name, count: f.rows, unseen: f.unseen, size: f.bytes });
    expect(f.max_uid).toBeLessThan(f.uid_next);
    expect(f.max_modseq).toBeLessThanOrEqual(f.highest_modseq);
  }
  const { rows: [mb] } = await pool.query(
    `SELECT b.used_bytes::int AS used, b.message_count,
            (SELECT coalesce(sum(size), 0)::int FROM message WHERE mailbox_id = b.id) AS bytes,
            (SELECT count(*)::int FROM message WHERE mailbox_id = b.id) AS rows
       FROM mailbox b WHERE b.id = $1`, [mailboxId],
  );
  expect({ used: mb.used, count: mb.message_count }).toEqual({ used: mb.bytes, count: mb.rows });
  const { rows: wrongRefcounts } = await pool.query(
    `SELECT b.hash, b.refcount, (SELECT count(*)::int FROM message m WHERE m.blob_hash = b.hash) AS refs
       FROM blob b WHERE b.refcount <> (SELECT count(*) FROM message m WHERE m.blob_hash = b.hash)`,
  );
  expect(wrongRefcounts).toEqual([]);
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setupPostgres(poolSize = 20) {
  const db = await createTestDatabase();
  const pool = new Pool({ connectionString: db.url, max: poolSize });
  pool.on('error', () => undefined); // idle clients see the teardown's DROP DATABASE
  const root = await mkdtemp(join(tmpdir(), 'dizi-pg-blobs-'));
  const blobs = new FsBlobStore(root);
  const notifier = new MemoryNotifier();
  let offset = 0;
  const store = new PostgresMessageStore({ pool, blobs, notifier, gcGraceMs: GC_GRACE_MS, now: () => new Date(Date.now() + offset) });
  const close = async () => {
    await notifier.close();
    await pool.end();
    await db.drop();
    await rm(root, { recursive: true, force: true });
  };
  return { db, pool, blobs, notifier, store, close, advance: (ms: number) => { offset += ms; } };
}

describeMessageStore('PostgresMessageStore', async () => {
  const s = await setupPostgres();
  return {
    store: s.store,
    blobs: s.blobs,
    notifier: s.notifier,
    advanceClock: s.advance,
    createMailbox: (quota) => insertMailbox(s.pool, quota),
    async blobRefcount(hash) {
      const { rows } = await s.pool.query(`SELECT refcount FROM blob WHERE hash = $1`, [hash]);
      return rows.length ? rows[0].refcount : null;
    },
    checkStoredCounters: (mailboxId) => checkStoredCounters(s.pool, mailboxId),
    close: s.close,
  };
});

describe('PostgresMessageStore transactions', () => {
  let s: Awaited<ReturnType<typeof setupPostgres>>;
  let db: TestDatabase;
  beforeAll(async () => {
    s = await setupPostgres();
    db = s.db;
    cleanups.push(s.close);
  });

  async function fill(count: number) {
    const mailboxId = await insertMailbox(s.pool, 1e9);
    const folders = await s.store.createDefaultFolders(mailboxId);
    const inbox = folders.find((f) => f.name === 'INBOX')!.id;
    const trash = folders.find((f) => f.name === 'Trash')!.id;
    const b = await s.store.putBlob(Readable.from([Buffer.from('Subject: atomic\r\n\r\nx\r\n')]));
    for (let i = 0; i < count; i++) {
      await s.store.append(mailboxId, { id: inbox }, { blobHash: b.hash, summary: {}, flags: i % 3 ? [] : ['\\Seen'] }, { enforceQuota: true });
    }
    return { mailboxId, inbox, trash };
  }

  it('gives a mailbox its default folders on insert, or at first use when a bulk import deferred them', async () => {
    const made = await insertMailbox(s.pool, 1e9);
    const count = async (id: string) => Number((await s.pool.query(`SELECT count(*) FROM folder WHERE mailbox_id = $1`, [id])).rows[0].count);
    expect(await count(made)).toBe(6);

    const client = await s.pool.connect();
    let deferred: string;
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL dizi.defer_default_folders = 'on'`);
      const { rows: [m] } = await client.query(
        `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes)
         SELECT tenant_id, domain_id, 'imported', 'imported@' || split_part(address, '@', 2), 'x', 1e9 FROM mailbox WHERE id = $1 RETURNING id`,
        [made],
      );
      await client.query('COMMIT');
      deferred = m.id;
    } finally {
      client.release();
    }
    expect(await count(deferred)).toBe(0);
    const b = await s.store.putBlob(Readable.from([Buffer.from('Subject: first\r\n\r\nx\r\n')]));
    const appended = await s.store.append(deferred, { name: 'INBOX' }, { blobHash: b.hash, summary: {} }, { enforceQuota: true });
    expect(appended.uid).toBe(1);
    expect((await s.store.listFolders(deferred)).map((f) => f.specialUse).sort()).toEqual(['drafts', 'inbox', 'junk', 'sent', 'trash', 'virus']);
  });

  it('rolls a move back completely when its backend dies halfway (after the rows moved, before the tombstones)', async () => {
    const { mailboxId, inbox, trash } = await fill(20);
    const blocker = await s.pool.connect();
    try {
      // An uncommitted tombstone for UID 7 makes the move's tombstone insert wait, after its UPDATE of the messages.
      await blocker.query('BEGIN');
      await blocker.query(`INSERT INTO expunged_message (folder_id, uid, modseq) VALUES ($1, 7, 1)`, [inbox]);
      const { rows: [{ pid: blockerPid }] } = await blocker.query(`SELECT pg_backend_pid() AS pid`);
      const moving = s.store.move(inbox, [{ from: 1, to: 20 }], trash);
      moving.catch(() => undefined);
      let pid = 0;
      let seen: unknown[] = [];
      for (let i = 0; i < 200 && !pid; i++) {
        // The move is one statement (its text past track_activity_query_size is cut off): it is the backend waiting on
        // the blocker, which holds nothing but the uncommitted tombstone.
        const { rows } = await s.pool.query(
          `SELECT pid, wait_event_type, query, pg_blocking_pids(pid) AS blockers FROM pg_stat_activity
            WHERE datname = $1 AND state <> 'idle' AND pid <> pg_backend_pid()`, [db.name],
        );
        seen = rows;
        pid = rows.find((r) => r.wait_event_type === 'Lock' && r.blockers.includes(blockerPid))?.pid ?? 0;
        if (!pid) await new Promise((r) => setTimeout(r, 20));
      }
      if (!pid) console.log(seen);
      expect(pid).toBeGreaterThan(0);
      // While it waits, its moved rows are invisible to everyone else.
      const { rows: [mid] } = await s.pool.query(
        `SELECT count(*) FILTER (WHERE folder_id = $1)::int AS inbox, count(*) FILTER (WHERE folder_id = $2)::int AS trash FROM message`, [inbox, trash],
      );
      expect(mid).toEqual({ inbox: 20, trash: 0 });
      await s.pool.query(`SELECT pg_terminate_backend($1)`, [pid]);
      await expect(moving).rejects.toThrow();
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    expect((await s.store.listMessages(inbox)).map((m) => m.uid)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await s.store.listMessages(trash)).toEqual([]);
    expect((await s.store.changesSince(inbox, 0)).vanished).toEqual([]);
    await checkStoredCounters(s.pool, mailboxId);
    // And the move works once nothing is in its way.
    const moved = await s.store.move(inbox, [{ from: 1, to: 20 }], trash);
    expect(moved.map).toHaveLength(20);
    await checkStoredCounters(s.pool, mailboxId);
  });

  it('shows every message in exactly one folder to readers while moves run back and forth', async () => {
    const { mailboxId, inbox, trash } = await fill(30);
    let running = true;
    const observed = new Set<number>();
    const reader = (async () => {
      while (running) {
        const { rows: [r] } = await s.pool.query(
          `SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids FROM message WHERE folder_id IN ($1, $2)`, [inbox, trash],
        );
        observed.add(r.n);
        expect(r.distinct_ids).toBe(r.n);
      }
    })();
    for (let i = 0; i < 10; i++) {
      await s.store.move(inbox, [{ from: 1, to: 2 ** 31 - 1 }], trash);
      await s.store.move(trash, [{ from: 1, to: 2 ** 31 - 1 }], inbox);
    }
    running = false;
    await reader;
    expect([...observed]).toEqual([30]);
    expect((await s.store.folderStatus(inbox)).messageCount).toBe(30);
    await checkStoredCounters(s.pool, mailboxId);
  });

  it('releases blob references by cascade when the API deletes a whole mailbox', async () => {
    const { mailboxId } = await fill(3);
    const { rows: [before] } = await s.pool.query(`SELECT refcount FROM blob WHERE hash IN (SELECT blob_hash FROM message WHERE mailbox_id = $1)`, [mailboxId]);
    const { rows: [{ hash }] } = await s.pool.query(`SELECT blob_hash AS hash FROM message WHERE mailbox_id = $1 LIMIT 1`, [mailboxId]);
    await s.pool.query(`DELETE FROM mailbox WHERE id = $1`, [mailboxId]);
    const { rows: [after] } = await s.pool.query(`SELECT refcount FROM blob WHERE hash = $1`, [hash]);
    expect(after.refcount).toBe(before.refcount - 3);
  });

  it('leaves new keys to the bulk merge, and finds messages before and after it', async () => {
    const { rows: [idx] } = await s.pool.query(`SELECT reloptions FROM pg_class WHERE relname = 'blob_search_keys_idx'`);
    expect(idx.reloptions).toEqual(['gin_pending_list_limit=32768']);
    await s.store.mergeSearchIndex();
    const { mailboxId, inbox } = await fill(0);
    const words = (i: number) => Array.from({ length: 400 }, (_, j) => `w${i}x${j}`);
    for (let i = 0; i < 20; i++) {
      // A blob per message: the keys are the blob's.
      const b = await s.store.putBlob(Readable.from([Buffer.from(`Subject: merge ${i}\r\n\r\nx\r\n`)]));
      await s.store.append(mailboxId, { id: inbox }, { blobHash: b.hash, summary: {}, searchKeys: searchKeyList([...words(i), 'merged']) }, { enforceQuota: true });
    }
    // Pending: found all the same.
    expect(await s.store.search(inbox, ['merged'])).toHaveLength(20);
    expect(await s.store.search(inbox, ['w7x399', 'merged'])).toEqual([8]);
    expect(await s.store.mergeSearchIndex()).toBeGreaterThan(0);
    expect(await s.store.mergeSearchIndex()).toBe(0);
    expect(await s.store.search(inbox, ['merged'])).toHaveLength(20);
    expect(await s.store.search(inbox, ['w7x399', 'merged'])).toEqual([8]);
    expect(await s.store.search(inbox, ['w7x399', 'w8x0'])).toEqual([]);
  });

  it('answers lexeme search from the GIN index in a large folder', async () => {
    const { inbox } = await fill(1);
    // 20 000 rows, each with its own blob of 50 random keys, written directly: the planner must pick the GIN index,
    // not the folder scan.
    await s.pool.query(
      `WITH b AS (INSERT INTO blob (hash, size) SELECT encode(sha256(('gin ' || g || ' ' || random())::bytea), 'hex'), 10
                    FROM generate_series(1, 20000) g RETURNING hash),
            k AS (INSERT INTO blob_search (blob_hash, keys)
                    SELECT hash, ARRAY(SELECT (random() * 9e15)::int8 + length(hash) - length(hash) FROM generate_series(1, 50)) FROM b)
       INSERT INTO message (mailbox_id, folder_id, uid, modseq, internal_date, size, blob_hash, summary)
       SELECT m.mailbox_id, m.folder_id, 1 + row_number() OVER (), 2, now(), m.size, b.hash, '{}'
         FROM message m, b WHERE m.folder_id = $1 AND m.uid = 1`, [inbox],
    );
    const keys = [...searchKeys(['金笛', '笛邮'])];
    await s.pool.query(
      `UPDATE blob_search SET keys = $2 WHERE blob_hash = (SELECT blob_hash FROM message WHERE folder_id = $1 AND uid = 777)`, [inbox, keys],
    );
    // As the scheduler leaves it: merged (a long pending list is costed, rightly, as a scan of its own).
    await s.store.mergeSearchIndex();
    await s.pool.query('ANALYZE message');
    await s.pool.query('ANALYZE blob_search');
    // The store asks blob_search_match, whose body is planned under its own settings (shown by proconfig).
    const { rows: [fn] } = await s.pool.query(`SELECT prosrc, proconfig FROM pg_proc WHERE proname = 'blob_search_match'`);
    expect(fn.proconfig).toEqual(['enable_seqscan=off', 'enable_indexscan=off']);
    const c = await s.pool.connect();
    try {
      await c.query('BEGIN');
      for (const setting of fn.proconfig as string[]) await c.query(`SET LOCAL ${setting.replace('=', ' = ')}`);
      const { rows } = await c.query(`EXPLAIN ${(fn.prosrc as string).replace('wanted', '$1::int8[]')}`, [keys]);
      expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('Bitmap Index Scan on blob_search_keys_idx');
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
    const started = performance.now();
    expect(await s.store.search(inbox, ['金笛', '笛邮'])).toEqual([777]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('keeps UIDs, MODSEQs, counters and the quota exact under many concurrent writers on one folder', async () => {
    const content = 'Subject: busy\r\n\r\n' + 'x'.repeat(500);
    const b = await s.store.putBlob(Readable.from([Buffer.from(content)]));
    const size = b.size;
    // Room for 120 messages in the mailbox; 150 appends plus copies push against it from many connections at once.
    const mailboxId = await insertMailbox(s.pool, size * 120);
    const folders = await s.store.createDefaultFolders(mailboxId);
    const inbox = folders.find((f) => f.name === 'INBOX')!.id;
    const trash = folders.find((f) => f.name === 'Trash')!.id;
    const sent = folders.find((f) => f.name === 'Sent')!.id;
    // Every UID and MODSEQ a write reports, per folder; each must be handed out once.
    const uidsOf = new Map<string, number[]>([[inbox, []], [trash, []], [sent, []]]);
    const modseqsOf = new Map<string, number[]>([[inbox, []], [trash, []], [sent, []]]);
    let quotaRefusals = 0;
    const all = [{ from: 1, to: 2 ** 31 - 1 }];
    const random = (() => { let x = 7; return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31); })();
    const ops: Array<() => Promise<void>> = [];
    for (let i = 0; i < 150; i++) {
      ops.push(async () => {
        try {
          const r = await s.store.append(mailboxId, { id: inbox }, { blobHash: b.hash, summary: {}, flags: i % 4 ? [] : ['\\Seen'] }, { enforceQuota: true });
          uidsOf.get(inbox)!.push(r.uid);
          modseqsOf.get(inbox)!.push(r.modseq);
        } catch (err) {
          if (!(err instanceof QuotaExceededError)) throw err;
          quotaRefusals += 1;
        }
      });
    }
    for (let i = 0; i < 40; i++) {
      ops.push(async () => {
        const from = 1 + Math.floor(random() * 150);
        const r = await s.store.setFlags(inbox, [{ from, to: from + 20 }], i % 3 ? 'add' : 'remove', i % 2 ? ['\\Seen'] : ['\\Deleted', '\\Seen']);
        if (r.changed.length) modseqsOf.get(inbox)!.push(r.highestModseq);
      });
    }
    for (let i = 0; i < 15; i++) {
      ops.push(async () => {
        try {
          const r = await s.store.copy(inbox, [{ from: 1 + Math.floor(random() * 150), to: 2 ** 31 - 1 }], trash);
          uidsOf.get(trash)!.push(...r.map.map((x) => x.targetUid));
          if (r.map.length) modseqsOf.get(trash)!.push(r.modseq);
        } catch (err) {
          if (!(err instanceof QuotaExceededError)) throw err;
          quotaRefusals += 1;
        }
      });
      ops.push(async () => {
        const from = 1 + Math.floor(random() * 150);
        const r = await s.store.move(inbox, [{ from, to: from + 5 }], sent);
        uidsOf.get(sent)!.push(...r.map.map((x) => x.targetUid));
        if (r.map.length) {
          modseqsOf.get(sent)!.push(r.modseq);
          modseqsOf.get(inbox)!.push(r.sourceModseq);
        }
      });
      ops.push(async () => {
        const r = await s.store.expunge(i % 2 ? inbox : trash, i % 3 ? undefined : all);
        if (r.uids.length) modseqsOf.get(i % 2 ? inbox : trash)!.push(r.modseq);
      });
    }
    // Shuffled, then all at once (the pool has 20 connections, so most wait for one and then for the folder).
    for (let i = ops.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [ops[i], ops[j]] = [ops[j], ops[i]];
    }
    await Promise.all(ops.map((op) => op()));

    expect(quotaRefusals).toBeGreaterThan(0);
    for (const id of [inbox, trash, sent]) {
      const status = await s.store.folderStatus(id);
      const uids = uidsOf.get(id)!.sort((a, c) => a - c);
      // No UID handed out twice, none skipped: exactly 1 .. uid_next - 1.
      expect(uids).toEqual(Array.from({ length: status.uidNext - 1 }, (_, k) => k + 1));
      const modseqs = modseqsOf.get(id)!;
      expect(new Set(modseqs).size).toBe(modseqs.length);
      const initial = folders.find((f) => f.id === id)!.highestModseq;
      expect(status.highestModseq).toBe(Math.max(initial, ...modseqs));
    }
    const quota = await s.store.quota(mailboxId);
    expect(quota.usedBytes).toBeLessThanOrEqual(quota.quotaBytes);
    await checkStoredCounters(s.pool, mailboxId);
  });

  it('writes in one round trip: APPEND after one read, STORE, COPY, MOVE and EXPUNGE in one', async () => {
    const { mailboxId, inbox, trash } = await fill(10);
    const b = await s.store.putBlob(Readable.from([Buffer.from('Subject: counted\r\n\r\nx\r\n')]));
    // A store on its own pool whose every connection counts the messages it sends PostgreSQL (BEGIN and COMMIT
    // included; a multi-statement query is one).
    let trips = 0;
    const pool = new Pool({ connectionString: s.db.url, max: 4 });
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...a: unknown[]) => unknown;
      (client as unknown as { query: unknown }).query = (...args: unknown[]) => { trips += 1; return query(...args); };
    });
    const store = new PostgresMessageStore({ pool, blobs: s.blobs, notifier: s.notifier, gcGraceMs: GC_GRACE_MS });
    const count = async (work: () => Promise<unknown>) => {
      trips = 0;
      await work();
      return trips;
    };
    try {
      const all = [{ from: 1, to: 2 ** 31 - 1 }];
      expect({
        append: await count(() => store.append(mailboxId, { id: inbox }, { blobHash: b.hash, summary: {} }, { enforceQuota: true })),
        store: await count(() => store.setFlags(inbox, all, 'add', ['\\Flagged'])),
        copy: await count(() => store.copy(inbox, all, trash)),
        move: await count(() => store.move(trash, [{ from: 1, to: 5 }], inbox)),
        storeDeleted: await count(() => store.setFlags(inbox, [{ from: 1, to: 3 }], 'add', ['\\Deleted'])),
        expunge: await count(() => store.expunge(inbox)),
      }).toEqual({ append: 2, store: 1, copy: 1, move: 1, storeDeleted: 1, expunge: 1 });
    } finally {
      await pool.end();
    }
    await checkStoredCounters(s.pool, mailboxId);
  });

  it('answers HEADER List-Id for rows stored before it was kept by reading their header once, then from the row', async () => {
    const { mailboxId, inbox } = await fill(0);
    const withList = await s.store.putBlob(Readable.from([Buffer.from('Subject: a\r\nList-Id: Dev =?UTF-8?B?5ZGo5oql?= <dev.lists.example>\r\n\r\nList-Id: not-a-header\r\n')]));
    const without = await s.store.putBlob(Readable.from([Buffer.from('Subject: b\r\n\r\nList-Id: in the body only\r\n')]));
    // Summaries as stored before List-Id was kept: no listIds, so their rows' search_fields have no `x`.
    for (const b of [withList, without, withList]) {
      await s.store.append(mailboxId, { id: inbox }, { blobHash: b.hash, summary: { envelope: { subject: 'x' } } }, { enforceQuota: true });
    }
    // And one stored now, whose summary carries its List-Id (none here): kept at once.
    await s.store.append(mailboxId, { id: inbox }, { blobHash: without.hash, summary: { envelope: { subject: 'x' }, listIds: [] } }, { enforceQuota: true });
    const missing = async () => Number((await s.pool.query(
      `SELECT count(*) FROM message WHERE folder_id = $1 AND NOT (search_fields ? 'x')`, [inbox])).rows[0].count);
    expect(await missing()).toBe(3);
    const search = async (value: string) => (await s.store.searchMessages(inbox, { op: 'header', field: 'list-id', value })).map((h) => h.uid);
    expect(await search('dev.lists')).toEqual([1, 3]);
    expect(await missing()).toBe(0);
    expect(await search('周报')).toEqual([1, 3]);
    expect(await search('')).toEqual([1, 3]);
    expect(await search('body only')).toEqual([]);
    expect((await s.store.searchMessages(inbox, { op: 'not', key: { op: 'header', field: 'list-id', value: '' } })).map((h) => h.uid)).toEqual([2, 4]);
  });

  it('leaves the search index alone on STORE, COPY, MOVE and EXPUNGE over a whole folder', async () => {
    const { mailboxId, inbox, trash } = await fill(0);
    const n = 60;
    for (let i = 0; i < n; i++) {
      const b = await s.store.putBlob(Readable.from([Buffer.from(`Subject: keep ${i}\r\n\r\nbody ${i}\r\n`)]));
      const words = [...Array.from({ length: 1000 }, (_, j) => `k${i}y${j}`), 'kept'];
      await s.store.append(mailboxId, { id: inbox }, { blobHash: b.hash, summary: {}, searchKeys: searchKeyList(words) }, { enforceQuota: true });
    }
    // Every GIN index of the database merged (their pending lists emptied), then merged again after the commands: any
    // key a command wrote to an index is in a pending list (32 MB allowed) and shows as pages merged.
    const pendingPages = async () => Number((await s.pool.query(
      `SELECT coalesce(sum(gin_clean_pending_list(i.indexrelid)), 0) AS pages
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'gin'`,
    )).rows[0].pages);
    expect(await pendingPages()).toBeGreaterThan(0);
    const all = [{ from: 1, to: 2 ** 31 - 1 }];
    expect((await s.store.setFlags(inbox, all, 'add', ['\\Flagged'])).changed).toHaveLength(n);
    expect(await pendingPages()).toBe(0);
    expect((await s.store.copy(inbox, all, trash)).map).toHaveLength(n);
    expect(await pendingPages()).toBe(0);
    await s.store.move(trash, [{ from: 1, to: n / 2 }], inbox);
    expect(await pendingPages()).toBe(0);
    expect(await s.store.search(inbox, ['kept'])).toHaveLength(n + n / 2);
    expect(await s.store.search(trash, ['k7y999', 'kept'])).toEqual([]);
    expect(await s.store.search(trash, ['k40y999', 'kept'])).toEqual([41]);
    await s.store.setFlags(inbox, all, 'add', ['\\Deleted']);
    expect((await s.store.expunge(inbox)).uids).toHaveLength(n + n / 2);
    expect(await pendingPages()).toBe(0);
    expect(await s.store.search(inbox, ['kept'])).toEqual([]);
    expect(await s.store.search(trash, ['kept'])).toHaveLength(n / 2);
    await checkStoredCounters(s.pool, mailboxId);
  });
});
