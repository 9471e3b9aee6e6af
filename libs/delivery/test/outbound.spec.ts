/**
 * The outbound queue against real remote servers: Postfix's smtp-sink (unpacked by tools/fetch-test-tools.sh)
 * with its fault modes as the destination MX hosts, unbound as the DNS server (MX, A, null MX, the DKIM key),
 * smtp-server as the relay host with STARTTLS and AUTH, real PostgreSQL, Redis and BullMQ. Bounces are
 * delivered by the real local delivery into the sender's mailbox.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { promises as dns } from 'node:dns';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Redis from 'ioredis';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { simpleParser } from 'mailparser';
import { Pool } from 'pg';
import selfsigned from 'selfsigned';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimKeyField, sealKeysAtRest } from '@dizi/auth/keys-at-rest';
import { SecretBox } from '@dizi/auth/secret-box';
import { DEFAULT_SMTP_SETTINGS, type SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { MemoryNotifier } from '@dizi/mail-store/adapters/memory-notifier';
import { PostgresMessageStore } from '@dizi/mail-store/adapters/postgres-message-store';
// Test infrastructure, not a runtime dependency of the delivery lib.
import { freeTcpPort, smtpSinkMissing, startSmtpSink, type SmtpSink } from '@dizi/testing/smtp-sink';
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from '@dizi/testing/test-database';
import { startUnbound, UNBOUND_BIN, type Unbound } from '@dizi/testing/unbound';
import { until } from '@dizi/testing/until';
import { postgresDeliveryStores } from '../src/adapters/postgres/delivery-stores';
import { PgDirectoryStore } from '../src/adapters/postgres/pg-directory-store';
import { PgSpoolStore } from '../src/adapters/postgres/pg-spool-store';
import { LocalDelivery } from '../src/local/local-delivery';
import { OutboundWorker } from '../src/outbound/outbound-worker';
import { startDeliveryWorker } from '../src/queue/delivery-worker';
import { MailQueues } from '../src/queue/mail-queues';

const missing = [
  smtpSinkMissing(),
  !existsSync(UNBOUND_BIN) && `${UNBOUND_BIN} (apt-get install unbound)`,
].filter(Boolean);
if (missing.length) console.warn(`outbound.spec.ts skipped: missing ${missing.join(', ')}`);

// Destination hosts: one loopback address per behaviour, all on the same port (the MX port).
const OK_IP = '127.0.0.10';
const TEMPFAIL_IP = '127.0.0.11';
const HARDFAIL_IP = '127.0.0.12';
const DROP_IP = '127.0.0.13';
const DEAD_IP = '127.0.0.14';
const NODSN_IP = '127.0.0.15';
// TLS destinations (smtp-server): a certificate from the test CA for the MX name, a self-signed one, one for another name.
const GOOD_IP = '127.0.0.20';
const SELF_IP = '127.0.0.21';
const WRONG_IP = '127.0.0.22';
const HARD_REPLY = '550 5.1.1 Recipient address rejected: no such user here';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const DKIM_PUBLIC = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const DKIM_PRIVATE = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let db: TestDatabase;
let pool: Pool;
let dir: string;
let dumpDir: string;
let store: PostgresMessageStore;
let blobs: FsBlobStore;
let queues: MailQueues;
let redis: Redis;
let unbound: Unbound;
let outbound: OutboundWorker;
let deliveryWorker: { close(): Promise<void> };
let settings: SmtpSettings = { ...DEFAULT_SMTP_SETTINGS, maxDeliveryAttempts: 3 };
let mxPort: number;
const sinks: SmtpSink[] = [];
const prefix = `dizi-test:outbound-${process.pid}-${Date.now()}:`;
let tenantId: string;
let senderDomainId: string;
const secretBox = new SecretBox(randomBytes(32));
let counter = 0;

/** What the TLS MX hosts received: the session's TLS and the DSN parameters of the envelope. */
const tlsReceived: Array<{
  host: string; secure: boolean; from: string; raw: string;
  dsn: { ret: string | null; envid: string | null };
  rcpts: Array<{ address: string; notify?: string[]; orcpt?: string }>;
}> = [];
const tlsServers: SMTPServer[] = [];
let caCert: string;

let relay: SMTPServer;
let relayPort: number;
const relayed: Array<{ user: string | undefined; secure: boolean; from: string; to: string[]; raw: string }> = [];

/** smtp-sink on ip, at the MX port; `capture` keeps its messages in a directory of its own under dumpDir. */
async function startSink(ip: string, name: string, args: string[], capture?: string): Promise<void> {
  sinks.push(await startSmtpSink(ip, mxPort, { name, args, captureDir: capture && join(dumpDir, capture) }));
}

/** A remote MX host on smtp-server: STARTTLS with the given certificate, DSN announced, everything recorded. */
async function startTlsMx(ip: string, name: string, pems: { private: string; cert: string }): Promise<void> {
  const server = new SMTPServer({
    name,
    key: pems.private,
    cert: pems.cert,
    authOptional: true,
    disabledCommands: ['AUTH'],
    hideDSN: false,
    logger: false,
    onData(stream, session, cb) {
      void read(stream as unknown as Readable).then((raw) => {
        tlsReceived.push({
          host: name,
          secure: session.secure,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          raw: raw.toString(),
          dsn: { ret: session.envelope.dsn?.ret ?? null, envid: session.envelope.dsn?.envid ?? null },
          rcpts: session.envelope.rcptTo.map((r) => ({ address: r.address, notify: r.dsn?.notify, orcpt: r.dsn?.orcpt })),
        });
        cb();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((r) => server.listen(mxPort, ip, r));
  tlsServers.push(server);
}

async function mailbox(address: string): Promise<string> {
  const local = address.split('@')[0];
  const { rows } = await pool.query(
    `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes) VALUES ($1, $2, $3, $4, 'x', 104857600) RETURNING id`,
    [tenantId, senderDomainId, local, address],
  );
  await store.createDefaultFolders(rows[0].id);
  return rows[0].id;
}

function message(from: string, to: string): { raw: Buffer; messageId: string } {
  const messageId = `<out${++counter}.${Date.now()}@sender.test>`;
  const raw = [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: outbound test ${counter}`,
    `Message-ID: ${messageId}`,
    `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Hello from test ${counter}.`,
    '.leading dot survives dot-stuffing',
    '',
  ].join('\r\n');
  return { raw: Buffer.from(raw), messageId };
}

interface SpoolDsn {
  envId?: string;
  ret?: 'FULL' | 'HDRS';
  /** Per recipient: NOTIFY and ORCPT as the submission gave them. */
  notify?: Record<string, string>;
  orcpt?: Record<string, string>;
}

/** Spools a message the way submission commits it, and rings the outbound doorbell for each domain. */
async function spool(mailFrom: string, recipients: string[], o: { headerFrom?: string; receivedAgo?: string; dsn?: SpoolDsn } = {}): Promise<{ id: string; messageId: string }> {
  const { raw, messageId } = message(o.headerFrom ?? (mailFrom || 'mailer-daemon@sender.test'), recipients.join(', '));
  const blob = await store.putBlob(Readable.from([raw]));
  // The arrival time is set at insert: the job is enqueued below and may run at once.
  const { rows } = await pool.query(
    `INSERT INTO spool_message (blob_hash, size, mail_from, source, summary, received_at, env_id, dsn_ret)
     VALUES ($1, $2, $3, 'submission', $4, now() - $5::interval, $6, $7) RETURNING id`,
    [blob.hash, blob.size, mailFrom, JSON.stringify({ envelope: { messageId } }), o.receivedAgo ?? '0 seconds', o.dsn?.envId ?? null, o.dsn?.ret ?? null],
  );
  const domains = new Set<string>();
  for (const r of recipients) {
    const domain = r.split('@')[1];
    domains.add(domain);
    await pool.query(
      `INSERT INTO spool_recipient (message_id, address, kind, domain, dsn_notify, original_address) VALUES ($1, $2, 'remote', $3, $4, $5)`,
      [rows[0].id, r, domain, o.dsn?.notify?.[r] ?? null, o.dsn?.orcpt?.[r] ?? null],
    );
  }
  for (const d of domains) await queues.enqueueOutbound(rows[0].id, d, 0);
  return { id: rows[0].id, messageId };
}

type RecipientRow = { address: string; status: string; attempts: number; last_error: string | null; last_reply: string | null; delay_notified: boolean; next_attempt_at: Date };

async function recipients(spoolId: string): Promise<RecipientRow[]> {
  const { rows } = await pool.query(
    `SELECT address, status, attempts, last_error, last_reply, delay_notified, next_attempt_at FROM spool_recipient WHERE message_id = $1 ORDER BY id`,
    [spoolId],
  );
  return rows;
}

/** Waits until every recipient has made `attempts` attempts (or reached a final state). */
async function attempted(spoolId: string, attempts = 1, timeoutMs = 20_000): Promise<RecipientRow[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const rows = await recipients(spoolId);
    if (rows.every((r) => r.attempts >= attempts || !['queued', 'deferred'].includes(r.status))) return rows;
    if (Date.now() > until) throw new Error(`spool message ${spoolId} not attempted in time: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function read(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** DSNs spooled (for `to`, or for anyone) about the original with `messageId`, parsed. */
async function noticesAbout(to: string | null, messageId: string) {
  const { rows } = await pool.query(
    `SELECT m.id, m.mail_from, m.source, m.blob_hash, r.address, r.kind, r.domain, r.status, r.dsn_notify
       FROM spool_message m JOIN spool_recipient r ON r.message_id = m.id
      WHERE m.source = 'system' AND ($1::text IS NULL OR r.address = $1) ORDER BY m.received_at`,
    [to],
  );
  const out = [];
  for (const r of rows) {
    const raw = await read(await blobs.get(r.blob_hash));
    const parsed = await simpleParser(raw);
    if (parsed.inReplyTo !== messageId) continue;
    const status = parsed.attachments.find((a) => a.contentType === 'message/delivery-status')?.content.toString() ?? '';
    out.push({ ...r, raw: raw.toString(), parsed, status });
  }
  return out;
}

/** Messages of a mailbox's INBOX, parsed. */
async function inbox(mailboxId: string) {
  const folder = await store.getFolder(mailboxId, { name: 'INBOX' });
  const messages = await store.listMessages(folder.id);
  return Promise.all(messages.map(async (m) => simpleParser(await read(await store.getMessageSource(m.id)))));
}

/** The smtp-sink capture of the message with this Message-ID: the envelope lines it adds, and the message with CRLF. */
async function captured(messageId: string): Promise<{ helo: string; mail: string; rcpts: string[]; message: Buffer } | undefined> {
  for (const sink of sinks) {
    const c = await sink.captured(messageId);
    if (c) return { helo: c.helo, mail: c.mailArgs, rcpts: c.rcptArgs, message: c.message };
  }
  return undefined;
}

async function mailLog(spoolId: string): Promise<Array<{ kind: string; result: string; reason: string; recipients: string[]; helo: string | null }>> {
  const { rows } = await pool.query(`SELECT kind, result, reason, recipients, helo FROM mail_log WHERE message_id = $1 ORDER BY id`, [spoolId]);
  return rows;
}

describe.skipIf(missing.length > 0)('outbound queue', () => {
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 10 });
    pool.on('error', () => undefined); // idle clients see the teardown's DROP DATABASE
    dir = await mkdtemp(join(tmpdir(), 'dizi-outbound-'));
    dumpDir = join(dir, 'sink');
    // smtp-sink drops root privileges to nobody before it writes captures: the way down must be traversable.
    await chmod(dir, 0o755);
    blobs = new FsBlobStore(join(dir, 'blobs'));
    store = new PostgresMessageStore({ pool, blobs, notifier: new MemoryNotifier() });
    redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: null });
    queues = new MailQueues(redis, prefix);

    mxPort = await freeTcpPort();
    await startSink(OK_IP, 'mx.ok.test', [], 'ok');
    await startSink(TEMPFAIL_IP, 'mx.temp.test', ['-r', 'RCPT']);
    await startSink(HARDFAIL_IP, 'mx.hard.test', ['-f', 'RCPT', '-B', HARD_REPLY]);
    await startSink(DROP_IP, 'mx.drop.test', ['-q', '.']);
    // Takes mail like the first, but announces no DSN.
    await startSink(NODSN_IP, 'mx.nodsn.test', ['-N'], 'nodsn');

    const ca = await selfsigned.generate([{ name: 'commonName', value: 'Dizi Test CA' }], {
      keySize: 2048, algorithm: 'sha256', extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }],
    });
    caCert = ca.cert;
    const signed = (name: string) => selfsigned.generate([{ name: 'commonName', value: name }], { keySize: 2048, algorithm: 'sha256', ca: { key: ca.private, cert: ca.cert } });
    await startTlsMx(GOOD_IP, 'mx.good.test', await signed('mx.good.test'));
    await startTlsMx(SELF_IP, 'mx.self.test', await selfsigned.generate([{ name: 'commonName', value: 'mx.self.test' }], { keySize: 2048, algorithm: 'sha256' }));
    await startTlsMx(WRONG_IP, 'mx.wrong.test', await signed('somewhere-else.test'));

    unbound = await startUnbound(
      [
        { name: 'ok.test', type: 'MX', value: '10 mx.ok.test.' },
        { name: 'mx.ok.test', type: 'A', value: OK_IP },
        { name: 'temp.test', type: 'MX', value: '10 mx.temp.test.' },
        { name: 'mx.temp.test', type: 'A', value: TEMPFAIL_IP },
        { name: 'hard.test', type: 'MX', value: '10 mx.hard.test.' },
        { name: 'mx.hard.test', type: 'A', value: HARDFAIL_IP },
        { name: 'drop.test', type: 'MX', value: '10 mx.drop.test.' },
        { name: 'mx.drop.test', type: 'A', value: DROP_IP },
        { name: 'fallback.test', type: 'MX', value: '10 dead.fallback.test.' },
        { name: 'fallback.test', type: 'MX', value: '20 mx.ok.test.' },
        { name: 'dead.fallback.test', type: 'A', value: DEAD_IP },
        { name: 'implicit.test', type: 'A', value: OK_IP },
        { name: 'nullmx.test', type: 'MX', value: '0 .' },
        { name: 'nodsn.test', type: 'MX', value: '10 mx.nodsn.test.' },
        { name: 'mx.nodsn.test', type: 'A', value: NODSN_IP },
        { name: 'good.test', type: 'MX', value: '10 mx.good.test.' },
        { name: 'mx.good.test', type: 'A', value: GOOD_IP },
        { name: 'self.test', type: 'MX', value: '10 mx.self.test.' },
        { name: 'mx.self.test', type: 'A', value: SELF_IP },
        { name: 'wrong.test', type: 'MX', value: '10 mx.wrong.test.' },
        { name: 'mx.wrong.test', type: 'A', value: WRONG_IP },
        { name: 'dizi._domainkey.sender.test', type: 'TXT', value: `v=DKIM1; k=rsa; p=${DKIM_PUBLIC}` },
      ],
      ['test'],
    );

    const pems = await selfsigned.generate([{ name: 'commonName', value: 'relay.test' }], { keySize: 2048, algorithm: 'sha256' });
    relay = new SMTPServer({
      key: pems.private,
      cert: pems.cert,
      // AUTH only after STARTTLS: a relayed message proves the session was upgraded
      allowInsecureAuth: false,
      authMethods: ['PLAIN', 'LOGIN', 'CRAM-MD5'],
      onAuth(auth, _session, cb) {
        const ok = auth.username === 'relay-user' && (auth.method === 'CRAM-MD5' ? auth.validatePassword!('relay-pass') : auth.password === 'relay-pass');
        cb(ok ? null : Object.assign(new Error('bad credentials'), { responseCode: 535 }), ok ? { user: auth.username } : undefined);
      },
      onData(stream, session, cb) {
        void read(stream as unknown as Readable).then((raw) => {
          relayed.push({
            user: session.user as string | undefined,
            secure: session.secure,
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: raw.toString(),
          });
          cb();
        });
      },
    });
    relay.on('error', () => undefined);
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    relayPort = (relay.server.address() as AddressInfo).port;

    const { rows } = await pool.query(`INSERT INTO tenant (name) VALUES ('t') RETURNING id`);
    tenantId = rows[0].id;
    const dom = await pool.query(
      `INSERT INTO domain (tenant_id, name, unicode_name, helo_name, dkim_selector, dkim_private_key, dkim_public_key)
       VALUES ($1, 'sender.test', 'sender.test', 'out.sender.test', 'dizi', $2, $3) RETURNING id`,
      [tenantId, DKIM_PRIVATE, DKIM_PUBLIC],
    );
    senderDomainId = dom.rows[0].id;
    // Written in clear as an earlier release did, then sealed as the API seals it at start: signing opens it.
    expect(await sealKeysAtRest(pool, secretBox)).toEqual({ systemKeys: 0, dkimKeys: 1 });
    await mailbox('alice@sender.test');

    const resolver = new dns.Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([unbound.server]);
    outbound = new OutboundWorker(
      {
        spool: new PgSpoolStore(pool), directory: new PgDirectoryStore(pool), blobs, store, resolver, settings: () => settings, hostname: 'mx1.dizi.test',
        logger: { info: () => undefined, warn: (o, m) => console.error('WARN', m, o), error: (o, m) => console.error('ERROR', m, o) },
        mxPort, delayNoticeAfterMs: 3600_000, connectTimeoutMs: 2000, secretBox,
        // The test CA is trusted like a public one would be; nothing else changes how certificates are judged.
        tlsOptions: { ca: [caCert] },
      },
      queues, redis, prefix, { concurrency: 8, perDomainConcurrency: 2, sweepIntervalMs: 200 },
    );
    outbound.start();
    const delivery = new LocalDelivery({ ...postgresDeliveryStores(pool, store, 'mx1.dizi.test'), store, blobs, settings: () => settings, hostname: 'mx1.dizi.test', queues });
    deliveryWorker = startDeliveryWorker({ redis, redisPrefix: prefix, delivery, concurrency: 2 });
  });

  afterAll(async () => {
    await outbound?.stop();
    await deliveryWorker?.close();
    await queues?.close();
    for (const s of sinks) s.stop();
    for (const t of tlsServers) await new Promise<void>((r) => t.close(() => r()));
    await new Promise<void>((r) => (relay ? relay.close(() => r()) : r()));
    await unbound?.stop();
    if (redis) {
      const plain = new Redis(TEST_REDIS_URL);
      const keys = await plain.keys(`${prefix}*`);
      if (keys.length) await plain.del(...keys);
      plain.disconnect();
      redis.disconnect();
    }
    await pool?.end();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('delivers to the MX host with the domain HELO name and a DKIM signature that verifies against DNS', async () => {
    const { id, messageId } = await spool('alice@sender.test', ['rcpt1@ok.test', 'rcpt2@ok.test']);
    const rows = await attempted(id);
    expect(rows.map((r) => [r.address, r.status, r.attempts])).toEqual([['rcpt1@ok.test', 'delivered', 1], ['rcpt2@ok.test', 'delivered', 1]]);
    expect(rows[0].last_reply).toMatch(/^250 /);
    expect(rows[0].last_error).toBeNull();
    const { rows: [msg] } = await pool.query(`SELECT done_at FROM spool_message WHERE id = $1`, [id]);
    expect(msg.done_at).not.toBeNull();

    const capture = await until('the smtp-sink capture', () => captured(messageId));
    expect(capture.helo).toBe('out.sender.test');
    expect(capture.rcpts).toEqual(['<rcpt1@ok.test>', '<rcpt2@ok.test>']);
    expect(capture.message.toString()).toMatch(/^DKIM-Signature: /);
    expect(capture.message.toString()).toContain('\r\n.leading dot survives dot-stuffing\r\n');
    const resolver = new dns.Resolver();
    resolver.setServers([unbound.server]);
    const verified = await dkimVerify(capture.message, { resolver: (name: string, type: string) => resolver.resolve(name, type) as Promise<string[][]> });
    expect(verified.results.map((r) => [r.signingDomain, r.status.result])).toEqual([['sender.test', 'pass']]);
    // The key it signed with is sealed at rest: no PEM in the row, and it opens only as this domain's.
    const { rows: [stored] } = await pool.query(`SELECT dkim_private_key FROM domain WHERE id = $1`, [senderDomainId]);
    expect(stored.dkim_private_key).toMatch(/^enc:v1:/);
    expect(stored.dkim_private_key).not.toContain('PRIVATE KEY');
    expect(stored.dkim_private_key).not.toContain(DKIM_PRIVATE.split('\n')[1]);
    expect(secretBox.open(stored.dkim_private_key, dkimKeyField(senderDomainId))).toBe(DKIM_PRIVATE);

    const log = await mailLog(id);
    expect(log.filter((l) => l.kind === 'outbound').map((l) => l.result)).toEqual(['delivered', 'delivered']);
    expect(log[0].reason).toContain(`mx mx.ok.test[${OK_IP}]:${mxPort}: 250 `);
    expect(log[0].helo).toBe('out.sender.test');
  });

  it('falls back to the next MX by preference, and to the A record of a domain without MX', async () => {
    const a = await spool('alice@sender.test', ['x@fallback.test']);
    const b = await spool('alice@sender.test', ['y@implicit.test']);
    expect((await attempted(a.id))[0]).toMatchObject({ status: 'delivered', attempts: 1 });
    expect((await attempted(b.id))[0]).toMatchObject({ status: 'delivered', attempts: 1 });
    const log = (await mailLog(a.id)).map((l) => l.reason);
    expect(log).toHaveLength(2);
    expect(log[0]).toContain(`dead.fallback.test[${DEAD_IP}]`);
    expect(log[1]).toContain(`mx.ok.test[${OK_IP}]`);
    expect((await until('capture', () => captured(b.messageId))).rcpts).toEqual(['<y@implicit.test>']);
  });

  it('bounces a 5xx at once with exactly one DSN, which local delivery puts in the sender INBOX', async () => {
    const bob = await mailbox('bob@sender.test');
    const { id, messageId } = await spool('bob@sender.test', ['nobody@hard.test', 'rcpt3@ok.test']);
    const rows = await attempted(id);
    expect(rows.find((r) => r.address === 'nobody@hard.test')).toMatchObject({ status: 'bounced', attempts: 1, last_error: HARD_REPLY });
    expect(rows.find((r) => r.address === 'rcpt3@ok.test')).toMatchObject({ status: 'delivered' });

    const notices = await until('the bounce', async () => {
      const n = await noticesAbout('bob@sender.test', messageId);
      return n.length > 0 && n;
    });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ mail_from: '', source: 'system', kind: 'local', domain: 'sender.test', dsn_notify: 'NEVER' });
    expect(notices[0].status).toContain('Final-Recipient: rfc822; nobody@hard.test');
    expect(notices[0].status).toContain('Action: failed');
    expect(notices[0].status).toContain('Status: 5.1.1');
    expect(notices[0].status).toContain('Remote-MTA: dns; mx.hard.test');
    expect(notices[0].status).toContain(`Diagnostic-Code: smtp; ${HARD_REPLY}`);
    expect(notices[0].status).not.toContain('rcpt3@ok.test');

    // In the mailbox, once; running the same job again changes nothing.
    const mail = await until('the bounce in the INBOX', async () => {
      const m = await inbox(bob);
      return m.length > 0 && m;
    });
    expect(mail).toHaveLength(1);
    expect(mail[0].subject).toContain('Undelivered Mail Returned to Sender');
    expect(mail[0].text).toContain('很抱歉');
    await queues.enqueueOutbound(id, 'hard.test', 1);
    await outbound.sweep();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await noticesAbout('bob@sender.test', messageId)).toHaveLength(1);
    expect(await inbox(bob)).toHaveLength(1);
  });

  it('sends no DSN for a null sender, and bounces a null-MX domain without connecting anywhere', async () => {
    const hard = await spool('', ['someone@hard.test'], { headerFrom: 'mailer-daemon@sender.test' });
    const nullMx = await spool('alice@sender.test', ['anyone@nullmx.test']);
    expect((await attempted(hard.id))[0]).toMatchObject({ status: 'bounced' });
    const [r] = await attempted(nullMx.id);
    expect(r).toMatchObject({ status: 'bounced', attempts: 1 });
    expect(r.last_error).toContain('null MX');
    const notices = await until('the null-MX bounce', async () => {
      const n = await noticesAbout('alice@sender.test', nullMx.messageId);
      return n.length > 0 && n;
    });
    // both were decided in the same moments; the null sender's failure spooled nothing at all
    expect(await noticesAbout(null, hard.messageId)).toEqual([]);
    expect(await mailLog(hard.id)).toEqual([expect.objectContaining({ kind: 'outbound', result: 'failed' })]);
    expect(notices).toHaveLength(1);
    expect(notices[0].status).toContain('Status: 5.1.10');
    expect(notices[0].status).not.toContain('Remote-MTA');
  });

  it('retries a 4xx every interval, sends one delay notice, then one bounce after the last attempt', async () => {
    // Arrived long enough ago for a delay notice (the worker is told 1 h).
    const { id, messageId } = await spool('alice@sender.test', ['later@temp.test'], { receivedAgo: '2 hours' });
    let [r] = await attempted(id, 1);
    expect(r).toMatchObject({ status: 'deferred', attempts: 1, delay_notified: true });
    expect(r.last_error).toMatch(/^450 4\.3\.0 /);
    const wait = r.next_attempt_at.getTime() - Date.now();
    expect(wait).toBeGreaterThan((settings.retryIntervalSeconds - 30) * 1000);
    expect(wait).toBeLessThanOrEqual(settings.retryIntervalSeconds * 1000);

    let notices = await until('the delay notice', async () => {
      const n = await noticesAbout('alice@sender.test', messageId);
      return n.length > 0 && n;
    });
    expect(notices).toHaveLength(1);
    expect(notices[0].status).toContain('Action: delayed');
    expect(notices[0].status).toContain('Status: 4.3.0');
    expect(notices[0].status).toContain('Will-Retry-Until: ');

    // Time passes: the retry falls due (what "retry now" does too).
    await pool.query(`UPDATE spool_recipient SET next_attempt_at = now() WHERE message_id = $1`, [id]);
    [r] = await attempted(id, 2);
    expect(r).toMatchObject({ status: 'deferred', attempts: 2 });
    await pool.query(`UPDATE spool_recipient SET next_attempt_at = now() WHERE message_id = $1`, [id]);
    [r] = await attempted(id, 3);
    expect(r).toMatchObject({ status: 'failed', attempts: 3 });
    expect(r.last_error).toContain('gave up after 3 attempts');

    notices = await until('the bounce', async () => {
      const n = await noticesAbout('alice@sender.test', messageId);
      return n.length > 1 && n;
    });
    expect(notices.map((n) => /Action: (\w+)/.exec(n.status)![1])).toEqual(['delayed', 'failed']);
    expect((await mailLog(id)).filter((l) => l.kind === 'outbound').map((l) => l.result)).toEqual(['deferred', 'deferred', 'deferred']);
  });

  it('defers a message the host dropped after DATA, then delivers it on retry through a transport route', async () => {
    const { id, messageId } = await spool('alice@sender.test', ['dropped@drop.test']);
    let [r] = await attempted(id, 1);
    expect(r).toMatchObject({ status: 'deferred', attempts: 1 });
    expect(r.last_error).toMatch(/closed|unexpected/i);

    await pool.query(`INSERT INTO transport_route (domain, host, port) VALUES ('drop.test', $1, $2)`, [OK_IP, mxPort]);
    await pool.query(`UPDATE spool_recipient SET next_attempt_at = now() WHERE message_id = $1`, [id]);
    [r] = await attempted(id, 2);
    expect(r).toMatchObject({ status: 'delivered', attempts: 2 });
    expect((await until('capture', () => captured(messageId))).rcpts).toEqual(['<dropped@drop.test>']);
    expect((await mailLog(id)).at(-1)!.reason).toContain(`transport ${OK_IP}[${OK_IP}]`);
  });

  it('does not send in plaintext over a route that requires TLS', async () => {
    await pool.query(`INSERT INTO transport_route (domain, host, port, require_tls) VALUES ('secure.test', $1, $2, true)`, [OK_IP, mxPort]);
    const { id, messageId } = await spool('alice@sender.test', ['s@secure.test']);
    const [r] = await attempted(id, 1);
    expect(r).toMatchObject({ status: 'deferred', attempts: 1 });
    expect(r.last_error).toMatch(/^TLS is required but STARTTLS with 127\.0\.0\.10 failed: 5\d\d /);
    expect(await captured(messageId)).toBeUndefined();
  });

  it('sends through the relay host with STARTTLS and AUTH (always), and falls back to it on failure', async () => {
    settings = { ...settings, relay: { mode: 'always', host: '127.0.0.1', port: relayPort, username: 'relay-user', password: 'relay-pass', authMethod: 'CRAM-MD5' } };
    const a = await spool('alice@sender.test', ['r1@ok.test']);
    expect((await attempted(a.id))[0]).toMatchObject({ status: 'delivered' });
    const viaRelay = relayed.find((m) => m.raw.includes(a.messageId))!;
    expect(viaRelay).toMatchObject({ user: 'relay-user', secure: true, from: 'alice@sender.test', to: ['r1@ok.test'] });
    expect(viaRelay.raw).toMatch(/^DKIM-Signature: /);

    settings = { ...settings, relay: { ...settings.relay, mode: 'on_failure', authMethod: 'LOGIN' } };
    const b = await spool('alice@sender.test', ['r2@temp.test', 'gone@hard.test']);
    const rows = await attempted(b.id);
    // the 4xx goes on through the relay; the 5xx stays a bounce
    expect(rows.find((r) => r.address === 'r2@temp.test')).toMatchObject({ status: 'delivered' });
    expect(rows.find((r) => r.address === 'gone@hard.test')).toMatchObject({ status: 'bounced' });
    expect(relayed.find((m) => m.raw.includes(b.messageId))).toMatchObject({ user: 'relay-user', to: ['r2@temp.test'] });
    const reasons = (await mailLog(b.id)).filter((l) => l.kind === 'outbound').map((l) => `${l.result} ${l.reason.split(':')[0]}`);
    expect(reasons).toEqual(expect.arrayContaining(['deferred mx mx.temp.test[127.0.0.11]', 'delivered relay 127.0.0.1[127.0.0.1]']));

    settings = { ...settings, relay: { ...settings.relay, password: 'wrong' } };
    const c = await spool('alice@sender.test', ['r3@temp.test']);
    const [r] = await attempted(c.id);
    expect(r).toMatchObject({ status: 'deferred' });
    expect(r.last_error).toContain('authentication at 127.0.0.1 failed');
    settings = { ...settings, relay: { ...DEFAULT_SMTP_SETTINGS.relay } };
  });
  describe('TLS to remote hosts', () => {
    const outboundLog = async (id: string) => (await mailLog(id)).filter((l) => l.kind === 'outbound');

    it('opportunistic: encrypts when offered and logs version, cipher and whether the certificate verified', async () => {
      const { id, messageId } = await spool('alice@sender.test', ['a@good.test', 'b@self.test', 'c@ok.test']);
      const rows = await attempted(id);
      expect(rows.map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered']);
      expect(tlsReceived.filter((m) => m.raw.includes(messageId)).map((m) => [m.host, m.secure]).sort()).toEqual([['mx.good.test', true], ['mx.self.test', true]]);
      const reasons = Object.fromEntries((await outboundLog(id)).map((l) => [l.recipients[0], l.reason]));
      expect(reasons['a@good.test']).toMatch(new RegExp(`^mx mx\\.good\\.test\\[${GOOD_IP}\\]:${mxPort} TLSv1\\.[23] [A-Z0-9_-]+ verified: 250 `));
      // A self-signed certificate is taken (RFC 7435), and the log says so.
      expect(reasons['b@self.test']).toMatch(/^mx mx\.self\.test\[127\.0\.0\.21\]:\d+ TLSv1\.[23] [A-Z0-9_-]+ unverified \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\): 250 /);
      // smtp-sink has no STARTTLS: plaintext, as before.
      expect(reasons['c@ok.test']).toMatch(new RegExp(`^mx mx\\.ok\\.test\\[${OK_IP}\\]:${mxPort}: 250 `));
    });

    it('verify: per destination domain or for all, defers without a valid certificate for the MX name, delivers with one', async () => {
      settings = { ...settings, outboundTlsPolicyByDomain: { 'self.test': 'verify', 'wrong.test': 'verify' } };
      try {
        const a = await spool('alice@sender.test', ['d@self.test', 'e@wrong.test', 'f@good.test']);
        const rows = await attempted(a.id);
        expect(rows.map((r) => [r.address, r.status])).toEqual([['d@self.test', 'deferred'], ['e@wrong.test', 'deferred'], ['f@good.test', 'delivered']]);
        expect(rows[0].last_error).toMatch(/^TLS policy verify: the certificate of mx\.self\.test could not be verified: .*self[- ]signed/i);
        expect(rows[1].last_error).toMatch(/^TLS policy verify: the certificate of mx\.wrong\.test could not be verified: .*(altnames|does not match)/i);
        // Nothing reached the hosts that failed the check; the other domain kept its opportunistic TLS.
        expect(tlsReceived.filter((m) => m.raw.includes(a.messageId)).map((m) => m.host)).toEqual(['mx.good.test']);

        // Everywhere, with an exception: a host without STARTTLS is refused too, unless its domain says opportunistic.
        settings = { ...settings, outboundTlsPolicy: 'verify', outboundTlsPolicyByDomain: { 'nodsn.test': 'opportunistic' } };
        const b = await spool('alice@sender.test', ['g@good.test', 'h@ok.test', 'i@nodsn.test']);
        const rowsB = await attempted(b.id);
        expect(rowsB.map((r) => [r.address, r.status])).toEqual([['g@good.test', 'delivered'], ['h@ok.test', 'deferred'], ['i@nodsn.test', 'delivered']]);
        expect(rowsB[1].last_error).toMatch(/^TLS is required \(policy verify\) but STARTTLS with mx\.ok\.test failed: 5\d\d /);
        expect((await outboundLog(b.id)).find((l) => l.recipients[0] === 'g@good.test')!.reason).toMatch(/ TLSv1\.[23] \S+ verified: 250 /);
        expect(await captured(b.messageId)).toMatchObject({ rcpts: ['<i@nodsn.test>'] });
      } finally {
        settings = { ...settings, outboundTlsPolicy: 'opportunistic', outboundTlsPolicyByDomain: {} };
      }
    });
  });

  describe('DSN parameters (RFC 3461)', () => {
    it('passes NOTIFY, ORCPT, RET and ENVID on to a next hop with DSN, which then reports success itself', async () => {
      const { id, messageId } = await spool('alice@sender.test', ['x@good.test', 'y@good.test', 'z@ok.test'], {
        dsn: {
          envId: 'env+1=2',
          ret: 'HDRS',
          notify: { 'x@good.test': 'SUCCESS,FAILURE', 'z@ok.test': 'SUCCESS' },
          orcpt: { 'x@good.test': 'rfc822;Orig@Sender.test', 'z@ok.test': 'rfc822;z-orig@sender.test' },
        },
      });
      expect((await attempted(id)).map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered']);
      const got = tlsReceived.find((m) => m.raw.includes(messageId))!;
      expect(got.dsn).toEqual({ ret: 'HDRS', envid: 'env+1=2' });
      expect(got.rcpts).toEqual([
        { address: 'x@good.test', notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;Orig@Sender.test' },
        { address: 'y@good.test', notify: undefined, orcpt: undefined },
      ]);
      // On the wire, xtext-encoded ('+' and '=' as +2B and +3D).
      const sink = await until('capture', () => captured(messageId));
      expect(sink.mail).toBe('<alice@sender.test> BODY=8BITMIME RET=HDRS ENVID=env+2B1+3D2');
      expect(sink.rcpts).toEqual(['<z@ok.test> NOTIFY=SUCCESS ORCPT=rfc822;z-orig@sender.test']);
      // Both hosts have DSN: no "relayed" notice from us.
      await new Promise((r) => setTimeout(r, 500));
      expect(await noticesAbout(null, messageId)).toEqual([]);
    });

    it('sends one "relayed" notice for NOTIFY=SUCCESS when the next hop has no DSN (headers only with RET=HDRS) and honours NOTIFY=NEVER', async () => {
      const carol = await mailbox('carol@sender.test');
      const { id, messageId } = await spool('carol@sender.test', ['s@nodsn.test', 'quiet@nodsn.test', 'never@hard.test'], {
        dsn: { envId: 'carol-1', ret: 'HDRS', notify: { 's@nodsn.test': 'SUCCESS', 'never@hard.test': 'NEVER' }, orcpt: { 's@nodsn.test': 'rfc822;s-orig@sender.test' } },
      });
      const rows = await attempted(id);
      expect(rows.map((r) => [r.address, r.status])).toEqual([['s@nodsn.test', 'delivered'], ['quiet@nodsn.test', 'delivered'], ['never@hard.test', 'bounced']]);
      // A host without DSN gets no DSN parameters.
      const sink = await until('capture', () => captured(messageId));
      expect(sink.rcpts).toEqual(['<s@nodsn.test>', '<quiet@nodsn.test>']);
      expect(sink.mail).not.toContain('RET=');

      const notices = await until('the success notice', async () => {
        const n = await noticesAbout('carol@sender.test', messageId);
        return n.length > 0 && n;
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(await noticesAbout('carol@sender.test', messageId)).toHaveLength(1);
      expect(notices[0].status).toContain('Original-Envelope-Id: carol-1');
      expect(notices[0].status).toContain('Original-Recipient: rfc822; s-orig@sender.test');
      expect(notices[0].status).toContain('Final-Recipient: rfc822; s@nodsn.test');
      expect(notices[0].status).toContain('Action: relayed');
      expect(notices[0].status).toContain('Status: 2.0.0');
      expect(notices[0].status).toContain('Remote-MTA: dns; mx.nodsn.test');
      // Neither the recipient without NOTIFY=SUCCESS nor the NOTIFY=NEVER failure is reported.
      expect(notices[0].status).not.toContain('quiet@nodsn.test');
      expect(notices[0].status).not.toContain('never@hard.test');
      expect(notices[0].raw).toContain('Content-Type: text/rfc822-headers');
      expect(notices[0].raw).not.toContain('Hello from test');
      const mail = await until('the notice in the INBOX', async () => {
        const m = await inbox(carol);
        return m.length > 0 && m;
      });
      expect(mail[0].subject).toBe('Delivery Status Notification / 投递状态通知');
      expect(mail[0].text).toContain('您的邮件已转交');
      expect((await mailLog(id)).filter((l) => l.kind === 'bounce').map((l) => l.result)).toEqual(['success notice']);
    });
  });
});
