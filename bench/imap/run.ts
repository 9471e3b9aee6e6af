/**
 * IMAP figures on a 10,000-message mailbox, Dizi's imap role against Dovecot 2.3 (when installed) on the same messages:
 * LOGIN+SELECT, FETCH of envelopes/structures and of whole messages, TEXT search (English and Chinese), and for Dizi
 * 1,000 idle sessions (memory each, and how long a new message takes to reach them all).
 */
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { Pool } from 'pg';
import pino from 'pino';
import selfsigned from 'selfsigned';
import { hashPassword } from '@dizi/auth/password-hash';
import { loadMtaConfig } from '@dizi/config/mta.config';
import { SettingsSource } from '@dizi/delivery/adapters/postgres/settings-source';
import { storedParts } from '@dizi/imap/commands/append.command';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { PostgresMessageStore } from '@dizi/mail-store/adapters/postgres-message-store';
import { RedisNotifier } from '@dizi/mail-store/adapters/redis-notifier';
import type { Delivery } from '@dizi/mail-store/ports/message-store';
import { summariseMessage } from '@dizi/mime/message-summary';
import { inParallel } from '@dizi/testing/in-parallel';
import { createTestDatabase, TEST_REDIS_URL } from '@dizi/testing/test-database';
import { postgresDeliveryStores } from '@dizi/delivery/adapters/postgres/delivery-stores';
import type { MtaContext } from '../../apps/mta/src/context';
import { startImapRole } from '../../apps/mta/src/roles/imap.role';
import { startPop3Role } from '../../apps/mta/src/roles/pop3.role';
import { freePort } from '../free-port';
import { createFolders, printRows, runCommandSet, runPop3, type BenchServer } from './command-set';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
const IDLE_SESSIONS = Number(process.env.BENCH_IDLE_SESSIONS ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PASSWORD = 'Bench-Horse-Battery-9';
const USER = 'bench@bench.example';
const ENGLISH_WORD = 'invoice';
const CHINESE_WORD = '会议';
const DOVECOT = '/usr/sbin/dovecot';
/** BENCH_COMMANDS=0 skips the whole-command-set part (command-set.ts); BENCH_FOLDERS folders are made for LIST. */
const COMMANDS = process.env.BENCH_COMMANDS !== '0';
const FOLDERS = Number(process.env.BENCH_FOLDERS ?? 500);

const now = () => performance.timeOrigin + performance.now();

// ------------------------------------------------------------------ messages

const EN = ('the project team will review quarterly figures before shipping release notes to customers and partners '
  + 'please confirm schedule budget travel plans attached summary draft contract weekly update server migration '
  + 'mailbox storage delivery report account holiday office lunch thanks regards').split(' ');
const ZH = ['我们', '明天', '项目', '客户', '报告', '邮件', '服务器', '发布', '预算', '合同', '周末', '北京', '上海', '团队', '安排', '确认', '谢谢', '问题'];

/** A small deterministic PRNG, so both servers get the very same bytes and every run the same mailbox. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** About 10 KB: plain text (a third with a Chinese paragraph), every fourth multipart/alternative with HTML. */
function buildMessage(i: number): Buffer {
  const rnd = prng(i + 1);
  const pick = <T>(list: T[]) => list[Math.floor(rnd() * list.length)];
  const sentence = () => Array.from({ length: 8 + Math.floor(rnd() * 10) }, () => pick(EN)).join(' ') + '.';
  const zhSentence = () => Array.from({ length: 6 + Math.floor(rnd() * 8) }, () => pick(ZH)).join('') + '。';
  const lines: string[] = [];
  let size = 0;
  while (size < 8500) {
    const line = rnd() < 0.3 ? zhSentence() : sentence();
    lines.push(line);
    size += Buffer.byteLength(line) + 2;
  }
  // Marked words in a known share of messages, so hits can be compared across servers.
  if (i % 20 === 0) lines.splice(3, 0, `Please find the ${ENGLISH_WORD} for order ${i} attached.`);
  if (i % 25 === 0) lines.splice(5, 0, `明天下午三点开${CHINESE_WORD}，请准时参加。`);
  const text = lines.join('\r\n');
  const day = 1 + (i % 28);
  const head = `Return-Path: <sender${i % 50}@remote.example>\r\n`
    + `From: Sender ${i % 50} <sender${i % 50}@remote.example>\r\nTo: Bench <${USER}>\r\n`
    + `Subject: ${i % 3 === 0 ? `=?UTF-8?B?${Buffer.from(`项目周报 ${i}`).toString('base64')}?=` : `Weekly update ${i}`}\r\n`
    + `Date: Mon, ${day} Dec 2025 10:${String(i % 60).padStart(2, '0')}:00 +0800\r\n`
    + `Message-ID: <bench-${i}@remote.example>\r\n`
    // Replies in threads of five (THREAD REFERENCES), a mailing list's messages every tenth (HEADER List-Id).
    + (i % 5 ? `In-Reply-To: <bench-${i - 1}@remote.example>\r\nReferences: <bench-${i - (i % 5)}@remote.example> <bench-${i - 1}@remote.example>\r\n` : '')
    + (i % 10 === 0 ? `List-Id: Weekly <weekly.bench.example>\r\n` : '')
    + 'MIME-Version: 1.0\r\n';
  if (i % 4 !== 0) {
    return Buffer.from(`${head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n`);
  }
  const html = `<html><body>${lines.slice(0, 10).map((l) => `<p>${l}</p>`).join('\r\n')}</body></html>`;
  const b = `b${i}=_alt`;
  return Buffer.from(`${head}Content-Type: multipart/alternative; boundary="${b}"\r\n\r\n`
    + `--${b}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n`
    + `--${b}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${html}\r\n--${b}--\r\n`);
}

// ------------------------------------------------------------------ raw IMAP client

interface Reply {
  ms: number;
  /** Untagged responses (literals left out of their text). */
  untagged: string[];
  untaggedCount: number;
  literalBytes: number;
  tagged: string;
}

/**
 * A minimal IMAP client on a socket: literals are skipped by their announced octet count, not scanned, so the client
 * costs little next to the server. Untagged text is kept only when asked (SEARCH), counted otherwise.
 */
class RawImap {
  private pending: Buffer = Buffer.alloc(0);
  private literalLeft = 0;
  private line = '';
  private tagSeq = 0;
  private current: { tag: string; started: number; keep: boolean; reply: Reply; resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  private waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.current?.reject(new Error('connection closed')));
  }

  static connect(port: number): Promise<{ imap: RawImap; greeting: string }> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
      socket.once('error', reject);
      const imap = new RawImap(socket);
      imap.waitFor(() => true).then((greeting) => resolve({ imap, greeting }), reject);
    });
  }

  /** Resolves on the next complete response line that passes `test` (outside a command, or an untagged one). */
  waitFor(test: (line: string) => boolean): Promise<string> {
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  command(text: string | Buffer, keep = false): Promise<Reply> {
    const tag = `b${++this.tagSeq}`;
    return new Promise((resolve, reject) => {
      this.current = { tag, started: performance.now(), keep, resolve, reject, reply: { ms: 0, untagged: [], untaggedCount: 0, literalBytes: 0, tagged: '' } };
      const head = Buffer.from(`${tag} `);
      this.socket.write(Buffer.concat([head, typeof text === 'string' ? Buffer.from(text) : text, Buffer.from('\r\n')]));
    });
  }

  write(text: string): void {
    this.socket.write(text);
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    let pos = 0;
    while (pos < buf.length) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, buf.length - pos);
        this.literalLeft -= take;
        if (this.current) this.current.reply.literalBytes += take;
        pos += take;
        continue;
      }
      const lf = buf.indexOf(0x0a, pos);
      if (lf < 0) break;
      const segment = buf.toString('utf8', pos, lf > pos && buf[lf - 1] === 0x0d ? lf - 1 : lf);
      pos = lf + 1;
      const literal = /\{(\d+)\}$/.exec(segment);
      if (literal) {
        this.literalLeft = Number(literal[1]);
        if (this.current?.keep || !this.current) this.line += segment;
        else if (!this.line) this.line = segment.slice(0, 2);
        continue;
      }
      const full = this.line + segment;
      this.line = '';
      this.onLine(full);
    }
    if (pos < buf.length) this.pending = buf.subarray(pos);
    buf = Buffer.alloc(0);
  }

  private onLine(line: string): void {
    const waiter = this.waiters.findIndex((w) => w.test(line));
    if (waiter >= 0) {
      this.waiters.splice(waiter, 1)[0].resolve(line);
      return;
    }
    const cur = this.current;
    if (!cur) return;
    if (line.startsWith('* ')) {
      cur.reply.untaggedCount++;
      if (cur.keep) cur.reply.untagged.push(line);
    } else if (line.startsWith(`${cur.tag} `)) {
      cur.reply.ms = performance.now() - cur.started;
      cur.reply.tagged = line;
      this.current = null;
      if (!/^\S+ OK/.test(line)) cur.reject(new Error(`command failed: ${line}`));
      else cur.resolve(cur.reply);
    }
  }
}

const quote = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;

// ------------------------------------------------------------------ measurements on one server

interface Figures {
  loginSelectColdMs: number;
  loginSelectWarmMs: number;
  fetchMetaMs: number;
  fetchMetaMsgsPerSec: number;
  fetchBodyMs: number;
  fetchBodyMsgsPerSec: number;
  fetchBodyMBPerSec: number;
  searchEnglishMs: number;
  searchEnglishHits: number;
  searchChineseMs: number;
  searchChineseHits: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function loginSelect(port: number): Promise<{ imap: RawImap; ms: number; exists: number }> {
  const { imap } = await RawImap.connect(port);
  const started = performance.now();
  await imap.command(`LOGIN ${quote(USER)} ${quote(PASSWORD)}`);
  const select = await imap.command('SELECT INBOX', true);
  const ms = performance.now() - started;
  const exists = Number(select.untagged.map((l) => /^\* (\d+) EXISTS/.exec(l)?.[1]).find(Boolean) ?? 0);
  return { imap, ms, exists };
}

async function search(imap: RawImap, word: string): Promise<{ ms: number; hits: number }> {
  const bytes = Buffer.from(word);
  // A non-synchronising literal carries the UTF-8 word on both servers (both announce LITERAL+).
  const reply = await imap.command(Buffer.concat([Buffer.from(`UID SEARCH CHARSET UTF-8 TEXT {${bytes.length}+}\r\n`), bytes]), true);
  const line = reply.untagged.find((l) => l.startsWith('* SEARCH')) ?? '* SEARCH';
  return { ms: reply.ms, hits: line.split(' ').length - 2 };
}

async function measure(name: string, port: number): Promise<Figures> {
  const cold = await loginSelect(port);
  if (cold.exists !== MESSAGES) throw new Error(`${name}: SELECT shows ${cold.exists} messages, expected ${MESSAGES}`);
  cold.imap.close();
  const warm: number[] = [];
  for (let r = 0; r < 5; r++) {
    const s = await loginSelect(port);
    warm.push(s.ms);
    s.imap.close();
  }
  const { imap } = await loginSelect(port);
  const meta: number[] = [];
  const body: Array<{ ms: number; bytes: number }> = [];
  for (let r = 0; r < RUNS; r++) {
    const m = await imap.command('FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)');
    if (m.untaggedCount < MESSAGES) throw new Error(`${name}: FETCH answered ${m.untaggedCount} of ${MESSAGES}`);
    meta.push(m.ms);
    const b = await imap.command('FETCH 1:* BODY.PEEK[]');
    if (b.untaggedCount < MESSAGES) throw new Error(`${name}: FETCH BODY answered ${b.untaggedCount} of ${MESSAGES}`);
    body.push({ ms: b.ms, bytes: b.literalBytes });
  }
  const en: Array<{ ms: number; hits: number }> = [];
  const zh: Array<{ ms: number; hits: number }> = [];
  for (let r = 0; r < RUNS; r++) {
    en.push(await search(imap, ENGLISH_WORD));
    zh.push(await search(imap, CHINESE_WORD));
  }
  await imap.command('LOGOUT').catch(() => undefined);
  imap.close();
  const metaMs = median(meta);
  const bodyMs = median(body.map((b) => b.ms));
  const bodyBytes = body[0].bytes;
  return {
    loginSelectColdMs: cold.ms,
    loginSelectWarmMs: median(warm),
    fetchMetaMs: metaMs,
    fetchMetaMsgsPerSec: MESSAGES / (metaMs / 1000),
    fetchBodyMs: bodyMs,
    fetchBodyMsgsPerSec: MESSAGES / (bodyMs / 1000),
    fetchBodyMBPerSec: bodyBytes / 1e6 / (bodyMs / 1000),
    searchEnglishMs: median(en.map((e) => e.ms)),
    searchEnglishHits: en[0].hits,
    searchChineseMs: median(zh.map((e) => e.ms)),
    searchChineseHits: zh[0].hits,
  };
}

// ------------------------------------------------------------------ idle sessions (a child process, so its sockets don't count)

interface IdleReady { type: 'ready'; sessions: number }
interface IdleSeen { type: 'seen'; first: number; median: number; last: number; count: number }

async function idleClients(port: number, count: number): Promise<void> {
  const sessions = await inParallel(count, 40, async () => {
    const { imap } = await RawImap.connect(port);
    await imap.command(`LOGIN ${quote(USER)} ${quote(PASSWORD)}`);
    await imap.command('SELECT INBOX');
    const idling = imap.waitFor((l) => l.startsWith('+'));
    imap.write('idle IDLE\r\n');
    await idling;
    return imap;
  });
  process.send!({ type: 'ready', sessions: sessions.length } satisfies IdleReady);
  const seen = await Promise.all(sessions.map((s) => s.waitFor((l) => /^\* \d+ EXISTS/.test(l)).then(now)));
  seen.sort((a, b) => a - b);
  process.send!({ type: 'seen', first: seen[0], median: median(seen), last: seen[seen.length - 1], count: seen.length } satisfies IdleSeen);
  for (const s of sessions) s.close();
}

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string }) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      resolve(m as T);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`idle client process exited (${code})`)));
  });
}

const rssMb = () => process.memoryUsage().rss / 1e6;

async function settle(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 500));
  }
  return rssMb();
}

// ------------------------------------------------------------------ bulk load helpers

type Parts = ReturnType<typeof storedParts>;

/** Parsing and word splitting are CPU-bound: one child per core, each regenerating its share of the messages. */
async function summariseInChildren(count: number): Promise<Parts[]> {
  const children = Math.max(1, Math.min(availableParallelism(), 8));
  const share = Math.ceil(count / children);
  const slices = await Promise.all(Array.from({ length: children }, (_, c) => {
    const child = fork(__filename, ['summarise', String(c * share), String(Math.min(count, (c + 1) * share))], {
      execArgv: process.execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return nextMessage<{ type: 'summaries'; parts: Parts[] }>(child, 'summaries').then((m) => m.parts);
  }));
  return slices.flat();
}

async function summariseSlice(from: number, to: number): Promise<void> {
  const parts: Parts[] = [];
  for (let i = from; i < to; i++) parts.push(storedParts(await summariseMessage(buildMessage(i))));
  await new Promise<void>((resolve, reject) => process.send!({ type: 'summaries', parts }, (err: Error | null) => (err ? reject(err) : resolve())));
}

// ------------------------------------------------------------------ Dovecot

async function startDovecot(root: string, messages: Buffer[], pems: { cert: string; private: string }, passwordHash: string): Promise<{ port: number; pop3Port: number | null; stop: () => Promise<void> } | null> {
  if (!existsSync(DOVECOT)) return null;
  const port = await freePort();
  const pop3Port = existsSync('/usr/lib/dovecot/pop3') ? await freePort() : null;
  const home = join(root, 'home');
  const cur = join(home, 'Maildir', 'cur');
  await mkdir(cur, { recursive: true });
  await mkdir(join(home, 'Maildir', 'new'));
  await mkdir(join(home, 'Maildir', 'tmp'));
  const base = Math.floor(Date.now() / 1000) - MESSAGES;
  await inParallel(messages.length, 32, (i) =>
    writeFile(join(cur, `${base + i}.M${i}P1.bench,S=${messages[i].length}:2,`), messages[i]));
  await writeFile(join(root, 'cert.pem'), pems.cert);
  await writeFile(join(root, 'key.pem'), pems.private);
  // The very hash Dizi stores ({ARGON2ID}, verified by Dovecot through libsodium), so LOGIN costs the same on both.
  await writeFile(join(root, 'passwd'), `${USER}:${passwordHash}::::${home}::\n`);
  const conf = join(root, 'dovecot.conf');
  await writeFile(conf, [
    `base_dir = ${join(root, 'run')}`,
    `state_dir = ${join(root, 'state')}`,
    `log_path = ${join(root, 'dovecot.log')}`,
    `protocols = imap${pop3Port ? ' pop3' : ''}`,
    // Dizi's UIDL form is <UIDVALIDITY>.<UID>; Dovecot's own default (its UIDL of maildir files) costs it the same.
    'pop3_uidl_format = %08Xu%08Xv',
    'listen = 127.0.0.1',
    'ssl = required',
    `ssl_cert = <${join(root, 'cert.pem')}`,
    `ssl_key = <${join(root, 'key.pem')}`,
    'auth_mechanisms = plain',
    'mail_uid = dovecot',
    'mail_gid = dovecot',
    'first_valid_uid = 1',
    'mail_location = maildir:~/Maildir',
    'mail_max_userip_connections = 100',
    'passdb {\n  driver = passwd-file\n  args = ' + join(root, 'passwd') + '\n}',
    'userdb {\n  driver = passwd-file\n  args = ' + join(root, 'passwd') + '\n}',
    'service imap-login {\n  inet_listener imap {\n    port = 0\n  }\n  inet_listener imaps {\n    port = ' + port + '\n    ssl = yes\n  }\n}',
    ...(pop3Port ? ['service pop3-login {\n  inet_listener pop3 {\n    port = 0\n  }\n  inet_listener pop3s {\n    port = ' + pop3Port + '\n    ssl = yes\n  }\n}'] : []),
    'service anvil {\n  chroot =\n}',
    '',
  ].join('\n'));
  await mkdir(join(root, 'run'));
  await mkdir(join(root, 'state'));
  const { stdout } = await promisify(execFile)('id', ['-u', 'dovecot']);
  const uid = Number(stdout.trim());
  const gid = Number((await promisify(execFile)('id', ['-g', 'dovecot'])).stdout.trim());
  await chmod(root, 0o755);
  await chownTree(home, uid, gid);
  const child = spawn(DOVECOT, ['-F', '-c', conf], { stdio: ['ignore', 'inherit', 'inherit'] });
  for (let i = 0; i < 100; i++) {
    if (await canConnect(port)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    pop3Port,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await promisify(execFile)('chown', ['-R', `${uid}:${gid}`, dir]);
  await chown(dir, uid, gid);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  if (process.argv[2] === 'summarise') {
    await summariseSlice(Number(process.argv[3]), Number(process.argv[4]));
    return;
  }
  if (process.argv[2] === 'idle-clients') {
    await idleClients(Number(process.argv[3]), Number(process.argv[4]));
    return;
  }
  const t0 = performance.now();
  const messages = Array.from({ length: MESSAGES }, (_, i) => buildMessage(i));
  const totalBytes = messages.reduce((n, m) => n + m.length, 0);
  console.log(`${MESSAGES} messages, ${(totalBytes / 1e6).toFixed(1)} MB (${Math.round(totalBytes / MESSAGES)} bytes each on average)`);

  const db = await createTestDatabase();
  const pool = new Pool({ connectionString: db.url, max: 20 });
  // Dropping the database ends connections still busy with idle sessions' syncs; that is teardown, not a failure.
  pool.on('error', () => undefined);
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: null });
  // tmpfs when there is one: both servers then read from memory, and the load does not wait on fsync per blob.
  const root = await mkdtemp(join(process.env.BENCH_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), 'dizi-bench-imap-'));
  // Dovecot's unprivileged processes need to reach their maildir below it.
  await chmod(root, 0o755);
  const blobDir = join(root, 'blobs');
  await mkdir(blobDir);
  const notifier = new RedisNotifier(redis, { prefix: `${prefix}mailbox:` });
  const store = new PostgresMessageStore({ pool, blobs: new FsBlobStore(blobDir), notifier });
  let stopDizi: (() => Promise<void>) | undefined;
  let stopDovecot: (() => Promise<void>) | undefined;
  try {
    const passwordHash = await hashPassword(PASSWORD);
    const { rows: [tenant] } = await pool.query(`INSERT INTO tenant (name) VALUES ('Bench') RETURNING id`);
    const { rows: [domain] } = await pool.query(
      `INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, 'bench.example', 'bench.example') RETURNING id`, [tenant.id]);
    const { rows: [mailbox] } = await pool.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes)
       VALUES ($1, $2, 'bench', $3, $4, 1e12) RETURNING id`, [tenant.id, domain.id, USER, passwordHash]);
    await store.createDefaultFolders(mailbox.id);
    const inbox = (await store.listFolders(mailbox.id)).find((f) => f.name === 'INBOX')!;

    // Bulk load: summaries and blobs in parallel, rows in batches of 500 (UIDs follow message order).
    const loadStarted = performance.now();
    const [summaries, blobs] = await Promise.all([
      summariseInChildren(MESSAGES),
      inParallel(MESSAGES, 16, (i) => store.putBlob(Readable.from([messages[i]]))),
    ]);
    const preparedSec = (performance.now() - loadStarted) / 1000;
    const parts = summaries.map((summary, i) => ({ blobHash: blobs[i].hash, ...summary, internalDate: new Date(Date.UTC(2025, 11, 1) + i * 60_000) }));
    for (let i = 0; i < MESSAGES; i += 500) {
      const batch: Delivery[] = parts.slice(i, i + 500).map((message) => ({ mailboxId: mailbox.id, folder: { id: inbox.id }, message, enforceQuota: false }));
      const outcomes = await store.appendMany(batch);
      const failed = outcomes.find((o) => !o.ok);
      if (failed && !failed.ok) throw failed.error;
    }
    // BENCH_MERGED=1: the search index's pending keys merged first, as the scheduler leaves it (every 2 s).
    if (process.env.BENCH_MERGED === '1') await store.mergeSearchIndex();
    const loadSec = (performance.now() - loadStarted) / 1000;
    console.log(`Dizi store loaded in ${loadSec.toFixed(1)} s (${Math.round(MESSAGES / loadSec)} msgs/s): summaries and blobs ${preparedSec.toFixed(1)} s, `
      + `rows (appendMany, 500 a batch) ${(loadSec - preparedSec).toFixed(1)} s`);

    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' });
    const config = { ...loadMtaConfig({ DATABASE_URL: db.url, AUTH_CACHE_TTL_SECONDS: process.env.AUTH_CACHE_TTL_SECONDS }), IMAP_PORT: 0, IMAPS_PORT: 0, MTA_BIND: '127.0.0.1' };
    const ctx: MtaContext = {
      config,
      logger: pino({ level: process.env.BENCH_LOG_LEVEL ?? 'silent' }),
      pool,
      redis,
      blobs: new FsBlobStore(blobDir),
      store,
      notifier,
      ...postgresDeliveryStores(pool, store, 'bench.test'),
      settings: new SettingsSource(pool),
      tls: { key: Buffer.from(pems.private), cert: Buffer.from(pems.cert) },
      deliveryHandoff: null,
      slots: null,
      close: async () => undefined,
    };
    // One client address opens every idle session: neither per-IP limit may cut the bench short.
    const role = await startImapRole(ctx, { maxConnectionsPerIp: IDLE_SESSIONS + 100, maxConnectionsPerIpPerMinute: IDLE_SESSIONS + 100 });
    const pop3 = COMMANDS ? await startPop3Role({ ...ctx, config: { ...config, POP3_PORT: 0, POP3S_PORT: 0 } }, { maxConnectionsPerIpPerMinute: 1000 }) : null;
    stopDizi = async () => {
      await pop3?.stop();
      await role.stop();
    };

    const dovecotRoot = join(root, 'dovecot');
    await mkdir(dovecotRoot);
    const dovecot = await startDovecot(dovecotRoot, messages, pems, passwordHash);
    stopDovecot = dovecot?.stop;

    // Both over implicit TLS (Dizi refuses LOGIN on cleartext), same client, same messages.
    const dizi = await measure('Dizi', role.ports.imaps);
    const dove = dovecot ? await measure('Dovecot', dovecot.port) : null;
    if (!dovecot) console.log(`Dovecot skipped: ${DOVECOT} not found (apt-get install -y dovecot-imapd)`);

    const fmt = (n: number | undefined, digits = 0) => (n === undefined ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
    const rows: Array<[string, (f: Figures) => string]> = [
      ['LOGIN+SELECT, first (ms)', (f) => fmt(f.loginSelectColdMs, 1)],
      ['LOGIN+SELECT, warm median (ms)', (f) => fmt(f.loginSelectWarmMs, 1)],
      ['FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE) (ms)', (f) => fmt(f.fetchMetaMs)],
      ['  msgs/s', (f) => fmt(f.fetchMetaMsgsPerSec)],
      ['FETCH 1:* BODY.PEEK[] (ms)', (f) => fmt(f.fetchBodyMs)],
      ['  msgs/s', (f) => fmt(f.fetchBodyMsgsPerSec)],
      ['  MB/s', (f) => fmt(f.fetchBodyMBPerSec, 1)],
      [`UID SEARCH TEXT "${ENGLISH_WORD}" (ms)`, (f) => fmt(f.searchEnglishMs, 1)],
      ['  hits', (f) => fmt(f.searchEnglishHits)],
      [`UID SEARCH TEXT "${CHINESE_WORD}" (ms)`, (f) => fmt(f.searchChineseMs, 1)],
      ['  hits', (f) => fmt(f.searchChineseHits)],
    ];
    const width = 52;
    console.log(`\n${`IMAP, ${MESSAGES} messages, one client over TLS`.padEnd(width)}${'Dizi'.padStart(12)}${'Dovecot'.padStart(12)}`);
    for (const [label, cell] of rows) console.log(`${label.padEnd(width)}${cell(dizi).padStart(12)}${(dove ? cell(dove) : 'skipped').padStart(12)}`);
    if (COMMANDS) {
      // The rest of the command set, the servers taking turns command by command on one connection each.
      const servers: BenchServer[] = [{ name: 'Dizi', imap: (await loginSelect(role.ports.imaps)).imap, pop3Port: pop3!.ports.pop3s }];
      if (dovecot) servers.push({ name: 'Dovecot', imap: (await loginSelect(dovecot.port)).imap, pop3Port: dovecot.pop3Port });
      const names = servers.map((s) => s.name);
      await createFolders(servers, FOLDERS);
      const started = performance.now();
      const imapRows = await runCommandSet(servers, MESSAGES, Math.max(RUNS, 5));
      printRows(`IMAP, ${MESSAGES} messages, ${FOLDERS} folders, TLS`, imapRows, names);
      for (const s of servers) s.imap.close();
      const pop3Rows = await runPop3(servers, USER, PASSWORD, MESSAGES, 1);
      printRows(`POP3, ${MESSAGES} messages, TLS`, pop3Rows, names);
      console.log(`(command set: ${((performance.now() - started) / 1000).toFixed(0)} s; p50/p95 over ${Math.max(RUNS, 5)} runs per command, POP3 RETR/TOP over every message once)`);
    }
    if (IDLE_SESSIONS <= 0) {
      console.log(`\nIdle sessions skipped (BENCH_IDLE_SESSIONS=0); total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      return;
    }
    // 1,000 idle sessions held by a child process; the server's RSS is this process's.
    const before = await settle();
    const child = fork(__filename, ['idle-clients', String(role.ports.imaps), String(IDLE_SESSIONS)], {
      execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const openStarted = performance.now();
    const ready = await nextMessage<IdleReady>(child, 'ready');
    const openSec = (performance.now() - openStarted) / 1000;
    const after = await settle();
    console.log(`\nDizi, ${ready.sessions} idle sessions (logged in, INBOX selected, IDLE), opened in ${openSec.toFixed(1)} s`);
    console.log(`  server RSS ${before.toFixed(0)} MB → ${after.toFixed(0)} MB: ${fmt(((after - before) * 1e6) / ready.sessions / 1024, 1)} KB per idle session`);
    const seenPromise = nextMessage<IdleSeen>(child, 'seen');
    const deliveredAt = now();
    const extra = Buffer.from(`From: late@remote.example\r\nTo: ${USER}\r\nSubject: wake up\r\n\r\nnew mail\r\n`);
    const blob = await store.putBlob(Readable.from([extra]));
    await store.append(mailbox.id, { id: inbox.id }, { blobHash: blob.hash, ...storedParts(await summariseMessage(extra)) }, { enforceQuota: false });
    const seen = await seenPromise;
    await new Promise((r) => child.once('exit', r));

    console.log(`  new message → EXISTS: first ${fmt(seen.first - deliveredAt, 1)} ms, median ${fmt(seen.median - deliveredAt, 1)} ms, all ${seen.count} ${fmt(seen.last - deliveredAt, 1)} ms`);
    console.log(`\nTotal ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    await stopDovecot?.().catch(() => undefined);
    await stopDizi?.().catch(() => undefined);
    await notifier.close();
    redis.disconnect();
    await pool.end();
    await db.drop();
    await rm(root, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
