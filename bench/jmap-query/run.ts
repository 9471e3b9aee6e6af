/**
 * JMAP Email/query + Email/get latency in a 100,000-message mailbox, through the real API over HTTP: what the webmail
 * sends to show a folder (the 50 newest, threads collapsed, with a back-reference to Email/get of those 50 with
 * preview). Prints p50/p95 per scenario, one request at a time.
 *
 * Seeding: BENCH_TEMPLATES distinct messages (default 1,000; plain and multipart, a fifth with an attachment, threads
 * of five, Chinese subjects) go through the message store as IMAP APPEND stores them; copies of their rows are then
 * made in SQL up to BENCH_MESSAGES (default 100,000), one minute apart, in threads of five, four in five seen, so the
 * rows, indexes and blobs look like a large mailbox without parsing 100,000 messages.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { Pool } from 'pg';
import { hashPassword } from '@dizi/auth/password-hash';
import { storedParts } from '@dizi/imap/commands/append.command';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { MemoryNotifier } from '@dizi/mail-store/adapters/memory-notifier';
import { PostgresMessageStore } from '@dizi/mail-store/adapters/postgres-message-store';
import type { Delivery, MailboxSearch } from '@dizi/mail-store/ports/message-store';
import { summariseMessage } from '@dizi/mime/message-summary';
import { startTestApi } from '../../apps/api/test/harness';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const TEMPLATES = Math.min(MESSAGES, Number(process.env.BENCH_TEMPLATES ?? 1_000));
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const PASSWORD = 'Bench-password-1';
const CORE = 'urn:ietf:params:jmap:core';
const MAIL = 'urn:ietf:params:jmap:mail';
const WORDS = ['budget', 'meeting', 'invoice', 'travel', 'report', 'release', 'holiday', 'contract', 'review', 'launch'];
const ZH = ['会议', '预算', '报告', '合同', '发布', '海淀', '金笛', '财务'];

function buildMessage(i: number): Buffer {
  const word = WORDS[i % WORDS.length];
  const subject = i % 3 === 0 ? `=?UTF-8?B?${Buffer.from(`${ZH[i % ZH.length]}周报 ${i}`).toString('base64')}?=` : `${word} update ${i}`;
  const body = Array.from({ length: 40 }, (_, n) => `Line ${n} about the ${WORDS[(i + n) % WORDS.length]} and ${ZH[(i + n) % ZH.length]} of week ${i}.`).join('\r\n');
  const head = `From: Sender ${i % 50} <sender${i % 50}@remote.example>\r\nTo: Bench <bench@jmap-bench.test>\r\n`
    + `Subject: ${subject}\r\nDate: Mon, ${1 + (i % 28)} Dec 2025 10:${String(i % 60).padStart(2, '0')}:00 +0800\r\n`
    + `Message-ID: <jmap-bench-${i}@remote.example>\r\n`
    + (i % 5 ? `In-Reply-To: <jmap-bench-${i - 1}@remote.example>\r\nReferences: <jmap-bench-${i - (i % 5)}@remote.example>\r\n` : '')
    + 'MIME-Version: 1.0\r\n';
  if (i % 5 !== 2) return Buffer.from(`${head}Content-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`);
  const b = `b${i}=_mixed`;
  return Buffer.from(`${head}Content-Type: multipart/mixed; boundary="${b}"\r\n\r\n`
    + `--${b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`
    + `--${b}\r\nContent-Type: application/pdf; name="report-${i}.pdf"\r\nContent-Disposition: attachment; filename="report-${i}.pdf"\r\n`
    + `Content-Transfer-Encoding: base64\r\n\r\n${Buffer.alloc(3000, i % 256).toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--${b}--\r\n`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const blobDir = mkdtempSync(join(tmpdir(), 'dizi-jmap-bench-'));
  const api = await startTestApi({ BLOB_DIR: blobDir });
  const pool = new Pool({ connectionString: api.db.url, max: 4 });
  const blobs = new FsBlobStore(blobDir);
  try {
    const op = await api.operatorToken();
    const tenant = await api.request('POST', '/api/tenants', { token: op, body: { name: 'JmapBench' } });
    const domain = await api.request('POST', '/api/domains', { token: op, body: { tenantId: tenant.body.id, name: 'jmap-bench.test' } });
    const [mailbox] = await api.db.dataSource.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes, role)
       VALUES ($1, $2, 'bench', 'bench@jmap-bench.test', $3, 1099511627776, 'user') RETURNING id`,
      [tenant.body.id, domain.body.id, await hashPassword(PASSWORD)],
    );
    const token = await api.login('bench@jmap-bench.test', PASSWORD);
    const store = new PostgresMessageStore({ pool, blobs, notifier: new MemoryNotifier() });
    const folders = await store.createDefaultFolders(mailbox.id);
    const inbox = folders.find((f) => f.specialUse === 'inbox')!;

    let t = performance.now();
    for (let from = 0; from < TEMPLATES; from += 100) {
      const batch: Delivery[] = [];
      for (let i = from; i < Math.min(TEMPLATES, from + 100); i++) {
        const bytes = buildMessage(i);
        const blob = await store.putBlob(Readable.from([bytes]));
        batch.push({ mailboxId: mailbox.id, folder: { id: inbox.id }, message: { blobHash: blob.hash, ...storedParts(await summariseMessage(bytes)) }, enforceQuota: false });
      }
      for (const outcome of await store.appendMany(batch)) if (!outcome.ok) throw outcome.error;
    }
    console.log(`setup: ${TEMPLATES} messages stored in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    t = performance.now();
    const { rows: columns } = await pool.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'message' AND table_schema = current_schema()
          AND column_name NOT IN ('id', 'uid', 'modseq', 'flags', 'internal_date', 'delivery_key', 'thread_id')`);
    const copied = columns.map((c) => c.column_name).join(', ');
    // Copy k of template j gets UID TEMPLATES * k + j + 1: the templates' rows are copy 0.
    await pool.query(
      `INSERT INTO message (uid, modseq, flags, internal_date, thread_id, ${copied})
       SELECT $2 * k + m.uid, $2 * k + m.uid, '{}', m.internal_date, 0, ${columns.map((c) => `m.${c.column_name}`).join(', ')}
         FROM message m, generate_series(1, $3::int) AS k
        WHERE m.folder_id = $1 AND $2 * k + m.uid <= $4`,
      [inbox.id, TEMPLATES, Math.ceil(MESSAGES / TEMPLATES) - 1, MESSAGES],
    );
    // A minute apart in UID order, threads of five consecutive messages, four in five seen.
    await pool.query(
      `UPDATE message m SET internal_date = timestamptz '2024-01-01' + make_interval(mins => m.uid),
              flags = CASE WHEN m.uid % 5 = 0 THEN '{}'::text[] ELSE '{\\Seen}'::text[] END, thread_id = f.first
         FROM (SELECT id, min(id) OVER (PARTITION BY (uid - 1) / 5) AS first FROM message WHERE folder_id = $1) f
        WHERE m.id = f.id`, [inbox.id]);
    await pool.query(
      `UPDATE folder f SET message_count = s.n, unseen_count = s.unseen, size_bytes = s.bytes, uid_next = s.top + 1, highest_modseq = s.top
         FROM (SELECT count(*) AS n, count(*) FILTER (WHERE NOT ('\\Seen' = ANY (flags))) AS unseen, sum(size) AS bytes, max(uid) AS top
                 FROM message WHERE folder_id = $1) s
        WHERE f.id = $1`, [inbox.id]);
    await pool.query(`UPDATE mailbox SET used_bytes = (SELECT sum(size) FROM message WHERE mailbox_id = $1) WHERE id = $1`, [mailbox.id]);
    await store.mergeSearchIndex();
    await pool.query(`VACUUM ANALYZE message`);
    const [{ n }] = (await pool.query(`SELECT count(*)::int AS n FROM message WHERE mailbox_id = $1`, [mailbox.id])).rows;
    console.log(`setup: copied to ${n} messages in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const jmap = async (methodCalls: unknown[]): Promise<any[]> => {
      const res = await fetch(`${api.url}/jmap/api`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ using: [CORE, MAIL], methodCalls }),
      });
      const body = (await res.json()) as { methodResponses: any[] };
      if (res.status !== 200) throw new Error(`JMAP answered ${res.status}: ${JSON.stringify(body)}`);
      for (const [name, args] of body.methodResponses) if (name === 'error') throw new Error(`JMAP error: ${JSON.stringify(args)}`);
      return body.methodResponses;
    };
    const accountId = mailbox.id as string;
    const LIST_PROPERTIES = ['threadId', 'mailboxIds', 'keywords', 'from', 'subject', 'receivedAt', 'size', 'hasAttachment', 'preview'];
    const page = (query: Record<string, unknown>) => [
      ['Email/query', { accountId, limit: 50, ...query }, 'q'],
      ['Email/get', { accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: LIST_PROPERTIES }, 'g'],
    ];
    const newest = { property: 'receivedAt', isAscending: false };
    const inMailbox = { inMailbox: inbox.id };
    const scenarios: Array<[string, unknown[]]> = [
      ['inbox, 50 newest, collapsed + get', page({ filter: inMailbox, sort: [newest], collapseThreads: true })],
      ['  same, calculateTotal', page({ filter: inMailbox, sort: [newest], collapseThreads: true, calculateTotal: true })],
      ['  same, page 3 (position 100)', page({ filter: inMailbox, sort: [newest], collapseThreads: true, position: 100 })],
      ['inbox, 50 newest, not collapsed + get', page({ filter: inMailbox, sort: [newest], calculateTotal: true })],
      ['whole mailbox, 50 newest, collapsed + get', page({ sort: [newest], collapseThreads: true })],
      ['unread (notKeyword $seen) + get', page({ filter: { ...inMailbox, notKeyword: '$seen' }, sort: [newest], collapseThreads: true })],
      ['text "invoice" + get', page({ filter: { ...inMailbox, text: 'invoice' }, sort: [newest], collapseThreads: true })],
      ['text "金笛" + get', page({ filter: { ...inMailbox, text: '金笛' }, sort: [newest] })],
      ['from "sender7@" + get', page({ filter: { ...inMailbox, from: 'sender7@' }, sort: [newest] })],
      ['hasAttachment + get', page({ filter: { ...inMailbox, hasAttachment: true }, sort: [newest] })],
      ['sort subject + get', page({ filter: inMailbox, sort: [{ property: 'subject', isAscending: true }] })],
      ['sort from + get', page({ filter: inMailbox, sort: [{ property: 'from', isAscending: true }] })],
      ['sort size + get', page({ filter: inMailbox, sort: [{ property: 'size', isAscending: false }] })],
      ['query only (50 newest, collapsed)', [page({ filter: inMailbox, sort: [newest], collapseThreads: true })[0]]],
      ['get only (50 by id, with preview)', []],
      ['floor: Core/echo (HTTP, auth, JSON)', [['Core/echo', { hello: 1 }, 'e']]],
    ];
    const firstIds = (await jmap(page({ filter: inMailbox, sort: [newest], collapseThreads: true })))[0][1].ids as string[];
    scenarios.find(([name]) => name.startsWith('get only'))![1] = [['Email/get', { accountId, ids: firstIds, properties: LIST_PROPERTIES }, 'g']];
    const first = await jmap(scenarios[1][1]);
    console.log(`first page: ${first[0][1].ids.length} ids of ${first[0][1].total} threads; first subject ${JSON.stringify(first[1][1].list[0].subject)}`);

    console.log(`\n${RUNS} requests per scenario, one at a time, through HTTP (POST /jmap/api), ${n} messages:`);
    for (const [name, calls] of scenarios) {
      const runs = name.startsWith('text') || name.startsWith('from') || name.startsWith('sort') ? Math.max(10, Math.floor(RUNS / 4)) : RUNS;
      for (let i = 0; i < 5; i++) await jmap(calls);
      const times: number[] = [];
      let hits = 0;
      for (let i = 0; i < runs; i++) {
        t = performance.now();
        const responses = await jmap(calls);
        times.push(performance.now() - t);
        hits = responses[0][1].ids?.length ?? responses[0][1].list?.length ?? 0;
      }
      times.sort((a, b) => a - b);
      console.log(`  ${name.padEnd(44)} n=${String(runs).padEnd(4)} p50 ${percentile(times, 50).toFixed(1).padStart(6)} ms  p95 ${percentile(times, 95).toFixed(1).padStart(6)} ms  (${hits} emails)`);
    }

    // The store's statements alone (no HTTP, no JMAP processing, no blob reads): what the indexes answer.
    console.log(`\nthe message store alone (${RUNS} calls each, in-process, the bench's own pool):`);
    const inboxOnly: MailboxSearch = { op: 'folders', ids: [inbox.id] };
    const storeCalls: Array<[string, () => Promise<unknown>]> = [
      ['queryMessages inbox newest, 100 rows', () => store.queryMessages(mailbox.id, { filter: inboxOnly, sort: [{ key: 'received', reverse: true }], offset: 0, limit: 100 })],
      ['queryMessages inbox by subject, 100 rows', () => store.queryMessages(mailbox.id, { filter: inboxOnly, sort: [{ key: 'subject', reverse: false }], offset: 0, limit: 100 })],
      ['queryMessages inbox text "invoice", 100 rows', () => store.queryMessages(mailbox.id, { filter: { op: 'and', keys: [inboxOnly, { op: 'text', tokens: ['invoice'] }] }, sort: [{ key: 'received', reverse: true }], offset: 0, limit: 100 })],
      ['countMessages inbox (threads)', () => store.countMessages(mailbox.id, inboxOnly, { threads: true })],
      ['messagesById 50 (Email/get rows)', () => store.messagesById(mailbox.id, firstIds.map((id) => id.slice(1)), { withSummary: false, withSortFields: true, withSource: true })],
    ];
    for (const [name, run] of storeCalls) {
      for (let i = 0; i < 3; i++) await run();
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        t = performance.now();
        await run();
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      console.log(`  ${name.padEnd(44)} p50 ${percentile(times, 50).toFixed(1).padStart(6)} ms  p95 ${percentile(times, 95).toFixed(1).padStart(6)} ms`);
    }
    console.log(`(load average while measuring: ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${availableParallelism()} cores)`);
  } finally {
    await blobs.close();
    await pool.end();
    await api.close();
    rmSync(blobDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
