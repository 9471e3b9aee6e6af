/**
 * Local delivery against real PostgreSQL, Redis and BullMQ: spool rows are written the way SMTP commits them, a
 * BullMQ job (or the sweeper) starts delivery, and the mailboxes are read back from the store byte for byte.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Redis from 'ioredis';
import { simpleParser } from 'mailparser';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSearchKeyList, searchKey } from '@dizi/domain/search-key';
import { DEFAULT_SMTP_SETTINGS, type SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import { DEFAULT_MAIL_TEMPLATES } from '@dizi/contracts/settings.contract';
import { summariseMessage } from '@dizi/mime/message-summary';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { MemoryNotifier } from '@dizi/mail-store/adapters/memory-notifier';
import { PostgresMessageStore } from '@dizi/mail-store/adapters/postgres-message-store';
// Test infrastructure, not a runtime dependency of the delivery lib.
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from '@dizi/testing/test-database';
import { LocalDelivery } from '../src/local/local-delivery';
import { spoolSummary } from '../src/local/message-index';
import { startDeliveryWorker } from '../src/queue/delivery-worker';
import { outboundJobId } from '@dizi/contracts/queues';
import { MailQueues } from '../src/queue/mail-queues';
import { SpoolSweeper } from '../src/queue/sweeper';
import { postgresDeliveryStores } from '../src/adapters/postgres/delivery-stores';
import { PgSpoolStore } from '../src/adapters/postgres/pg-spool-store';

let db: TestDatabase;
let pool: Pool;
let dir: string;
let store: PostgresMessageStore;
let blobs: FsBlobStore;
let queues: MailQueues;
let redis: Redis;
let worker: { close(): Promise<void> };
let delivery: LocalDelivery;
const settings: SmtpSettings = DEFAULT_SMTP_SETTINGS;
const prefix = `dizi-test:local-delivery-${process.pid}-${Date.now()}:`;
let tenantId: string;
const domains: Record<string, string> = {};
let counter = 0;

async function domain(name: string): Promise<string> {
  const { rows } = await pool.query(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, $2, $2) RETURNING id`, [tenantId, name]);
  domains[name] = rows[0].id;
  return rows[0].id;
}

async function mailbox(address: string, o: { quotaBytes?: number; usedBytes?: number; displayName?: string } = {}): Promise<string> {
  const [local, dom] = address.split('@');
  const { rows } = await pool.query(
    `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, display_name, password_hash, quota_bytes, used_bytes)
     VALUES ($1, $2, $3, $4, $5, 'x', $6, $7) RETURNING id`,
    [tenantId, domains[dom], local, address, o.displayName ?? '', o.quotaBytes ?? 100 * 1024 * 1024, o.usedBytes ?? 0],
  );
  await store.createDefaultFolders(rows[0].id);
  return rows[0].id;
}

async function alias(address: string, destinations: string[]): Promise<void> {
  const [local, dom] = address.split('@');
  await pool.query(
    `INSERT INTO alias (tenant_id, domain_id, local_part, address, destinations) VALUES ($1, $2, $3, $4, $5)`,
    [tenantId, domains[dom], local, address, destinations],
  );
}

async function group(address: string, members: string[], o: { policy: string; allowed?: string[]; keepCopy?: boolean; rewrite?: boolean }): Promise<void> {
  const [local, dom] = address.split('@');
  const { rows } = await pool.query(
    `INSERT INTO mail_group (tenant_id, domain_id, local_part, address, posting_policy, allowed_senders, keep_copy, rewrite_recipient)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [tenantId, domains[dom], local, address, o.policy, o.allowed ?? [], o.keepCopy ?? false, o.rewrite ?? false],
  );
  for (const m of members) await pool.query(`INSERT INTO mail_group_member (group_id, member) VALUES ($1, $2)`, [rows[0].id, m]);
}

function message(o: { from: string; to: string; subject?: string; extra?: string[]; body?: string }): { raw: Buffer; messageId: string } {
  const messageId = `<m${++counter}.${Date.now()}@client.test>`;
  const raw = [
    `Received: from client.test (client.test [127.0.0.1]) by mx.dizi.test with ESMTP; ${new Date().toUTCString()}`,
    `From: ${o.from}`,
    `To: ${o.to}`,
    `Subject: ${o.subject ?? `test ${counter}`}`,
    `Message-ID: ${messageId}`,
    `Date: ${new Date().toUTCString()}`,
    ...(o.extra ?? []),
    '',
    o.body ?? `Hello, this is message ${counter}.`,
    '',
  ].join('\r\n');
  return { raw: Buffer.from(raw, 'utf8'), messageId };
}

/** Writes the spool rows the way SMTP commits them; enqueues the job unless told not to. */
async function spool(
  raw: Buffer, mailFrom: string, recipients: string[],
  o: { authMailboxId?: string; enqueue?: boolean; dsnRet?: 'FULL' | 'HDRS' } = {},
): Promise<string> {
  const blob = await store.putBlob(Readable.from([raw]));
  const { rows } = await pool.query(
    `INSERT INTO spool_message (blob_hash, size, mail_from, source, auth_mailbox_id, dsn_ret)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [blob.hash, blob.size, mailFrom, o.authMailboxId ? 'submission' : 'smtp', o.authMailboxId ?? null, o.dsnRet ?? null],
  );
  const id = rows[0].id;
  for (const r of recipients) {
    const dom = r.split('@')[1];
    await pool.query(`INSERT INTO spool_recipient (message_id, address, kind, domain) VALUES ($1, $2, $3, $4)`, [id, r, domains[dom] ? 'local' : 'remote', dom]);
  }
  if (o.enqueue !== false) await queues.enqueueDelivery(id);
  return id;
}

/** Waits until no local recipient of the message is queued or deferred-and-due. */
async function settled(spoolId: string, timeoutMs = 15_000): Promise<Array<{ address: string; status: string; kind: string; last_error: string | null; original_address: string | null }>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query(
      `SELECT address, status, kind, last_error, original_address FROM spool_recipient WHERE message_id = $1 ORDER BY id`, [spoolId],
    );
    if (!rows.some((r) => r.kind === 'local' && r.status === 'queued')) return rows;
    if (Date.now() > until) throw new Error(`spool message ${spoolId} not delivered in time: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function read(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Sources of the INBOX messages of a mailbox, in UID order. */
async function inbox(mailboxId: string): Promise<string[]> {
  const folder = await store.getFolder(mailboxId, { name: 'INBOX' });
  const messages = await store.listMessages(folder.id);
  return Promise.all(messages.map(async (m) => (await read(await store.getMessageSource(m.id))).toString('utf8')));
}

/** System mail (DSNs, auto-replies) spooled for `to`, with its raw source. */
async function systemMailTo(to: string): Promise<Array<{ id: string; mailFrom: string; raw: string; kind: string }>> {
  const { rows } = await pool.query(
    `SELECT m.id, m.mail_from, m.blob_hash, r.kind FROM spool_message m JOIN spool_recipient r ON r.message_id = m.id
      WHERE m.source = 'system' AND r.address = $1 ORDER BY m.received_at`,
    [to],
  );
  return Promise.all(rows.map(async (r) => ({ id: r.id, mailFrom: r.mail_from, kind: r.kind, raw: (await read(await blobs.get(r.blob_hash))).toString('utf8') })));
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new Pool({ connectionString: db.url, max: 20 });
  pool.on('error', () => undefined); // idle clients see the teardown's DROP DATABASE
  dir = await mkdtemp(join(tmpdir(), 'dizi-local-delivery-'));
  blobs = new FsBlobStore(join(dir, 'blobs'));
  store = new PostgresMessageStore({ pool, blobs, notifier: new MemoryNotifier() });
  redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: null });
  queues = new MailQueues(redis, prefix);
  delivery = new LocalDelivery({ ...postgresDeliveryStores(pool, store, 'mx.dizi.test'), store, blobs, settings: () => settings, hostname: 'mx.dizi.test', queues });
  worker = startDeliveryWorker({ redis, redisPrefix: prefix, delivery, concurrency: 4 });
  const { rows } = await pool.query(`INSERT INTO tenant (name) VALUES ('t') RETURNING id`);
  tenantId = rows[0].id;
  await domain('d.test');
  await domain('e.test');
});

afterAll(async () => {
  await worker?.close();
  await queues?.close();
  if (redis) {
    const keys = await redis.keys(`${prefix}*`);
    const plain = new Redis(TEST_REDIS_URL);
    if (keys.length > 0) await plain.del(...keys);
    plain.disconnect();
    redis.disconnect();
  }
  await pool?.end();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('local delivery', () => {
  it('stores the message in INBOX byte for byte: Return-Path and Delivered-To, then the spooled bytes', async () => {
    const id = await mailbox('plain@d.test');
    const { raw } = message({ from: 'Sender <s@ext.test>', to: 'plain@d.test', subject: 'Quarterly 财务报告' });
    const spoolId = await spool(raw, 's@ext.test', ['plain@d.test']);
    const rows = await settled(spoolId);
    expect(rows).toMatchObject([{ address: 'plain@d.test', status: 'delivered' }]);
    const [source] = await inbox(id);
    expect(Buffer.from(source, 'utf8').equals(Buffer.concat([Buffer.from('Return-Path: <s@ext.test>\r\nDelivered-To: plain@d.test\r\n'), raw]))).toBe(true);
    const folder = await store.getFolder(id, { name: 'INBOX' });
    expect(await store.search(folder.id, ['财务'])).toHaveLength(1);
    expect(await store.search(folder.id, ['quarterly', 's@ext.test'])).toHaveLength(1);
    const [listed] = await store.listMessages(folder.id, { withSortFields: true });
    expect(listed.sortFields).toMatchObject({ subject: 'Quarterly 财务报告', from: 's@ext.test', to: 'plain@d.test' });
    const { rows: [m] } = await pool.query(`SELECT done_at, summary IS NOT NULL AS summarised FROM spool_message WHERE id = $1`, [spoolId]);
    expect(m.done_at).not.toBeNull();
    expect(m.summarised).toBe(true);
  });

  it('fans an alias out to local mailboxes once each and to remote addresses as remote recipients', async () => {
    const a = await mailbox('fan-a@d.test');
    const b = await mailbox('fan-b@e.test');
    await alias('team@d.test', ['fan-a@d.test', 'fan-b@e.test', 'friend@ext.test', 'fan-a@d.test']);
    const { raw } = message({ from: 's@ext.test', to: 'team@d.test' });
    // Sent to the alias and to one of its destinations directly: still one copy per mailbox.
    const spoolId = await spool(raw, 's@ext.test', ['team@d.test', 'fan-a@d.test']);
    const rows = await settled(spoolId);
    expect(rows.map((r) => [r.address, r.kind, r.status, r.original_address])).toEqual([
      ['team@d.test', 'local', 'delivered', null],
      ['fan-a@d.test', 'local', 'delivered', null],
      ['friend@ext.test', 'remote', 'queued', 'team@d.test'],
    ]);
    expect(await inbox(a)).toHaveLength(1);
    const [bSource] = await inbox(b);
    expect(bSource.startsWith('Return-Path: <s@ext.test>\r\nDelivered-To: fan-b@e.test\r\n')).toBe(true);
    const job = await queues.outbound.getJob(outboundJobId({ spoolMessageId: spoolId, domain: 'ext.test' }, 0));
    expect(job?.data).toEqual({ spoolMessageId: spoolId, domain: 'ext.test' });
  });

  it('delivers unknown addresses of a domain to its catch-all, and bounces them without one', async () => {
    const c = await mailbox('catcher@e.test');
    await alias('*@e.test', ['catcher@e.test']);
    const { raw } = message({ from: 's@ext.test', to: 'whoever@e.test' });
    const spoolId = await spool(raw, 's@ext.test', ['whoever@e.test']);
    expect(await settled(spoolId)).toMatchObject([{ status: 'delivered' }]);
    expect((await inbox(c))[0]).toContain('Delivered-To: catcher@e.test\r\n');

    const { raw: raw2 } = message({ from: 's@ext.test', to: 'nobody@d.test' });
    const bounced = await spool(raw2, 's@ext.test', ['nobody@d.test']);
    expect(await settled(bounced)).toMatchObject([{ status: 'bounced', last_error: '5.1.1 no such mailbox' }]);
    const [dsn] = await systemMailTo('s@ext.test');
    expect(dsn).toMatchObject({ mailFrom: '', kind: 'remote' });
    expect(dsn.raw).toContain('Final-Recipient: rfc822; nobody@d.test');
    expect(dsn.raw).toContain('Status: 5.1.1');
  });

  describe('groups', () => {
    // [policy, allowed sender, refused sender]; auth marks a submission by a local mailbox.
    const cases: Array<{ policy: string; allowed: { from: string; auth?: boolean }; refused: { from: string; auth?: boolean }; list?: string[] }> = [
      { policy: 'anyone', allowed: { from: '' }, refused: { from: '' } },
      { policy: 'same_domain', allowed: { from: 'someone@d.test' }, refused: { from: 'someone@ext.test' } },
      { policy: 'local', allowed: { from: 'poster@d.test' }, refused: { from: 'poster@ext.test' } },
      { policy: 'authenticated', allowed: { from: 'poster@d.test', auth: true }, refused: { from: 'poster@d.test' } },
      { policy: 'members', allowed: { from: 'ext-member@ext.test' }, refused: { from: 'stranger@ext.test' } },
      { policy: 'listed', allowed: { from: 'boss@partner.test' }, refused: { from: 'other@ext.test' }, list: ['*@partner.test'] },
    ];
    let poster: string;
    beforeAll(async () => {
      poster = await mailbox('poster@d.test');
    });

    for (const c of cases) {
      it(`applies the ${c.policy} posting policy`, async () => {
        const m1 = await mailbox(`${c.policy}-1@d.test`);
        const m2 = await mailbox(`${c.policy}-2@e.test`);
        const address = `list-${c.policy}@d.test`;
        await group(address, [`${c.policy}-1@d.test`, `${c.policy}-2@e.test`, 'ext-member@ext.test'], { policy: c.policy, allowed: c.list });

        const ok = await spool(message({ from: c.allowed.from || 'MAILER-DAEMON', to: address }).raw, c.allowed.from, [address],
          { authMailboxId: c.allowed.auth ? poster : undefined });
        const okRows = await settled(ok);
        expect(okRows[0]).toMatchObject({ address, status: 'delivered' });
        // The remote member joins as a remote recipient.
        expect(okRows.find((r) => r.address === 'ext-member@ext.test')).toMatchObject({ kind: 'remote', status: 'queued' });
        expect(await inbox(m1)).toHaveLength(1);
        expect(await inbox(m2)).toHaveLength(1);

        if (c.policy === 'anyone') return;
        const refused = await spool(message({ from: c.refused.from, to: address }).raw, c.refused.from, [address],
          { authMailboxId: c.refused.auth ? poster : undefined });
        const rows = await settled(refused);
        expect(rows).toEqual([expect.objectContaining({ address, status: 'bounced' })]);
        expect(rows[0].last_error).toMatch(/^5\.7\.1 the sender may not post/);
        expect(await inbox(m1)).toHaveLength(1);
        const dsns = await systemMailTo(c.refused.from);
        expect(dsns.some((d) => d.raw.includes(`Final-Recipient: rfc822; ${address}`))).toBe(true);
      });
    }

    it('rewrites To per member when asked, keeping the body and every other header as sent', async () => {
      const r1 = await mailbox('rw-1@d.test');
      const r2 = await mailbox('rw-2@d.test');
      await group('rw@d.test', ['rw-1@d.test', 'rw-2@d.test'], { policy: 'anyone', rewrite: true });
      const { raw } = message({ from: 's@ext.test', to: 'Everyone <rw@d.test>', body: 'same body for all' });
      const spoolId = await spool(raw, 's@ext.test', ['rw@d.test']);
      await settled(spoolId);
      const [s1] = await inbox(r1);
      const [s2] = await inbox(r2);
      expect(s1).toContain('\r\nTo: <rw-1@d.test>\r\n');
      expect(s2).toContain('\r\nTo: <rw-2@d.test>\r\n');
      expect(s1).not.toContain('Everyone <rw@d.test>');
      const expected = raw.toString('utf8').replace('To: Everyone <rw@d.test>\r\n', 'To: <rw-1@d.test>\r\n');
      expect(s1).toBe(`Return-Path: <s@ext.test>\r\nDelivered-To: rw-1@d.test\r\n${expected}`);
    });

    it('keeps a copy for a group only in a mailbox of the group address, and delivers to members without one', async () => {
      const k1 = await mailbox('kc-1@d.test');
      await group('kc@d.test', ['kc-1@d.test'], { policy: 'anyone', keepCopy: true });
      const spoolId = await spool(message({ from: 's@ext.test', to: 'kc@d.test' }).raw, 's@ext.test', ['kc@d.test']);
      expect(await settled(spoolId)).toMatchObject([{ status: 'delivered' }]);
      expect(await inbox(k1)).toHaveLength(1);
    });
  });

  describe('forwarding', () => {
    it('forwards with a local copy, and without one', async () => {
      const keep = await mailbox('fw-keep@d.test');
      const drop = await mailbox('fw-drop@d.test');
      const target = await mailbox('fw-target@e.test');
      await pool.query(`INSERT INTO mailbox_delivery (mailbox_id, forward_to, forward_keep_copy) VALUES ($1, $2, true), ($3, $4, false)`,
        [keep, ['away@ext.test'], drop, ['fw-target@e.test', 'away2@ext.test']]);
      const s1 = await spool(message({ from: 's@ext.test', to: 'fw-keep@d.test' }).raw, 's@ext.test', ['fw-keep@d.test']);
      expect((await settled(s1)).map((r) => [r.address, r.kind, r.status])).toEqual([
        ['fw-keep@d.test', 'local', 'delivered'], ['away@ext.test', 'remote', 'queued'],
      ]);
      expect(await inbox(keep)).toHaveLength(1);

      const s2 = await spool(message({ from: 's@ext.test', to: 'fw-drop@d.test' }).raw, 's@ext.test', ['fw-drop@d.test']);
      expect((await settled(s2)).map((r) => [r.address, r.kind, r.status])).toEqual([
        ['fw-drop@d.test', 'local', 'delivered'], ['away2@ext.test', 'remote', 'queued'],
      ]);
      expect(await inbox(drop)).toHaveLength(0);
      expect((await inbox(target))[0]).toContain('Delivered-To: fw-target@e.test\r\n');
    });

    it('ends a forwarding cycle in the mailbox where it closes', async () => {
      const x = await mailbox('cyc-x@d.test');
      const y = await mailbox('cyc-y@d.test');
      await pool.query(`INSERT INTO mailbox_delivery (mailbox_id, forward_to, forward_keep_copy) VALUES ($1, $2, false), ($3, $4, false)`,
        [x, ['cyc-y@d.test'], y, ['cyc-x@d.test']]);
      const s = await spool(message({ from: 's@ext.test', to: 'cyc-x@d.test' }).raw, 's@ext.test', ['cyc-x@d.test']);
      expect(await settled(s)).toMatchObject([{ status: 'delivered' }]);
      expect((await inbox(x)).length + (await inbox(y)).length).toBe(1);
    });
  });

  describe('auto-reply', () => {
    let vacation: string;
    beforeAll(async () => {
      vacation = await mailbox('vacation@d.test', { displayName: 'Vera Cation' });
      await pool.query(
        `INSERT INTO mailbox_delivery (mailbox_id, auto_reply_enabled, auto_reply_subject, auto_reply_body) VALUES ($1, true, '', $2)`,
        [vacation, '我正在休假 / I am away until Monday.'],
      );
    });

    it('answers a person once per 7 days, with RFC 3834 headers and the null envelope sender', async () => {
      const first = message({ from: 'Pat <pat@ext.test>', to: 'vacation@d.test', subject: 'Lunch?', extra: ['References: <older@client.test>'] });
      await settled(await spool(first.raw, 'pat@ext.test', ['vacation@d.test']));
      const replies = await systemMailTo('pat@ext.test');
      expect(replies).toHaveLength(1);
      const reply = replies[0];
      expect(reply.mailFrom).toBe('');
      expect(reply.kind).toBe('remote');
      const head = reply.raw.split('\r\n\r\n')[0].split('\r\n');
      expect(head).toContain('Auto-Submitted: auto-replied');
      expect(head).toContain(`In-Reply-To: ${first.messageId}`);
      expect(head).toContain(`References: <older@client.test> ${first.messageId}`);
      expect(head).toContain('Subject: Auto: Lunch?');
      expect(head).toContain('X-Loop: vacation@d.test');
      expect(head).toContain('To: pat@ext.test');
      expect(head).toContain('From: Vera Cation <vacation@d.test>');
      expect((await simpleParser(Buffer.from(reply.raw, 'utf8'))).text?.trim()).toBe('我正在休假 / I am away until Monday.');
      const { rows: [{ done }] } = await pool.query(`SELECT count(*)::int AS done FROM spool_recipient r JOIN spool_message m ON m.id = r.message_id WHERE m.id = $1`, [reply.id]);
      expect(done).toBe(1);

      await settled(await spool(message({ from: 'pat@ext.test', to: 'vacation@d.test' }).raw, 'pat@ext.test', ['vacation@d.test']));
      expect(await systemMailTo('pat@ext.test')).toHaveLength(1);
      // After the period it answers again.
      await pool.query(`UPDATE auto_reply_sent SET sent_at = now() - interval '8 days' WHERE sender = 'pat@ext.test'`);
      await settled(await spool(message({ from: 'pat@ext.test', to: 'vacation@d.test' }).raw, 'pat@ext.test', ['vacation@d.test']));
      expect(await systemMailTo('pat@ext.test')).toHaveLength(2);
      expect(await inbox(vacation)).toHaveLength(3);
    });

    it('never answers lists, bulk, automatic mail, robots or the null sender', async () => {
      const cases: Array<{ from: string; extra: string[] }> = [
        { from: 'list-poster@ext.test', extra: ['List-Id: <news.ext.test>'] },
        { from: 'bulk@ext.test', extra: ['Precedence: bulk'] },
        { from: 'junk@ext.test', extra: ['Precedence: junk'] },
        { from: 'robot@ext.test', extra: ['Auto-Submitted: auto-generated'] },
        { from: 'looped@ext.test', extra: ['X-Loop: vacation@d.test'] },
        { from: 'noreply@ext.test', extra: [] },
        { from: 'mailer-daemon@ext.test', extra: [] },
      ];
      for (const c of cases) {
        await settled(await spool(message({ from: c.from, to: 'vacation@d.test', extra: c.extra }).raw, c.from, ['vacation@d.test']));
        expect(await systemMailTo(c.from), c.from).toHaveLength(0);
      }
      const beforeNull = await pool.query(`SELECT count(*)::int AS n FROM spool_message WHERE source = 'system' AND mail_from = ''`);
      await settled(await spool(message({ from: 'MAILER-DAEMON@ext.test', to: 'vacation@d.test' }).raw, '', ['vacation@d.test']));
      const afterNull = await pool.query(`SELECT count(*)::int AS n FROM spool_message WHERE source = 'system' AND mail_from = ''`);
      expect(afterNull.rows[0].n).toBe(beforeNull.rows[0].n);
      // A person still gets an answer (the rules above are not blocking everything).
      await settled(await spool(message({ from: 'friend2@ext.test', to: 'vacation@d.test', extra: ['Auto-Submitted: no'] }).raw, 'friend2@ext.test', ['vacation@d.test']));
      expect(await systemMailTo('friend2@ext.test')).toHaveLength(1);
    });
  });

  describe('quota', () => {
    it('warns once when usage crosses the threshold, and again only after it dropped', async () => {
      const id = await mailbox('nearly-full@d.test', { quotaBytes: 100_000, usedBytes: 89_000 });
      const big = (n: number) => message({ from: 's@ext.test', to: 'nearly-full@d.test', body: 'x'.repeat(n) }).raw;
      await settled(await spool(big(2_000), 's@ext.test', ['nearly-full@d.test']));
      let sources = await inbox(id);
      expect(sources).toHaveLength(2);
      const warnings = () => sources.filter((s) => s.includes('Auto-Submitted: auto-generated'));
      expect(warnings()).toHaveLength(1);
      const warning = await simpleParser(Buffer.from(warnings()[0], 'utf8'));
      expect(warning.subject).toBe('邮箱空间即将用完（已用 91%） / Your mailbox is almost full (91% used)');
      expect(warning.text).toContain('your mailbox nearly-full@d.test uses 89.2 KB of 97.7 KB (91%).');
      expect(warning.text).toContain('您的邮箱 nearly-full@d.test 已使用 89.2 KB，共 97.7 KB（91%）。');
      expect(warnings()[0].startsWith('Delivered-To: nearly-full@d.test\r\n')).toBe(true);

      await settled(await spool(big(500), 's@ext.test', ['nearly-full@d.test']));
      sources = await inbox(id);
      expect(sources).toHaveLength(3);
      expect(warnings()).toHaveLength(1);

      // Usage drops (the user cleaned up), a delivery sees it, then crossing again warns again.
      await pool.query(`UPDATE mailbox SET used_bytes = 10000 WHERE id = $1`, [id]);
      await settled(await spool(big(100), 's@ext.test', ['nearly-full@d.test']));
      const { rows: [md] } = await pool.query(`SELECT quota_warned_at FROM mailbox_delivery WHERE mailbox_id = $1`, [id]);
      expect(md.quota_warned_at).toBeNull();
      await pool.query(`UPDATE mailbox SET used_bytes = 95000 WHERE id = $1`, [id]);
      await settled(await spool(big(100), 's@ext.test', ['nearly-full@d.test']));
      sources = await inbox(id);
      expect(warnings()).toHaveLength(2);
    });

    it('bounces a message to a full mailbox with a DSN to the sender (delivered locally when the sender is ours)', async () => {
      const sender = await mailbox('writer@d.test');
      const full = await mailbox('full@d.test', { quotaBytes: 1_000, usedBytes: 900 });
      const { raw } = message({ from: 'writer@d.test', to: 'full@d.test', subject: 'too big', body: 'y'.repeat(500) });
      const spoolId = await spool(raw, 'writer@d.test', ['full@d.test'], { authMailboxId: sender });
      const rows = await settled(spoolId);
      expect(rows[0].status).toBe('bounced');
      expect(rows[0].last_error).toMatch(/^5\.2\.2 mailbox full/);
      expect(await inbox(full)).toHaveLength(0);
      // The DSN is itself spooled, then delivered into the sender's INBOX by the same workers.
      const until = Date.now() + 10_000;
      let dsn: string | undefined;
      while (!dsn && Date.now() < until) {
        dsn = (await inbox(sender))[0];
        if (!dsn) await new Promise((r) => setTimeout(r, 50));
      }
      expect(dsn).toBeDefined();
      expect(dsn!.startsWith('Return-Path: <>\r\nDelivered-To: writer@d.test\r\n')).toBe(true);
      expect(dsn).toContain('multipart/report; report-type=delivery-status');
      expect(dsn).toContain('Final-Recipient: rfc822; full@d.test');
      expect(dsn).toContain('Status: 5.2.2');
      expect(dsn).toContain('Subject: too big');
    });
  });

  describe('loops', () => {
    it('bounces a message that already carries Delivered-To for the recipient, or too many Received lines', async () => {
      const id = await mailbox('loopy@d.test');
      const again = message({ from: 's@ext.test', to: 'loopy@d.test', extra: ['Delivered-To: loopy@d.test'] });
      const s1 = await spool(again.raw, 's@ext.test', ['loopy@d.test']);
      expect((await settled(s1))[0]).toMatchObject({ status: 'bounced' });
      expect((await settled(s1))[0].last_error).toMatch(/^5\.4\.6 mail loop/);

      const hops = Array.from({ length: 33 }, (_, i) => `Received: from hop${i}.test by hop${i + 1}.test; ${new Date().toUTCString()}`);
      const far = message({ from: 's@ext.test', to: 'loopy@d.test', extra: hops });
      const s2 = await spool(far.raw, '', ['loopy@d.test']);
      const rows = await settled(s2);
      expect(rows[0]).toMatchObject({ status: 'bounced' });
      expect(rows[0].last_error).toMatch(/^5\.4\.6 too many hops: 34 Received lines \(limit 32\)/);
      expect(await inbox(id)).toHaveLength(0);
      // The null sender gets no DSN.
      const { rows: dsns } = await pool.query(`SELECT 1 FROM spool_recipient WHERE address = '' `);
      expect(dsns).toHaveLength(0);
    });

    it('ends an alias loop (a → b → a) with no delivery and a bounce', async () => {
      await alias('ring-a@d.test', ['ring-b@d.test']);
      await alias('ring-b@d.test', ['ring-a@d.test']);
      const s = await spool(message({ from: 's@ext.test', to: 'ring-a@d.test' }).raw, 's@ext.test', ['ring-a@d.test']);
      expect((await settled(s))[0]).toMatchObject({ status: 'bounced' });
    });
  });

  describe('idempotency', () => {
    it('runs the same job twice, at once and again: one copy per mailbox, one auto-reply', async () => {
      const a = await mailbox('twice-a@d.test');
      const b = await mailbox('twice-b@d.test');
      await pool.query(`INSERT INTO mailbox_delivery (mailbox_id, auto_reply_enabled, auto_reply_body) VALUES ($1, true, 'away')`, [a]);
      await alias('twice@d.test', ['twice-a@d.test', 'twice-b@d.test', 'far@ext.test']);
      const spoolId = await spool(message({ from: 'ask@ext.test', to: 'twice@d.test' }).raw, 'ask@ext.test', ['twice@d.test'], { enqueue: false });
      await Promise.all([delivery.deliverMessage(spoolId), delivery.deliverMessage(spoolId), delivery.deliverMessage(spoolId)]);
      await delivery.deliverMessage(spoolId);
      await pool.query(`UPDATE spool_recipient SET status = 'queued' WHERE message_id = $1 AND kind = 'local'`, [spoolId]);
      await delivery.deliverMessage(spoolId);
      expect(await inbox(a)).toHaveLength(1);
      expect(await inbox(b)).toHaveLength(1);
      expect(await systemMailTo('ask@ext.test')).toHaveLength(1);
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM spool_recipient WHERE message_id = $1 AND address = 'far@ext.test'`, [spoolId]);
      expect(rows[0].n).toBe(1);
    });

    it('survives a crash after the copies are stored and before the recipient state is written', async () => {
      const a = await mailbox('crash-a@d.test');
      const b = await mailbox('crash-b@d.test');
      await pool.query(`INSERT INTO mailbox_delivery (mailbox_id, auto_reply_enabled, auto_reply_body) VALUES ($1, true, 'away')`, [b]);
      await alias('crash@d.test', ['crash-a@d.test', 'crash-b@d.test']);
      const spoolId = await spool(message({ from: 'c@ext.test', to: 'crash@d.test' }).raw, 'c@ext.test', ['crash@d.test'], { enqueue: false });
      const crashing = new LocalDelivery({
        ...postgresDeliveryStores(pool, store, 'mx.dizi.test'), store, blobs, settings: () => settings, hostname: 'mx.dizi.test', queues,
        afterStore: async () => {
          throw new Error('simulated crash');
        },
      });
      await crashing.deliverMessage(spoolId);
      const { rows: [r1] } = await pool.query(`SELECT status, attempts FROM spool_recipient WHERE message_id = $1`, [spoolId]);
      expect(r1.status).not.toBe('delivered');
      expect(await inbox(a)).toHaveLength(1);

      // The sweeper finds it again once due; the re-run stores nothing new and finishes the recipient.
      await pool.query(`UPDATE spool_recipient SET next_attempt_at = now() - interval '1 minute' WHERE message_id = $1`, [spoolId]);
      const sweep = await new SpoolSweeper({ spool: new PgSpoolStore(pool), queues, graceSeconds: 0 }).sweep();
      expect(sweep.deliveryJobs).toBeGreaterThanOrEqual(1);
      const rows = await settled(spoolId);
      const until = Date.now() + 10_000;
      while ((await pool.query(`SELECT status FROM spool_recipient WHERE message_id = $1`, [spoolId])).rows[0].status !== 'delivered') {
        if (Date.now() > until) throw new Error(`not delivered: ${JSON.stringify(rows)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await inbox(a)).toHaveLength(1);
      expect(await inbox(b)).toHaveLength(1);
      expect(await systemMailTo('c@ext.test')).toHaveLength(1);
    });
  });

  describe('batches', () => {
    it('delivers several messages in one call, in order; one it cannot read is deferred alone', async () => {
      const a = await mailbox('batch-a@d.test');
      const b = await mailbox('batch-b@d.test');
      const one = await spool(message({ from: 's@ext.test', to: 'batch-a@d.test', subject: 'batch one' }).raw, 's@ext.test', ['batch-a@d.test'], { enqueue: false });
      const two = await spool(message({ from: 's@ext.test', to: 'batch-a@d.test', subject: 'batch two' }).raw, 's@ext.test', ['batch-a@d.test', 'batch-b@d.test'], { enqueue: false });
      const broken = await spool(message({ from: 's@ext.test', to: 'batch-b@d.test', subject: 'batch three' }).raw, 's@ext.test', ['batch-b@d.test'], { enqueue: false });
      // The spool row holds the blob, but the object is gone: this message fails, the others must not.
      const { rows: [{ blob_hash: lost }] } = await pool.query(`SELECT blob_hash FROM spool_message WHERE id = $1`, [broken]);
      await blobs.delete(lost);

      const results = await delivery.deliverMessages([one, two, broken, one]);
      expect(results).toEqual([{ due: 1, finished: 1 }, { due: 2, finished: 2 }, { due: 1, finished: 0 }, { due: 1, finished: 1 }]);
      const inA = await inbox(a);
      expect(inA.map((s) => s.match(/Subject: (.*)\r\n/)?.[1])).toEqual(['batch one', 'batch two']);
      expect(await inbox(b)).toHaveLength(1);
      const { rows } = await pool.query(
        `SELECT m.id, r.status, m.done_at IS NOT NULL AS done FROM spool_recipient r JOIN spool_message m ON m.id = r.message_id
          WHERE m.id = ANY($1::uuid[]) ORDER BY r.id`,
        [[one, two, broken]],
      );
      expect(rows).toEqual([
        { id: one, status: 'delivered', done: true },
        { id: two, status: 'delivered', done: true },
        { id: two, status: 'delivered', done: true },
        { id: broken, status: 'deferred', done: false },
      ]);
      const { rows: logs } = await pool.query(
        `SELECT message_id, result, recipients FROM mail_log WHERE kind = 'delivery' AND message_id = ANY($1::uuid[]) ORDER BY id`,
        [[one, two, broken]],
      );
      expect(logs).toEqual([
        { message_id: one, result: 'delivered', recipients: ['batch-a@d.test'] },
        { message_id: two, result: 'delivered', recipients: ['batch-a@d.test'] },
        { message_id: two, result: 'delivered', recipients: ['batch-b@d.test'] },
      ]);

      // Run again: nothing is due, nothing is stored twice.
      expect(await delivery.deliverMessages([one, two])).toEqual([{ due: 0, finished: 0 }, { due: 0, finished: 0 }]);
      expect(await inbox(a)).toHaveLength(2);
    });

    it('copies the keys the spool writer keeps apart from the summary into each copy, and stores no search text', async () => {
      const ids = [await mailbox('lexemes@d.test'), await mailbox('lexemes2@d.test')];
      const { raw } = message({ from: 's@ext.test', to: 'lexemes@d.test', subject: 'Lexemes 海淀', body: 'the zebrafish report' });
      const spoolId = await spool(raw, 's@ext.test', ['lexemes@d.test', 'lexemes2@d.test'], { enqueue: false });
      const kept = spoolSummary(await summariseMessage(raw));
      expect(kept.summary.searchText).toBeUndefined();
      expect(parseSearchKeyList(kept.searchKeys)).toEqual(expect.arrayContaining([searchKey('zebrafish'), searchKey('海淀')]));
      await pool.query(`UPDATE spool_message SET summary = $2, search_keys = $3 WHERE id = $1`, [spoolId, JSON.stringify(kept.summary), `{${kept.searchKeys}}`]);
      expect(await delivery.deliverMessages([spoolId])).toEqual([{ due: 2, finished: 2 }]);
      for (const id of ids) {
        const folder = await store.getFolder(id, { name: 'INBOX' });
        expect(await store.search(folder.id, ['zebrafish'])).toHaveLength(1);
        expect(await store.search(folder.id, ['海淀', 'lexemes'])).toHaveLength(1);
        expect(await store.search(folder.id, ['zebra-fish'])).toHaveLength(0);
        const { rows: [m] } = await pool.query(
          `SELECT m.summary, b.keys::text[] AS keys FROM message m JOIN blob_search b ON b.blob_hash = m.blob_hash WHERE m.mailbox_id = $1`, [id],
        );
        expect(m.keys.join(',')).toBe(kept.searchKeys);
        expect(m.summary.searchKeys).toBeUndefined();
        expect(m.summary.searchText).toBeUndefined();
        expect(m.summary.envelope).toBeTruthy();
      }
      // One set of keys for both copies: the blob's, written once.
      const { rows: [shared] } = await pool.query(
        `SELECT count(DISTINCT m.blob_hash)::int AS blobs, (SELECT count(*)::int FROM blob_search b WHERE b.blob_hash = ANY(array_agg(m.blob_hash))) AS key_rows
           FROM message m WHERE m.mailbox_id = ANY($1::uuid[])`, [ids],
      );
      expect(shared).toEqual({ blobs: 1, key_rows: 1 });
    });

    it('indexes a message spooled by an earlier version, which kept the lexemes themselves', async () => {
      const id = await mailbox('older@d.test');
      const { raw } = message({ from: 's@ext.test', to: 'older@d.test', subject: 'Older 朝阳', body: 'an okapi sighting' });
      const spoolId = await spool(raw, 's@ext.test', ['older@d.test'], { enqueue: false });
      const older = { ...spoolSummary(await summariseMessage(raw)).summary, searchTokens: ['older', '朝阳', 'okapi', 'sighting'] };
      await pool.query(`UPDATE spool_message SET summary = $2 WHERE id = $1`, [spoolId, JSON.stringify(older)]);
      expect(await delivery.deliverMessages([spoolId])).toEqual([{ due: 1, finished: 1 }]);
      const folder = await store.getFolder(id, { name: 'INBOX' });
      expect(await store.search(folder.id, ['OKAPI', '朝阳'])).toHaveLength(1);
      expect(await store.search(folder.id, ['zebrafish'])).toHaveLength(0);
    });

    it('stores every message of a busy worker once, many batches at a time', async () => {
      const id = await mailbox('busy@d.test');
      const ids = await Promise.all(Array.from({ length: 40 }, (_, i) =>
        spool(message({ from: 's@ext.test', to: 'busy@d.test', subject: `busy ${i}` }).raw, 's@ext.test', ['busy@d.test'])));
      for (const s of ids) await settled(s);
      const stored = await inbox(id);
      expect(stored).toHaveLength(40);
      expect(new Set(stored.map((s) => s.match(/Subject: (.*)\r\n/)?.[1])).size).toBe(40);
      const folder = await store.getFolder(id, { name: 'INBOX' });
      expect(folder).toMatchObject({ messageCount: 40, uidNext: 41 });
    });
  });

  describe('sweeper and system notices', () => {
    it('enqueues committed work nobody enqueued, closes finished messages and purges old ones (releasing blobs)', async () => {
      const id = await mailbox('swept@d.test');
      const { raw } = message({ from: 's@ext.test', to: 'swept@d.test', body: 'unique body for the purge check' });
      const spoolId = await spool(raw, 's@ext.test', ['swept@d.test'], { enqueue: false });
      const sweeper = new SpoolSweeper({ spool: new PgSpoolStore(pool), queues, graceSeconds: 2 });
      expect((await sweeper.sweep()).deliveryJobs).toBe(0);
      await pool.query(`UPDATE spool_recipient SET next_attempt_at = now() - interval '3 seconds' WHERE message_id = $1`, [spoolId]);
      expect((await sweeper.sweep()).deliveryJobs).toBe(1);
      expect(await settled(spoolId)).toMatchObject([{ status: 'delivered' }]);
      expect(await inbox(id)).toHaveLength(1);

      const { rows: [blob] } = await pool.query(`SELECT b.hash, b.refcount FROM blob b JOIN spool_message m ON m.blob_hash = b.hash WHERE m.id = $1`, [spoolId]);
      await pool.query(`UPDATE spool_message SET done_at = now() - interval '8 days' WHERE id = $1`, [spoolId]);
      const result = await sweeper.sweep();
      expect(result.purged).toBeGreaterThanOrEqual(1);
      expect((await pool.query(`SELECT 1 FROM spool_message WHERE id = $1`, [spoolId])).rows).toHaveLength(0);
      const { rows: [after] } = await pool.query(`SELECT refcount FROM blob WHERE hash = $1`, [blob.hash]);
      expect(Number(after.refcount)).toBe(Number(blob.refcount) - 1);
    });

    it('marks a message done only when every recipient is final', async () => {
      await mailbox('half@d.test');
      const spoolId = await spool(message({ from: 's@ext.test', to: 'half@d.test' }).raw, 's@ext.test', ['half@d.test', 'out@ext.test']);
      await settled(spoolId);
      const sweeper = new SpoolSweeper({ spool: new PgSpoolStore(pool), queues, graceSeconds: 0 });
      await sweeper.sweep();
      expect((await pool.query(`SELECT done_at FROM spool_message WHERE id = $1`, [spoolId])).rows[0].done_at).toBeNull();
      await pool.query(`UPDATE spool_recipient SET status = 'delivered' WHERE message_id = $1`, [spoolId]);
      await sweeper.sweep();
      expect((await pool.query(`SELECT done_at FROM spool_message WHERE id = $1`, [spoolId])).rows[0].done_at).not.toBeNull();
    });

    it('sends the welcome mail once, from the editable template', async () => {
      const id = await mailbox('newbie@d.test', { displayName: 'New Bie', quotaBytes: 1536 * 1024 * 1024 });
      // Stored as the API stores it: a whole kind, both languages, only the placeholders of settings.contract.ts.
      await pool.query(`INSERT INTO system_setting (key, value) VALUES ('templates', $1)`, [
        JSON.stringify({
          welcome: {
            'zh-CN': DEFAULT_MAIL_TEMPLATES.welcome['zh-CN'],
            en: { subject: 'Hi {{displayName}}', body: 'Your address is {{address}}, with {{quota}} at {{domain}}.' },
          },
        }),
      ]);
      expect(await delivery.notices.sendWelcome(id)).toBe(true);
      expect(await delivery.notices.sendWelcome(id)).toBe(false);
      const sources = await inbox(id);
      expect(sources).toHaveLength(1);
      const parsed = await simpleParser(Buffer.from(sources[0], 'utf8'));
      expect(parsed.subject).toBe('欢迎使用您的新邮箱 newbie@d.test / Hi New Bie');
      const body = parsed.text ?? '';
      expect(body).toContain('Your address is newbie@d.test, with 1.5 GB at d.test.');
      expect(body).toContain('您的邮箱 newbie@d.test 已经开通，存储空间为 1.5 GB。');
      expect(body).not.toContain('{{');
      await pool.query(`DELETE FROM system_setting WHERE key = 'templates'`);
    });
  });
});
