/**
 * The pop3 role on real PostgreSQL, Redis and a blob directory, driven by real clients: Python poplib (STLS and
 * implicit TLS) and curl pop3:// / pop3s://.
 */
import { execFile } from 'node:child_process';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { Pool } from 'pg';
import pino from 'pino';
import selfsigned from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '@dizi/auth/password-hash';
import { loadMtaConfig } from '@dizi/config/mta.config';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { PostgresMessageStore } from '@dizi/mail-store/adapters/postgres-message-store';
import { RedisNotifier } from '@dizi/mail-store/adapters/redis-notifier';
import { INBOX } from '@dizi/mail-store/ports/message-store';
import { summariseMessage } from '@dizi/mime/message-summary';
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from '@dizi/testing/test-database';
import { until } from '@dizi/testing/until';
import { postgresDeliveryStores } from '@dizi/delivery/adapters/postgres/delivery-stores';
import { SettingsSource } from '@dizi/delivery/adapters/postgres/settings-source';
import { RedisMailboxLock } from '../src/adapters/pop3-redis-lock';
import type { MtaContext } from '../src/context';
import { startPop3Role, type Pop3RunningRole } from '../src/roles/pop3.role';

/** Polling as these tests always did: every 20 ms, for up to 5 s. */
const POLL = { timeoutMs: 5000, intervalMs: 20 };

const run = promisify(execFile);
const PASSWORD = 'Pop3-password-1';
const PREFIX_LINE = (address: string) => `Delivered-To: ${address}\r\n`;

const MESSAGES = [
  'From: Ann <ann@example.net>\r\nTo: reader@pop.example\r\nSubject: first\r\nMessage-ID: <1@example.net>\r\n\r\nHello reader.\r\n.this line starts with a dot\r\n..and this with two\r\n.\r\nBye.\r\n',
  'From: Bob <bob@example.net>\r\nTo: reader@pop.example\r\nSubject: second\r\nMessage-ID: <2@example.net>\r\n\r\nline 1\r\nline 2\r\nline 3\r\n',
  `From: Cy <cy@example.net>\r\nTo: reader@pop.example\r\nSubject: third\r\nMessage-ID: <3@example.net>\r\n\r\n${'A fairly long body line to make the message bigger than one TCP segment.\r\n'.repeat(2000)}`,
];

// Python poplib: every command of RFC 1939 the library has, over STLS on the plain port and over implicit TLS.
const POPLIB = String.raw`
import json, poplib, ssl, sys, base64
args = json.loads(sys.argv[1])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
def connect(mode):
    if mode == 'stls':
        p = poplib.POP3('127.0.0.1', args['port'], timeout=20)
        caps = p.capa()
        p.stls(context=ctx)
        return p, caps
    return poplib.POP3_SSL('127.0.0.1', args['tlsPort'], context=ctx, timeout=20), None
def err(e): return e.args[0].decode() if isinstance(e.args[0], bytes) else str(e)
out = {}
action = args['action']
if action == 'read':
    p, caps = connect('stls')
    out['capsBefore'] = sorted(caps.keys())
    out['capsAfter'] = sorted(p.capa().keys())
    p.user(args['user']); out['pass'] = p.pass_(args['password']).decode()
    out['stat'] = list(p.stat())
    out['list'] = [l.decode() for l in p.list()[1]]
    out['uidl'] = [l.decode() for l in p.uidl()[1]]
    r = p.retr(1); out['retr1'] = base64.b64encode(b'\r\n'.join(r[1]) + b'\r\n').decode(); out['retr1Status'] = r[0].decode()
    t = p.top(2, 1); out['top'] = [l.decode() for l in t[1]]
    out['noop'] = p.noop().decode()
    out['quit'] = p.quit().decode()
elif action == 'dele':
    p, _ = connect('tls')
    p.user(args['user']); p.pass_(args['password'])
    out['dele'] = p.dele(args['msg']).decode()
    out['statAfterDele'] = list(p.stat())
    if args.get('drop'):
        p.sock.close()
    else:
        out['quit'] = p.quit().decode()
elif action == 'in-use':
    a, _ = connect('tls'); a.user(args['user']); a.pass_(args['password'])
    b, _ = connect('stls'); b.user(args['user'])
    try: b.pass_(args['password']); out['second'] = 'logged in'
    except poplib.error_proto as e: out['second'] = err(e)
    a.quit()
    b2, _ = connect('tls'); b2.user(args['user']); out['afterQuit'] = b2.pass_(args['password']).decode(); b2.quit()
elif action == 'login':
    p, _ = connect(args.get('mode', 'tls'))
    try:
        p.user(args['user']); out['reply'] = p.pass_(args['password']).decode(); p.quit()
    except poplib.error_proto as e: out['reply'] = err(e)
elif action == 'plain-user':
    p = poplib.POP3('127.0.0.1', args['port'], timeout=20)
    out['capa'] = sorted(p.capa().keys())
    try: p.user(args['user']); out['reply'] = 'accepted'
    except poplib.error_proto as e: out['reply'] = err(e)
print(json.dumps(out))
`;

async function poplib(args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { stdout } = await run('/usr/bin/python3', ['-c', POPLIB, JSON.stringify(args)], { timeout: 30_000 });
  return JSON.parse(stdout);
}

async function curl(url: string, user: string, extra: string[] = []): Promise<Buffer> {
  const { stdout } = await run('curl', ['-sS', '-k', '--max-time', '20', '-u', `${user}:${PASSWORD}`, ...extra, url], { encoding: 'buffer', timeout: 30_000 });
  return stdout;
}

describe('pop3 role over the wire', () => {
  let db: TestDatabase;
  let pool: Pool;
  let redis: Redis;
  let notifier: RedisNotifier;
  let store: PostgresMessageStore;
  let blobDir: string;
  let role: Pop3RunningRole;
  let prefix: string;
  let base: { port: number; tlsPort: number };
  let tenantId: string;
  let ctx: MtaContext;
  let n = 0;

  const sql = async (text: string, params: unknown[] = []) => (await pool.query(text, params)).rows;

  async function mailbox(domain: string, localPart: string, status = 'active'): Promise<{ id: string; address: string }> {
    const address = `${localPart}@${domain}`;
    const [d] = await sql(`SELECT id, tenant_id FROM domain WHERE name = $1`, [domain]);
    const [row] = await sql(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, status, quota_bytes) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [d.tenant_id, d.id, localPart, address, await hashPassword(PASSWORD), status, 1024 ** 3],
    );
    await store.createDefaultFolders(row.id);
    return { id: row.id, address };
  }

  async function deliver(mailboxId: string, address: string, raw: string): Promise<string> {
    const source = Buffer.from(raw);
    const blob = await store.putBlob(Readable.from([source]));
    const summary = await summariseMessage(source);
    await store.append(mailboxId, { name: INBOX }, { blobHash: blob.hash, headerPrefix: PREFIX_LINE(address), summary }, { enforceQuota: true });
    return PREFIX_LINE(address) + raw;
  }

  /** A mailbox with the three messages; returns what each message is as stored (prefix + blob). */
  async function filledMailbox(): Promise<{ id: string; address: string; stored: string[] }> {
    const mb = await mailbox('pop.example', `reader${++n}`);
    const stored: string[] = [];
    for (const m of MESSAGES) stored.push(await deliver(mb.id, mb.address, m));
    return { ...mb, stored };
  }

  async function inbox(mailboxId: string) {
    const folder = await store.getFolder(mailboxId, { name: INBOX });
    return { folder, messages: await store.listMessages(folder.id, { withSummary: false }) };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 10 });
    pool.on('error', () => undefined); // idle clients see the teardown's DROP DATABASE
    prefix = `dizi-test-${randomBytes(4).toString('hex')}:`;
    redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: null });
    notifier = new RedisNotifier(redis, { prefix: `${prefix}mailbox:` });
    blobDir = await mkdtemp(join(tmpdir(), 'dizi-pop3-'));
    store = new PostgresMessageStore({ pool, blobs: new FsBlobStore(join(blobDir, 'blobs')), notifier });
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' });
    const config = loadMtaConfig({
      DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, MTA_BIND: '127.0.0.1',
      POP3_PORT: '0', POP3S_PORT: '0', LOG_LEVEL: 'silent', DIZI_DATA_DIR: blobDir,
    });
    ctx = {
      config, pool, redis, store, notifier,
      ...postgresDeliveryStores(pool, store, 'pop3.test'),
      logger: pino({ level: 'silent' }),
      blobs: new FsBlobStore(join(blobDir, 'blobs')),
      // Not started: the product's defaults (the pop3 role reads only the sign-in throttle limits).
      settings: new SettingsSource(pool),
      tls: { key: Buffer.from(pems.private), cert: Buffer.from(pems.cert) },
      deliveryHandoff: null,
      slots: null,
      close: async () => undefined,
    };
    role = await startPop3Role(ctx);
    base = { port: role.ports.pop3, tlsPort: role.ports.pop3s };

    [{ id: tenantId }] = await sql(`INSERT INTO tenant (name) VALUES ('POP Tenant') RETURNING id`);
    await sql(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, 'pop.example', 'pop.example')`, [tenantId]);
    await sql(`INSERT INTO domain (tenant_id, name, unicode_name, pop3_enabled) VALUES ($1, 'nopop.example', 'nopop.example', false)`, [tenantId]);
  });

  afterAll(async () => {
    await role?.stop();
    if (redis) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys.map((k) => k.slice(prefix.length)));
      await notifier.close();
      redis.disconnect();
    }
    await pool?.end();
    await db?.drop();
    if (blobDir) await rm(blobDir, { recursive: true, force: true });
  });

  it('poplib over STLS: CAPA gate, STAT, LIST, UIDL, RETR as stored, TOP, and \\Seen after QUIT', async () => {
    const mb = await filledMailbox();
    const { folder, messages } = await inbox(mb.id);
    const out = await poplib({ action: 'read', ...base, user: mb.address, password: PASSWORD });
    expect(out.capsBefore).toContain('STLS');
    expect(out.capsBefore).not.toContain('USER');
    expect(out.capsBefore).not.toContain('SASL');
    expect(out.capsAfter).toEqual(expect.arrayContaining(['USER', 'SASL', 'TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE']));
    const sizes = mb.stored.map((s) => Buffer.byteLength(s));
    expect(sizes).toEqual(messages.map((m) => m.size));
    expect(out.stat).toEqual([3, sizes[0] + sizes[1] + sizes[2]]);
    expect(out.list).toEqual(sizes.map((s, i) => `${i + 1} ${s}`));
    expect(out.uidl).toEqual(messages.map((m, i) => `${i + 1} ${folder.uidValidity}.${m.uid}`));
    expect(out.retr1Status).toBe(`+OK ${sizes[0]} octets`);
    expect(Buffer.from(out.retr1 as string, 'base64').toString()).toBe(mb.stored[0]);
    expect(out.top).toEqual([`Delivered-To: ${mb.address}`, 'From: Bob <bob@example.net>', `To: reader@pop.example`, 'Subject: second', 'Message-ID: <2@example.net>', '', 'line 1']);
    expect(out.quit).toMatch(/^\+OK .*3 messages left/);
    const after = await inbox(mb.id);
    expect(after.messages.map((m) => m.flags.includes('\\Seen'))).toEqual([true, false, false]);
  });

  it('curl pop3:// with STLS and pop3s://: LIST, UIDL, RETR byte-for-byte, TOP', async () => {
    const mb = await filledMailbox();
    const { folder, messages } = await inbox(mb.id);
    const list = (await curl(`pop3://127.0.0.1:${base.port}/`, mb.address, ['--ssl-reqd'])).toString();
    expect(list).toBe(mb.stored.map((s, i) => `${i + 1} ${Buffer.byteLength(s)}\r\n`).join(''));
    const uidl = (await curl(`pop3s://127.0.0.1:${base.tlsPort}/`, mb.address, ['-X', 'UIDL'])).toString();
    expect(uidl).toBe(messages.map((m, i) => `${i + 1} ${folder.uidValidity}.${m.uid}\r\n`).join(''));
    for (const i of [0, 2]) {
      const viaStls = await curl(`pop3://127.0.0.1:${base.port}/${i + 1}`, mb.address, ['--ssl-reqd']);
      const viaTls = await curl(`pop3s://127.0.0.1:${base.tlsPort}/${i + 1}`, mb.address);
      expect(viaStls.equals(Buffer.from(mb.stored[i]))).toBe(true);
      expect(viaTls.equals(Buffer.from(mb.stored[i]))).toBe(true);
    }
    const top = (await curl(`pop3s://127.0.0.1:${base.tlsPort}/`, mb.address, ['-X', 'TOP 1 2'])).toString();
    expect(top).toBe(`Delivered-To: ${mb.address}\r\nFrom: Ann <ann@example.net>\r\nTo: reader@pop.example\r\nSubject: first\r\nMessage-ID: <1@example.net>\r\n\r\nHello reader.\r\n.this line starts with a dot\r\n`);
    // Without TLS curl finds no way to log in: the plain port offers neither USER nor SASL.
    await expect(curl(`pop3://127.0.0.1:${base.port}/`, mb.address)).rejects.toThrow();
  });

  it('DELE + QUIT removes the message from the store; DELE and a dropped connection removes nothing', async () => {
    const mb = await filledMailbox();
    const before = await inbox(mb.id);
    const dropped = await poplib({ action: 'dele', ...base, user: mb.address, password: PASSWORD, msg: 1, drop: true });
    expect(dropped.dele).toMatch(/^\+OK/);
    expect(dropped.statAfterDele).toEqual([2, before.messages[1].size + before.messages[2].size]);
    // The lock comes free once the server noticed the drop; nothing was deleted meanwhile.
    await until('the mailbox lock released', async () => (await redis.exists(RedisMailboxLock.key(mb.id))) === 0, POLL);
    const afterDrop = await inbox(mb.id);
    expect(afterDrop.messages.map((m) => m.uid)).toEqual(before.messages.map((m) => m.uid));
    expect(afterDrop.messages.every((m) => !m.flags.includes('\\Deleted'))).toBe(true);

    const quit = await poplib({ action: 'dele', ...base, user: mb.address, password: PASSWORD, msg: 2 });
    expect(quit.quit).toMatch(/^\+OK .*2 messages left/);
    const afterQuit = await inbox(mb.id);
    expect(afterQuit.messages.map((m) => m.uid)).toEqual([before.messages[0].uid, before.messages[2].uid]);
    const [row] = await sql(`SELECT count(*)::int AS n FROM message m JOIN folder f ON f.id = m.folder_id WHERE f.mailbox_id = $1`, [mb.id]);
    expect(row.n).toBe(2);
    expect(afterQuit.folder.uidValidity).toBe(before.folder.uidValidity);
  });

  it('a second concurrent login gets -ERR [IN-USE]; after QUIT the mailbox is free again', async () => {
    const mb = await filledMailbox();
    const out = await poplib({ action: 'in-use', ...base, user: mb.address, password: PASSWORD });
    expect(out.second).toBe('-ERR [IN-USE] Mailbox is in use by another POP3 session');
    expect(out.afterQuit).toMatch(/^\+OK Logged in, 3 messages/);
    await until('the mailbox lock released', async () => (await redis.exists(RedisMailboxLock.key(mb.id))) === 0, POLL);
  });

  it('refuses a suspended mailbox, a domain with POP3 disabled, a wrong password and USER before STLS', async () => {
    const suspended = await mailbox('pop.example', 'sleeper', 'suspended');
    const noPop = await mailbox('nopop.example', 'reader');
    const good = await filledMailbox();
    const start = Date.now();
    expect((await poplib({ action: 'login', ...base, user: suspended.address, password: PASSWORD })).reply).toBe('-ERR [AUTH] Authentication failed');
    expect((await poplib({ action: 'login', ...base, user: noPop.address, password: PASSWORD, mode: 'stls' })).reply).toBe('-ERR [AUTH] Authentication failed');
    expect((await poplib({ action: 'login', ...base, user: good.address, password: 'wrong' })).reply).toBe('-ERR [AUTH] Authentication failed');
    // MailboxLogin's failure delay (1 s) applies to each refusal.
    expect(Date.now() - start).toBeGreaterThanOrEqual(3000);
    const plain = await poplib({ action: 'plain-user', ...base, user: good.address });
    expect(plain.capa).toContain('STLS');
    expect(plain.capa).not.toContain('USER');
    expect(plain.reply).toBe('-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.');
    // The same mailbox works once the domain is switched back on.
    await sql(`UPDATE domain SET pop3_enabled = true WHERE name = 'nopop.example'`);
    expect((await poplib({ action: 'login', ...base, user: noPop.address, password: PASSWORD })).reply).toMatch(/^\+OK Logged in, 0 messages/);
  });

  it('refuses connections past the per-IP limits (at once and per minute) with -ERR [SYS/TEMP] instead of the greeting', async () => {
    // Its own Redis prefix: the counters start at zero whatever the other tests did.
    const counters = new Redis(TEST_REDIS_URL, { keyPrefix: `dizi-test-${randomBytes(4).toString('hex')}:`, maxRetriesPerRequest: null });
    const limited = await startPop3Role({ ...ctx, redis: counters }, { maxConnectionsPerIp: 2, maxConnectionsPerIpPerMinute: 5 });
    const sockets: Socket[] = [];
    const open = async (implicitTls = false) => {
      const socket: Socket = implicitTls
        ? tls.connect({ port: limited.ports.pop3s, host: '127.0.0.1', rejectUnauthorized: false })
        : net.connect(limited.ports.pop3, '127.0.0.1');
      sockets.push(socket);
      return { socket, greeting: await firstLine(socket) };
    };
    try {
      const first = await open();
      expect(first.greeting).toMatch(/^\+OK /);
      expect((await open(true)).greeting).toMatch(/^\+OK /);
      const third = await open();
      expect(third.greeting).toBe('-ERR [SYS/TEMP] Too many concurrent connections from your address, try again later');
      await until('the third connection closed', async () => third.socket.closed, POLL);
      // A slot frees when a connection ends.
      first.socket.end('QUIT\r\n');
      await until('the first connection closed', async () => first.socket.closed, POLL);
      await until('one open connection counted', async () => (await counters.hvals('pop3:conn-open:127.0.0.1')).reduce((n, v) => n + Number(v), 0) === 1, POLL);
      const fourth = await open();
      expect(fourth.greeting).toMatch(/^\+OK /);
      sockets[1].destroy();
      await until('one open connection counted', async () => (await counters.hvals('pop3:conn-open:127.0.0.1')).reduce((n, v) => n + Number(v), 0) === 1, POLL);
      expect((await open(true)).greeting).toMatch(/^\+OK /);
      // Five connections this minute so far (the refused one counts): the sixth is one too many, even with a free slot.
      fourth.socket.destroy();
      await until('one open connection counted', async () => (await counters.hvals('pop3:conn-open:127.0.0.1')).reduce((n, v) => n + Number(v), 0) === 1, POLL);
      expect((await open()).greeting).toBe('-ERR [SYS/TEMP] Too many connections from your address this minute, try again later');
    } finally {
      sockets.forEach((s) => s.destroy());
      await limited.stop();
      counters.disconnect();
    }
  });
});

/** The first line the server sends (without its CRLF). */
function firstLine(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n');
      if (end >= 0) {
        socket.off('data', onData);
        resolve(text.slice(0, end));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => resolve(text));
  });
}
