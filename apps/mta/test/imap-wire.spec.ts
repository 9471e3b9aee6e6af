/**
 * Wire tests of the imap role (STARTTLS port and implicit-TLS port) with real clients — imapflow, Python imaplib
 * and a raw socket — over the PostgreSQL store, the filesystem blob store and Redis notifications.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import Redis from 'ioredis';
import { Pool } from 'pg';
import pino from 'pino';
import selfsigned from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '@dizi/auth/password-hash';
import { loadMtaConfig } from '@dizi/config/mta.config';
import { SettingsSource } from '@dizi/delivery/adapters/postgres/settings-source';
import { storedParts } from '@dizi/imap/commands/append.command';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { PostgresMessageStore } from '@dizi/mail-store/adapters/postgres-message-store';
import { RedisNotifier } from '@dizi/mail-store/adapters/redis-notifier';
import { summariseMessage } from '@dizi/mime/message-summary';
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from '@dizi/testing/test-database';
import { postgresDeliveryStores } from '@dizi/delivery/adapters/postgres/delivery-stores';
import type { MtaContext } from '../src/context';
import { startImapRole, type ImapRunningRole } from '../src/roles/imap.role';

const run = promisify(execFile);
const PASSWORD = 'Corr3ct-Horse-Battery';

let db: TestDatabase;
let pool: Pool;
let redis: Redis;
let blobDir: string;
let store: PostgresMessageStore;
let notifier: RedisNotifier;
let ctx: MtaContext;
let role: ImapRunningRole;
const mailboxes: Record<'alice' | 'sam' | 'carol', string> = { alice: '', sam: '', carol: '' };

const sql = async (text: string, params?: unknown[]) => (await pool.query(text, params)).rows;

async function addMailbox(domainId: string, localPart: string, status = 'active'): Promise<string> {
  const [row] = await sql(
    `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, status, quota_bytes)
     SELECT d.tenant_id, d.id, $2::text, $2::text || '@' || d.name, $3, $4, 104857600 FROM domain d WHERE d.id = $1 RETURNING id`,
    [domainId, localPart, await hashPassword(PASSWORD), status],
  );
  await store.createDefaultFolders(row.id);
  return row.id;
}

function client(user: string, port = role.ports.imap): ImapFlow {
  return new ImapFlow({ host: '127.0.0.1', port, secure: port === role.ports.imaps, auth: { user, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false }, verifyOnly: false });
}

/** Runs a Python imaplib script; it prints one JSON line. */
async function python(script: string, env: Record<string, string>): Promise<Record<string, unknown>> {
  const { stdout } = await run('/usr/bin/python3', ['-c', script], { env: { ...process.env, ...env }, timeout: 20_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

/** Stores a message the way delivery does: blob, summary, sort fields, search words; publishes to Redis. */
async function deliver(mailboxId: string, raw: string): Promise<number> {
  const data = Buffer.from(raw);
  const parts = storedParts(await summariseMessage(data));
  const blob = await store.putBlob(Readable.from([data]));
  const inbox = (await store.listFolders(mailboxId)).find((f) => f.name === 'INBOX')!;
  const result = await store.append(mailboxId, { id: inbox.id }, { blobHash: blob.hash, ...parts }, { enforceQuota: true });
  return result.uid;
}

function rawMessage(subject: string, body: string): string {
  return `From: Bob <bob@remote.test>\r\nTo: alice@acme.test\r\nSubject: ${subject}\r\nDate: Mon, 1 Dec 2025 10:00:00 +0800\r\n`
    + `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${body}\r\n`;
}

/** Reads until a line matching `until` arrives (or the socket closes). */
function readUntil(socket: net.Socket, until: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const done = () => {
      socket.off('data', onData);
      resolve(text);
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (until.test(text)) done();
    };
    socket.on('data', onData);
    socket.once('close', done);
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new Pool({ connectionString: db.url, max: 10 });
  pool.on('error', () => undefined); // idle clients see the teardown's DROP DATABASE
  const prefix = `test:${randomBytes(4).toString('hex')}:`;
  redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: null });
  blobDir = await mkdtemp(join(tmpdir(), 'dizi-imap-wire-'));
  notifier = new RedisNotifier(redis, { prefix: `${prefix}mailbox:` });
  store = new PostgresMessageStore({ pool, blobs: new FsBlobStore(blobDir), notifier });

  const [tenant] = await sql(`INSERT INTO tenant (name) VALUES ('Acme') RETURNING id`);
  const [acme] = await sql(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, 'acme.test', 'acme.test') RETURNING id`, [tenant.id]);
  const [closed] = await sql(`INSERT INTO domain (tenant_id, name, unicode_name, imap_enabled) VALUES ($1, 'noimap.test', 'noimap.test', false) RETURNING id`, [tenant.id]);
  mailboxes.alice = await addMailbox(acme.id, 'alice');
  mailboxes.sam = await addMailbox(acme.id, 'sam', 'suspended');
  mailboxes.carol = await addMailbox(closed.id, 'carol');

  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' });
  const config = { ...loadMtaConfig({ DATABASE_URL: db.url }), IMAP_PORT: 0, IMAPS_PORT: 0, MTA_BIND: '127.0.0.1' };
  ctx = {
    config,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    pool,
    redis,
    blobs: new FsBlobStore(blobDir),
    store,
    notifier,
    ...postgresDeliveryStores(pool, store, 'imap.test'),
    settings: new SettingsSource(pool),
    tls: { key: Buffer.from(pems.private), cert: Buffer.from(pems.cert) },
    deliveryHandoff: null,
    slots: null,
    close: async () => undefined,
  };
  role = await startImapRole(ctx);
}, 60_000);

afterAll(async () => {
  await role?.stop();
  await notifier?.close();
  redis?.disconnect();
  await pool?.end();
  await db?.drop();
  if (blobDir) await rm(blobDir, { recursive: true, force: true });
});

describe('imap role on the wire', () => {
  it('announces LOGINDISABLED and STARTTLS before TLS and refuses LOGIN there', async () => {
    const socket = net.connect(role.ports.imap, '127.0.0.1');
    const greeting = await readUntil(socket, /\r\n/);
    expect(greeting).toMatch(/^\* OK \[CAPABILITY [^\]]*\bSTARTTLS\b/);
    expect(greeting).toMatch(/\bLOGINDISABLED\b/);
    expect(greeting).not.toMatch(/AUTH=PLAIN/);
    socket.write(`a1 LOGIN alice@acme.test ${PASSWORD}\r\n`);
    const reply = await readUntil(socket, /^a1 /m);
    expect(reply).toMatch(/^a1 (NO|BAD) /m);
    socket.destroy();
  });

  it('logs in over STARTTLS with imapflow, appends, selects, fetches BODYSTRUCTURE and BODY[], finds 海淀', async () => {
    const imap = client('alice@acme.test');
    await imap.connect();
    // imapflow upgrades with STARTTLS when offered; LOGIN would have been refused otherwise.
    expect(imap.secureConnection).toBe(true);
    const raw = rawMessage('会议通知', '地址：北京市海淀区中关村大街1号。\r\nSee you there.');
    const appended = await imap.append('INBOX', raw, ['\\Seen']);
    expect(appended).toMatchObject({ destination: 'INBOX' });
    const uid = (appended as { uid: number }).uid;
    expect(uid).toBeGreaterThan(0);
    const box = await imap.mailboxOpen('INBOX');
    expect(box.exists).toBe(1);

    const msg = await imap.fetchOne(String(uid), { bodyStructure: true, source: true, envelope: true, flags: true }, { uid: true });
    expect(msg).toBeTruthy();
    if (!msg) throw new Error('no message');
    expect(msg.source!.toString()).toBe(raw);
    expect(msg.bodyStructure).toMatchObject({ type: 'text/plain', parameters: { charset: 'utf-8' }, encoding: '8bit' });
    expect(msg.envelope!.subject).toBe('会议通知');
    expect([...msg.flags!]).toContain('\\Seen');

    expect(await imap.search({ body: '海淀' }, { uid: true })).toEqual([uid]);
    expect(await imap.search({ text: '海淀' }, { uid: true })).toEqual([uid]);
    expect(await imap.search({ text: '上海' }, { uid: true })).toEqual([]);
    await imap.logout();

    // What the client saw is what the database holds.
    const rows = await sql(
      `SELECT m.uid, m.size FROM message m JOIN folder f ON f.id = m.folder_id WHERE f.mailbox_id = $1 AND f.name = 'INBOX'`,
      [mailboxes.alice],
    );
    expect(rows).toEqual([{ uid, size: Buffer.byteLength(raw) }]);
  });

  it('refuses a suspended mailbox and a domain with IMAP switched off, with the same answer as a wrong password', async () => {
    for (const user of ['sam@acme.test', 'carol@noimap.test']) {
      const imap = client(user);
      const err = await imap.connect().then(() => null, (e: unknown) => e as { authenticationFailed?: boolean; serverResponseCode?: string });
      expect(err, user).not.toBeNull();
      expect(err!.authenticationFailed, user).toBe(true);
      expect(err!.serverResponseCode, user).toBe('AUTHENTICATIONFAILED');
      imap.close();
    }
  });

  it('tells an IDLE client about a message stored from outside within 1 s', async () => {
    const imap = client('alice@acme.test');
    await imap.connect();
    const box = await imap.mailboxOpen('INBOX');
    const before = box.exists;
    const seen = new Promise<{ count: number; at: number }>((resolve) => imap.on('exists', (e: { count: number }) => resolve({ count: e.count, at: Date.now() })));
    const idling = imap.idle();
    await new Promise((r) => setTimeout(r, 300));
    const start = Date.now();
    await deliver(mailboxes.alice, rawMessage('From outside', 'Delivered while you were idle.'));
    const news = await Promise.race([seen, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
    expect(news).not.toBeNull();
    expect(news!.count).toBe(before + 1);
    expect(news!.at - start).toBeLessThan(1000);
    await imap.logout();
    await idling.catch(() => undefined);
  });

  it('pushes flag changes, expunges and new mail made on another node to 20 IDLE clients within 1 s', async () => {
    const [acme] = await sql(`SELECT id FROM domain WHERE name = 'acme.test'`);
    const dora = await addMailbox(acme.id, 'dora');
    for (const s of ['one', 'two', 'three']) await deliver(dora, rawMessage(s, s));
    // Another node: its own store, pool and Redis connections, the same database and channels.
    const otherPool = new Pool({ connectionString: db.url, max: 2 });
    const otherRedis = redis.duplicate();
    const otherNotifier = new RedisNotifier(otherRedis, { prefix: `${redis.options.keyPrefix}mailbox:` });
    const other = new PostgresMessageStore({ pool: otherPool, blobs: new FsBlobStore(blobDir), notifier: otherNotifier });
    const inbox = await other.getFolder(dora, { name: 'INBOX' });
    const sessions = await Promise.all(Array.from({ length: 20 }, async () => {
      const socket = tls.connect({ host: '127.0.0.1', port: role.ports.imaps, rejectUnauthorized: false });
      await readUntil(socket, /\* OK .*\r\n/);
      socket.write(`a LOGIN dora@acme.test ${PASSWORD}\r\nb SELECT INBOX\r\n`);
      expect(await readUntil(socket, /b OK [^\r]*\r\n/)).toMatch(/\* 3 EXISTS\r\n/);
      socket.write('c IDLE\r\n');
      await readUntil(socket, /\+ [^\r]*\r\n/);
      return socket;
    }));
    try {
      const allSee = async (change: () => Promise<unknown>, line: RegExp) => {
        const seen = sessions.map((s) => readUntil(s, line).then((text) => ({ text, at: performance.now() })));
        const start = performance.now();
        await change();
        const got = await Promise.all(seen);
        for (const g of got) expect(g.text).toMatch(line);
        return Math.max(...got.map((g) => g.at - start));
      };
      // \Recent went to whichever session selected first.
      const flagged = /\* 1 FETCH \(FLAGS \(\\Flagged( \\Recent)?\)\)\r\n/;
      expect(await allSee(() => other.setFlags(inbox.id, [{ from: 1, to: 1 }], 'add', ['\\Flagged']), flagged)).toBeLessThan(1000);
      expect(await allSee(async () => {
        await other.setFlags(inbox.id, [{ from: 2, to: 2 }], 'add', ['\\Deleted']);
        await other.expunge(inbox.id);
      }, /\* 2 EXPUNGE\r\n/)).toBeLessThan(1000);
      const data = Buffer.from(rawMessage('four', 'four'));
      const blob = await other.putBlob(Readable.from([data]));
      const parts = storedParts(await summariseMessage(data));
      expect(await allSee(() => other.append(dora, { id: inbox.id }, { blobHash: blob.hash, ...parts }, { enforceQuota: true }), /\* 3 EXISTS\r\n/))
        .toBeLessThan(1000);
      for (const s of sessions) {
        s.write('DONE\r\nd FETCH 1:* (UID FLAGS)\r\n');
        expect(await readUntil(s, /d OK [^\r]*\r\n/))
          .toMatch(/\* 1 FETCH \(UID 1 FLAGS \(\\Flagged( \\Recent)?\)\)\r\n\* 2 FETCH \(UID 3 FLAGS \((\\Recent)?\)\)\r\n\* 3 FETCH \(UID 4 FLAGS \((\\Recent)?\)\)\r\nd OK/);
      }
    } finally {
      for (const s of sessions) s.destroy();
      await otherNotifier.close();
      otherRedis.disconnect();
      await otherPool.end();
    }
  });

  it('Python imaplib over implicit TLS: STATUS agrees with SELECT, BODY[] and a CHARSET UTF-8 search', async () => {
    const out = await python(
      `
import imaplib, json, os, re, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
M = imaplib.IMAP4_SSL('127.0.0.1', int(os.environ['PORT']), ssl_context=ctx)
M.login('alice@acme.test', os.environ['PW'])
typ, data = M.status('INBOX', '(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)')
status = data[0].decode()
typ, data = M.select('INBOX')
exists = int(data[0])
uidnext = M.response('UIDNEXT')[1][0].decode()
uidvalidity = M.response('UIDVALIDITY')[1][0].decode()
typ, data = M.uid('FETCH', '1:*', '(UID BODY.PEEK[])')
bodies = [d[1].decode('utf-8') for d in data if isinstance(d, tuple)]
M.literal = '海淀'.encode('utf-8')
typ, found = M.uid('SEARCH', 'CHARSET', 'UTF-8', 'TEXT')
M.logout()
print(json.dumps({'status': status, 'exists': exists, 'uidnext': uidnext, 'uidvalidity': uidvalidity, 'bodies': bodies, 'found': found[0].decode()}))
`,
      { PORT: String(role.ports.imaps), PW: PASSWORD },
    );
    const status = String(out.status);
    const field = (name: string) => Number(new RegExp(`${name} (\\d+)`).exec(status)?.[1]);
    const [folder] = await sql(`SELECT uid_validity, uid_next FROM folder WHERE mailbox_id = $1 AND name = 'INBOX'`, [mailboxes.alice]);
    const [{ n }] = await sql(`SELECT count(*)::int AS n FROM message m JOIN folder f ON f.id = m.folder_id WHERE f.mailbox_id = $1 AND f.name = 'INBOX'`, [mailboxes.alice]);
    expect(n).toBe(2);
    expect(field('MESSAGES')).toBe(out.exists);
    expect(out.exists).toBe(n);
    expect(field('UIDNEXT')).toBe(Number(out.uidnext));
    expect(field('UIDVALIDITY')).toBe(Number(out.uidvalidity));
    expect(Number(out.uidvalidity)).toBe(Number(folder.uid_validity));
    expect(Number(out.uidnext)).toBe(Number(folder.uid_next));
    // The IMAP-appended message is \Seen, the delivered one is not.
    expect(field('UNSEEN')).toBe(1);
    expect(out.bodies).toHaveLength(2);
    expect((out.bodies as string[])[0]).toContain('北京市海淀区');
    expect(String(out.found).trim().split(/\s+/)).toHaveLength(1);
  });

  it('closes connections past the per-IP limit with BYE', async () => {
    // Its own Redis prefix: the counters start at zero whatever the other tests left open.
    const counters = new Redis(TEST_REDIS_URL, { keyPrefix: `test:${randomBytes(4).toString('hex')}:` });
    const limited = await startImapRole({ ...ctx, redis: counters }, { maxConnectionsPerIp: 2 });
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const s = net.connect(limited.ports.imap, '127.0.0.1');
        sockets.push(s);
        expect(await readUntil(s, /\r\n/)).toMatch(/^\* OK /);
      }
      const third = net.connect(limited.ports.imap, '127.0.0.1');
      sockets.push(third);
      expect(await readUntil(third, /\r\n/)).toMatch(/^\* BYE /);
      // A slot frees when a connection ends.
      sockets[0].destroy();
      await new Promise((r) => setTimeout(r, 200));
      const again = net.connect(limited.ports.imap, '127.0.0.1');
      sockets.push(again);
      expect(await readUntil(again, /\r\n/)).toMatch(/^\* OK /);
    } finally {
      sockets.forEach((s) => s.destroy());
      await limited.stop();
      counters.disconnect();
    }
  });

  it('closes connections past the per-IP rate per minute with BYE', async () => {
    const counters = new Redis(TEST_REDIS_URL, { keyPrefix: `test:${randomBytes(4).toString('hex')}:` });
    const limited = await startImapRole({ ...ctx, redis: counters }, { maxConnectionsPerIp: 50, maxConnectionsPerIpPerMinute: 3 });
    try {
      for (let i = 0; i < 3; i++) {
        const s = net.connect(limited.ports.imap, '127.0.0.1');
        expect(await readUntil(s, /\r\n/)).toMatch(/^\* OK /);
        s.destroy();
      }
      // Closed connections free their slots, but the minute's budget is spent, also on the TLS port.
      const fourth = net.connect(limited.ports.imap, '127.0.0.1');
      expect(await readUntil(fourth, /\r\n/)).toMatch(/^\* BYE /);
      fourth.destroy();
      const tlsFifth = tls.connect({ port: limited.ports.imaps, host: '127.0.0.1', rejectUnauthorized: false });
      expect(await readUntil(tlsFifth, /\r\n/)).toMatch(/^\* BYE /);
      tlsFifth.destroy();
    } finally {
      await limited.stop();
      counters.disconnect();
    }
  });
});
