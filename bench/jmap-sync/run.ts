/**
 * JMAP push and full sync, through the real API over HTTP (issue 14's figures):
 * 1. Push: BENCH_STREAMS (default 1,000) EventSource streams open at once (`/jmap/eventsource?types=Email`), spread
 *    over BENCH_STREAM_USERS mailboxes (default 10); a message is stored in one mailbox at a time through the message
 *    store with the Redis notifier (as a mail node delivers), and the time until each of that mailbox's streams
 *    gets its `state` event is taken. Also the API process's heap and RSS growth per open stream (the clients run in
 *    this process too: an upper bound).
 * 2. Full sync of a BENCH_SYNC_MESSAGES (default 10,000) mailbox as a client without a cache does it: Mailbox/get,
 *    Email/query pages of ids, Email/get in batches of 500 with a list's properties; time and bytes. Beside it, IMAP
 *    `UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)` of the same mailbox through the mail
 *    node's IMAP role (implicit TLS, as clients connect).
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import Redis from 'ioredis';
import { Pool } from 'pg';
import pino from 'pino';
import selfsigned from 'selfsigned';
import { hashPassword } from '@dizi/auth/password-hash';
import { loadMtaConfig } from '@dizi/config/mta.config';
import { postgresDeliveryStores } from '@dizi/delivery/adapters/postgres/delivery-stores';
import { SettingsSource } from '@dizi/delivery/adapters/postgres/settings-source';
import { storedParts } from '@dizi/imap/commands/append.command';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { PostgresMessageStore } from '@dizi/mail-store/adapters/postgres-message-store';
import { RedisNotifier } from '@dizi/mail-store/adapters/redis-notifier';
import type { Delivery } from '@dizi/mail-store/ports/message-store';
import { summariseMessage } from '@dizi/mime/message-summary';
import { TEST_REDIS_URL } from '@dizi/testing/test-database';
import type { MtaContext } from '../../apps/mta/src/context';
import { startImapRole } from '../../apps/mta/src/roles/imap.role';
import { startTestApi } from '../../apps/api/test/harness';

const STREAMS = Number(process.env.BENCH_STREAMS ?? 1000);
const STREAM_USERS = Number(process.env.BENCH_STREAM_USERS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SYNC_MESSAGES = Number(process.env.BENCH_SYNC_MESSAGES ?? 10_000);
const TEMPLATES = Math.min(SYNC_MESSAGES, 500);
const PASSWORD = 'Bench-password-1';
const USING = ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'];
const LIST_PROPERTIES = ['id', 'blobId', 'threadId', 'mailboxIds', 'keywords', 'size', 'receivedAt', 'messageId', 'inReplyTo', 'references',
  'from', 'to', 'cc', 'replyTo', 'subject', 'sentAt', 'hasAttachment', 'preview'];

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

function message(i: number, to: string): Buffer {
  return Buffer.from(
    `From: Sender ${i % 40} <sender${i % 40}@remote.example>\r\nTo: <${to}>\r\nSubject: report ${i} 周报\r\n`
    + `Date: Mon, ${1 + (i % 28)} Dec 2025 10:00:00 +0800\r\nMessage-ID: <sync-${i}@remote.example>\r\nMIME-Version: 1.0\r\n`
    + `Content-Type: text/plain; charset=utf-8\r\n\r\n${Array.from({ length: 30 }, (_, n) => `Line ${n} of message ${i}, 关于预算。`).join('\r\n')}\r\n`,
  );
}

/** One EventSource stream read with node:http; `onState` for every `state` event after the first. */
function openStream(url: string, token: string, onState: () => void): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/jmap/eventsource?types=Email&closeafter=no&ping=0`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`eventsource answered ${res.statusCode}`));
      let text = '';
      let opened = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        let end: number;
        while ((end = text.indexOf('\n\n')) >= 0) {
          const event = text.slice(0, end);
          text = text.slice(end + 2);
          if (!event.includes('event: state')) continue;
          // The first state event tells the state the stream starts from (RFC 8620 §7.3 servers may send it).
          if (!opened) opened = true;
          else onState();
        }
      });
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const blobDir = mkdtempSync(join(tmpdir(), 'dizi-jmap-sync-'));
  const api = await startTestApi({ BLOB_DIR: blobDir });
  const pool = new Pool({ connectionString: api.db.url, max: 6 });
  const redis = new Redis(TEST_REDIS_URL);
  const blobs = new FsBlobStore(blobDir);
  const notifier = new RedisNotifier(redis, { prefix: `dizi-test:${api.db.name}:mailbox:` });
  const store = new PostgresMessageStore({ pool, blobs, notifier });
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  try {
    const op = await api.operatorToken();
    const tenant = await api.request('POST', '/api/tenants', { token: op, body: { name: 'SyncBench' } });
    const domain = await api.request('POST', '/api/domains', { token: op, body: { tenantId: tenant.body.id, name: 'sync-bench.test' } });
    const hash = await hashPassword(PASSWORD);
    const users: Array<{ id: string; address: string; token: string; inbox: string }> = [];
    for (let u = 0; u <= STREAM_USERS; u++) {
      const address = `u${u}@sync-bench.test`;
      const [row] = await api.db.dataSource.query(
        `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes, role) VALUES ($1, $2, $3, $4, $5, 1099511627776, 'user') RETURNING id`,
        [tenant.body.id, domain.body.id, `u${u}`, address, hash],
      );
      const folders = await store.createDefaultFolders(row.id);
      users.push({ id: row.id, address, token: await api.login(address, PASSWORD), inbox: folders.find((f) => f.specialUse === 'inbox')!.id });
    }
    const syncUser = users.pop()!;

    // 1. Push.
    console.log(`push: ${STREAMS} EventSource streams over ${STREAM_USERS} mailboxes`);
    global.gc?.();
    const before = process.memoryUsage();
    const waiting = new Map<string, { started: number; seen: number[] }>();
    const streams: IncomingMessage[] = [];
    let t = performance.now();
    for (let i = 0; i < STREAMS; i++) {
      const user = users[i % users.length];
      streams.push(await openStream(api.url, user.token, () => {
        const w = waiting.get(user.id);
        if (w) w.seen.push(performance.now() - w.started);
      }));
    }
    cleanups.push(() => streams.forEach((s) => s.destroy()));
    await new Promise((r) => setTimeout(r, 1000));
    global.gc?.();
    const after = process.memoryUsage();
    console.log(`  opened in ${((performance.now() - t) / 1000).toFixed(1)} s; growth per stream (API and client in one process): `
      + `heap ${((after.heapUsed - before.heapUsed) / STREAMS / 1024).toFixed(1)} KiB, RSS ${((after.rss - before.rss) / STREAMS / 1024).toFixed(1)} KiB`);
    const perStream = STREAMS / users.length;
    const latencies: number[] = [];
    let missed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [k, user] of users.entries()) {
        const bytes = message(round * 1000 + k, user.address);
        const blob = await store.putBlob(Readable.from([bytes]));
        const w = { started: performance.now(), seen: [] as number[] };
        waiting.set(user.id, w);
        const [outcome] = await store.appendMany([{ mailboxId: user.id, folder: { id: user.inbox }, message: { blobHash: blob.hash, ...storedParts(await summariseMessage(bytes)) }, enforceQuota: false }]);
        if (!outcome.ok) throw outcome.error;
        const deadline = performance.now() + 5000;
        while (w.seen.length < perStream && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        waiting.delete(user.id);
        missed += Math.max(0, perStream - w.seen.length);
        latencies.push(...w.seen);
      }
    }
    latencies.sort((a, b) => a - b);
    console.log(`  ${ROUNDS * users.length} deliveries, each to a mailbox with ${perStream} open streams: state event after p50 ${percentile(latencies, 50).toFixed(0)} ms, `
      + `p95 ${percentile(latencies, 95).toFixed(0)} ms, max ${latencies[latencies.length - 1].toFixed(0)} ms; ${missed} stream(s) not told within 5 s`);
    for (const s of streams) s.destroy();

    // 2. Full sync: SYNC_MESSAGES in the sync user's INBOX (templates stored, then their rows copied in SQL).
    t = performance.now();
    for (let from = 0; from < TEMPLATES; from += 100) {
      const batch: Delivery[] = [];
      for (let i = from; i < Math.min(TEMPLATES, from + 100); i++) {
        const bytes = message(i, syncUser.address);
        const blob = await store.putBlob(Readable.from([bytes]));
        batch.push({ mailboxId: syncUser.id, folder: { id: syncUser.inbox }, message: { blobHash: blob.hash, ...storedParts(await summariseMessage(bytes)) }, enforceQuota: false });
      }
      for (const outcome of await store.appendMany(batch)) if (!outcome.ok) throw outcome.error;
    }
    const { rows: columns } = await pool.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'message' AND table_schema = current_schema()
          AND column_name NOT IN ('id', 'uid', 'modseq', 'flags', 'internal_date', 'delivery_key', 'thread_id')`);
    const copied = columns.map((c) => c.column_name).join(', ');
    await pool.query(
      `INSERT INTO message (uid, modseq, flags, internal_date, thread_id, ${copied})
       SELECT $2 * k + m.uid, $2 * k + m.uid, '{}', m.internal_date + make_interval(mins => k), 0, ${columns.map((c) => `m.${c.column_name}`).join(', ')}
         FROM message m, generate_series(1, $3::int) AS k WHERE m.folder_id = $1 AND $2 * k + m.uid <= $4`,
      [syncUser.inbox, TEMPLATES, Math.ceil(SYNC_MESSAGES / TEMPLATES) - 1, SYNC_MESSAGES],
    );
    await pool.query(`UPDATE message SET thread_id = id WHERE thread_id = 0 AND folder_id = $1`, [syncUser.inbox]);
    await pool.query(
      `UPDATE folder f SET message_count = s.n, unseen_count = s.n, size_bytes = s.bytes, uid_next = s.top + 1, highest_modseq = s.top
         FROM (SELECT count(*) AS n, sum(size) AS bytes, max(uid) AS top FROM message WHERE folder_id = $1) s WHERE f.id = $1`, [syncUser.inbox]);
    await pool.query(`VACUUM ANALYZE message`);
    console.log(`\nfull sync: ${SYNC_MESSAGES} messages seeded in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    let bytes = 0;
    const jmap = async (methodCalls: unknown[]): Promise<any[]> => {
      const res = await fetch(`${api.url}/jmap/api`, {
        method: 'POST', headers: { authorization: `Bearer ${syncUser.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ using: USING, methodCalls }),
      });
      const text = await res.text();
      bytes += Buffer.byteLength(text);
      const body = JSON.parse(text) as { methodResponses: any[] };
      for (const [name, args] of body.methodResponses) if (name === 'error') throw new Error(`JMAP error: ${JSON.stringify(args)}`);
      return body.methodResponses;
    };
    const session = (await (await fetch(`${api.url}/jmap/session`, { headers: { authorization: `Bearer ${syncUser.token}` } })).json()) as any;
    const maxGet = Math.min(500, session.capabilities['urn:ietf:params:jmap:core'].maxObjectsInGet as number);
    const jmapRuns: number[] = [];
    let jmapBytes = 0;
    let fetched = 0;
    for (let run = 0; run < 3; run++) {
      bytes = 0;
      t = performance.now();
      await jmap([['Mailbox/get', { accountId: syncUser.id }, 'm']]);
      const ids: string[] = [];
      for (let position = 0; ; ) {
        const [[, q]] = await jmap([['Email/query', { accountId: syncUser.id, filter: { inMailbox: syncUser.inbox }, sort: [{ property: 'receivedAt', isAscending: false }], position, limit: 5000 }, 'q']]);
        ids.push(...q.ids);
        position += q.ids.length;
        if (q.ids.length === 0 || position >= q.total) break;
      }
      fetched = 0;
      for (let i = 0; i < ids.length; i += maxGet) {
        const [[, g]] = await jmap([['Email/get', { accountId: syncUser.id, ids: ids.slice(i, i + maxGet), properties: LIST_PROPERTIES }, 'g']]);
        fetched += g.list.length;
      }
      jmapRuns.push(performance.now() - t);
      jmapBytes = bytes;
    }
    jmapRuns.sort((a, b) => a - b);
    console.log(`  JMAP (Mailbox/get, Email/query pages, Email/get ${maxGet} at a time, ${LIST_PROPERTIES.length} properties incl. preview): `
      + `${fetched} emails, median of 3 ${(jmapRuns[1] / 1000).toFixed(2)} s, ${mb(jmapBytes)} MiB`);

    // IMAP of the same mailbox, through the mail node's IMAP role on implicit TLS.
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' });
    const config = { ...loadMtaConfig({ DATABASE_URL: api.db.url }), IMAP_PORT: 0, IMAPS_PORT: 0, MTA_BIND: '127.0.0.1' };
    const ctx: MtaContext = {
      config, logger: pino({ level: 'silent' }), pool, redis, blobs, store, notifier,
      ...postgresDeliveryStores(pool, store, 'sync-bench.test'),
      settings: new SettingsSource(pool),
      tls: { key: Buffer.from(pems.private), cert: Buffer.from(pems.cert) },
      deliveryHandoff: null, slots: null, close: async () => undefined,
    };
    const role = await startImapRole(ctx, { maxConnectionsPerIp: 100, maxConnectionsPerIpPerMinute: 1000 });
    cleanups.push(() => role.stop());
    const imapRuns: number[] = [];
    let imapBytes = 0;
    for (let run = 0; run < 3; run++) {
      const socket = tls.connect({ host: '127.0.0.1', port: role.ports!.imaps, rejectUnauthorized: false });
      let text = '';
      let received = 0;
      socket.on('data', (c: Buffer) => {
        received += c.length;
        text = (text + c.toString('latin1')).slice(-4096);
      });
      const until = (tag: string) => new Promise<void>((resolve, reject) => {
        const check = () => (new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`).test(text) ? (socket.off('data', check), resolve()) : undefined);
        socket.on('data', check);
        socket.once('error', reject);
        check();
      });
      await new Promise((r) => socket.once('secureConnect', r));
      socket.write(`a LOGIN ${syncUser.address} ${PASSWORD}\r\n`);
      await until('a');
      t = performance.now();
      received = 0;
      socket.write('b SELECT INBOX\r\nc UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)\r\n');
      await until('c');
      imapRuns.push(performance.now() - t);
      imapBytes = received;
      socket.end('d LOGOUT\r\n');
    }
    imapRuns.sort((a, b) => a - b);
    console.log(`  IMAP (SELECT, UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE), TLS): median of 3 ${(imapRuns[1] / 1000).toFixed(2)} s, ${mb(imapBytes)} MiB`);
    console.log(`(load average: ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${availableParallelism()} cores)`);
  } finally {
    for (const c of cleanups.reverse()) await c();
    await blobs.close();
    await pool.end();
    redis.disconnect();
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
