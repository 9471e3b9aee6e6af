/** Append throughput of the PostgreSQL message store on a fresh database: one folder, 100 mailboxes, and appendMany. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Pool } from 'pg';
import { searchKeyList } from '@dizi/domain/search-key';
import { createTestDatabase } from '@dizi/testing/test-database';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { MemoryNotifier } from '@dizi/mail-store/adapters/memory-notifier';
import { PostgresMessageStore } from '@dizi/mail-store/adapters/postgres-message-store';

const TOTAL = Number(process.env.BENCH_APPENDS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

async function runPool(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await task(next++);
  }));
  return count / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const pool = new Pool({ connectionString: db.url, max: CONCURRENCY + 4 });
  const root = await mkdtemp(join(tmpdir(), 'dizi-bench-blobs-'));
  const store = new PostgresMessageStore({ pool, blobs: new FsBlobStore(root), notifier: new MemoryNotifier() });
  try {
    const { rows: [t] } = await pool.query(`INSERT INTO tenant (name) VALUES ('bench') RETURNING id`);
    const { rows: [d] } = await pool.query(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, 'bench.example', 'bench.example') RETURNING id`, [t.id]);
    const mailboxes: string[] = [];
    for (let i = 0; i < 100; i++) {
      const { rows: [m] } = await pool.query(
        `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes) VALUES ($1, $2, $3, $3 || '@bench.example', 'x', 1e12) RETURNING id`,
        [t.id, d.id, `u${i}`],
      );
      await store.createDefaultFolders(m.id);
      mailboxes.push(m.id);
    }
    const body = Buffer.from(`Subject: bench\r\nFrom: a@b.example\r\n\r\n${'lorem ipsum '.repeat(400)}\r\n`);
    const blob = await store.putBlob(Readable.from([body]));
    const keys = searchKeyList(['bench', 'lorem', 'ipsum', '金笛', '笛邮']);
    const message = (key?: string) => ({
      blobHash: blob.hash, headerPrefix: 'Delivered-To: u@bench.example\r\n', summary: { subject: 'bench' },
      sortFields: { subject: 'bench', from: 'a@b.example' }, searchKeys: keys, deliveryKey: key,
    });
    const one = mailboxes[0];
    const serial = await runPool(TOTAL / 4, 1, () => store.append(one, { name: 'INBOX' }, message(), { enforceQuota: true }));
    const oneFolder = await runPool(TOTAL, CONCURRENCY, (i) => store.append(one, { name: 'INBOX' }, message(`one-${i}`), { enforceQuota: true }));
    const spread = await runPool(TOTAL, CONCURRENCY, (i) => store.append(mailboxes[i % 100], { name: 'INBOX' }, message(`spread-${i}`), { enforceQuota: true }));
    // Distinct messages have distinct blobs; a shared blob row serialises its appends (its refcount row is locked).
    const distinct = await Promise.all(Array.from({ length: TOTAL }, (_, i) => store.putBlob(Readable.from([Buffer.concat([body, Buffer.from(String(i))])]))));
    const spreadDistinct = await runPool(TOTAL, CONCURRENCY, (i) => store.append(mailboxes[i % 100], { name: 'INBOX' },
      { ...message(`distinct-${i}`), blobHash: distinct[i].hash }, { enforceQuota: true }));
    const batches = 20;
    const many = await runPool(batches, 4, (b) => store.appendMany(mailboxes.map((mb, i) => ({
      mailboxId: mb, folder: { name: 'INBOX' }, message: message(`many-${b}-${i}`), enforceQuota: true,
    }))));
    const inbox = await store.getFolder(one, { name: 'INBOX' });
    console.log(JSON.stringify({
      appends: TOTAL, concurrency: CONCURRENCY,
      oneFolderSerialPerSec: Math.round(serial),
      oneFolderConcurrentPerSec: Math.round(oneFolder),
      hundredMailboxesSameBlobConcurrentPerSec: Math.round(spread),
      hundredMailboxesDistinctBlobsConcurrentPerSec: Math.round(spreadDistinct),
      appendManyTo100MailboxesDeliveriesPerSec: Math.round(many * 100),
      inboxUidNext: inbox.uidNext,
    }, null, 2));
  } finally {
    await pool.end();
    await db.drop();
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
