/**
 * Wire tests of the inbound listeners (MX, submission with STARTTLS, implicit TLS) with real clients —
 * nodemailer, Python smtplib, swaks and a raw socket — against a node on the real PostgreSQL and Redis.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Queue as BullQueue } from 'bullmq';
import Redis from 'ioredis';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { searchKeys } from '@dizi/domain/search-key';
import { SharedSlots } from '@dizi/mail-store/shared-slots';
import { Queue } from '@dizi/contracts/queues';
import { deliveryJobId, outboundJobId } from '@dizi/contracts/queues';
import { TEST_REDIS_URL } from '@dizi/testing/test-database';
import { startTestNode, TEST_MAILBOX_PASSWORD, TestNode } from './harness';
import { plainAuth, SmtpTalk } from './smtp-talk';

const run = promisify(execFile);
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const QUEUED = new RegExp(`^250 2\\.6\\.0 Ok: queued as (${UUID.source})$`);
const UNKNOWN = '550 5.1.1 Recipient address rejected: mailbox unavailable';
const QUEUED_LINE = new RegExp(`<~  250 2\\.6\\.0 Ok: queued as ${UUID.source}`);
/** General tests share one node and one client IP: keep the connection limits out of their way. */
const ROOMY = { connectionsPerIpPerMinute: 100_000, concurrentConnectionsPerIp: 1000 };

let node: TestNode;
const sql = (text: string, params?: unknown[]) => node.db.dataSource.query(text, params);

async function resetSettings(patch: Record<string, unknown> = {}): Promise<void> {
  await sql(`UPDATE system_setting SET value = $1::jsonb WHERE key = 'smtp'`, [JSON.stringify({ ...ROOMY, ...patch })]);
  await node.ctx.settings.reload();
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function spooled(id: string) {
  const [message] = await sql(`SELECT * FROM spool_message WHERE id = $1`, [id]);
  const recipients = await sql(`SELECT address, kind, domain, status FROM spool_recipient WHERE message_id = $1 ORDER BY address`, [id]);
  const blob = message ? await readAll(await node.ctx.blobs.get(message.blob_hash)) : null;
  return { message, recipients, blob };
}

const spoolCount = async () => Number((await sql(`SELECT count(*)::int AS n FROM spool_message`))[0].n);

/** Splits our Received header off a stored blob. */
function splitReceived(blob: Buffer): { received: string; rest: Buffer } {
  const text = blob.toString('latin1');
  const m = /^Received: [^\r\n]*\r\n(?:\t[^\r\n]*\r\n)+/.exec(text);
  if (!m) throw new Error(`blob does not start with our Received header: ${text.slice(0, 200)}`);
  return { received: m[0], rest: blob.subarray(m[0].length) };
}

function message(subject: string, body = 'Hello there.\r\n'): string {
  return `From: Bob <bob@remote.test>\r\nTo: alice@acme.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@remote.test>\r\n\r\n${body}`;
}

/** nodemailer's SMTPConnection, promisified. */
async function nodemailerSend(opts: { port: number; secure?: boolean; auth?: { user: string; pass: string }; from: string; to: string[]; raw: string }) {
  const conn = new SMTPConnection({ port: opts.port, host: '127.0.0.1', secure: opts.secure, requireTLS: !!opts.auth && !opts.secure, tls: { rejectUnauthorized: false }, name: 'nm.client.test' });
  await new Promise<void>((resolve, reject) => {
    conn.once('error', reject);
    conn.connect(() => resolve());
  });
  try {
    if (opts.auth) await new Promise<void>((resolve, reject) => conn.login(opts.auth, (err) => (err ? reject(err) : resolve())));
    return await new Promise<{ accepted: string[]; rejected: string[]; response: string }>((resolve, reject) =>
      conn.send({ from: opts.from, to: opts.to }, opts.raw, (err, info) => (err ? reject(err) : resolve(info as never))),
    );
  } finally {
    conn.quit();
  }
}

/** EHLO, MAIL FROM and RCPTs on a raw session; returns the talk for more. */
async function envelope(port: number, from: string, to: string[], opts: { tls?: boolean; auth?: [string, string]; starttls?: boolean } = {}) {
  const t = await SmtpTalk.open(port, { tls: opts.tls });
  expect((await t.cmd('EHLO raw.client.test')).code).toBe(250);
  if (opts.starttls) {
    expect((await t.starttls()).code).toBe(220);
    expect((await t.cmd('EHLO raw.client.test')).code).toBe(250);
  }
  if (opts.auth) expect((await t.cmd(`AUTH PLAIN ${plainAuth('', opts.auth[0], opts.auth[1])}`)).line).toBe('235 2.7.0 Authentication successful');
  expect((await t.cmd(`MAIL FROM:<${from}>`)).line).toBe('250 2.1.0 Accepted');
  for (const r of to) expect((await t.cmd(`RCPT TO:<${r}>`)).line).toBe('250 2.1.5 Accepted');
  return t;
}

beforeAll(async () => {
  node = await startTestNode({ settings: ROOMY, smtp: { authFailureDelayMs: 0, tarpitStepMs: 150, dataRateGraceMs: 600 } });
  const acme = await node.seed.tenant('acme');
  const d = await node.seed.domain(acme.id, 'acme.test', { isDefault: true });
  await node.seed.mailbox(d.id, 'alice');
  await node.seed.mailbox(d.id, 'bob');
  await node.seed.mailbox(d.id, 'carol');
  await node.seed.mailbox(d.id, 'dave');
  await node.seed.mailbox(d.id, 'full', undefined, { quotaBytes: 10_000, usedBytes: 10_000 });
  await node.seed.mailbox(d.id, 'small', undefined, { quotaBytes: 10_000, usedBytes: 5_000 });
  await node.seed.mailbox(d.id, 'away', undefined, { status: 'suspended' });
  await node.seed.mailbox(d.id, 'homebody', undefined, { maySendOutside: false });
  await node.seed.mailbox(d.id, 'limited', undefined, { dailySendLimit: 1 });
  await node.seed.alias(d.id, 'sales', ['alice@acme.test']);
  await node.seed.group(d.id, 'team', ['alice@acme.test', 'bob@acme.test']);
  // Refusals delivery would make, to be made at RCPT instead (no backscatter).
  await node.seed.group(d.id, 'board', ['carol@acme.test', 'partner@remote.test'], { postingPolicy: 'members' });
  await node.seed.alias(d.id, 'gone-away', ['away@acme.test']);
  await node.seed.alias(d.id, 'to-full', ['full@acme.test']);
  await node.seed.alias(d.id, 'half-full', ['full@acme.test', 'dave@acme.test']);
  // A shared identity a domain admin granted carol ("send as").
  await node.seed.mailbox(d.id, 'info');
  await sql(`INSERT INTO mailbox_send_as (tenant_id, mailbox_id, address, granted_by)
             SELECT tenant_id, id, 'info@acme.test', 'admin@acme.test' FROM mailbox WHERE address = 'carol@acme.test'`);
  const intra = await node.seed.domain(acme.id, 'intra.test', { localOnly: true });
  await node.seed.mailbox(intra.id, 'ian');
  const catchAll = await node.seed.domain(acme.id, 'catch.test');
  await node.seed.alias(catchAll.id, '*', ['alice@acme.test']);
  const off = await node.seed.domain(acme.id, 'off.test', { status: 'disabled' });
  await node.seed.mailbox(off.id, 'xena');
  const noSmtp = await node.seed.domain(acme.id, 'nosmtp.test', { smtpEnabled: false });
  await node.seed.mailbox(noSmtp.id, 'yuri');
  const gone = await node.seed.tenant('gone', { status: 'suspended' });
  const goneDomain = await node.seed.domain(gone.id, 'gone.test');
  await node.seed.mailbox(goneDomain.id, 'zed');
});

afterAll(async () => {
  await node?.close();
});

afterEach(async () => {
  await resetSettings();
});

describe('inbound MX', () => {
  it('accepts mail for a local mailbox from nodemailer, commits the spool, stores the blob byte for byte and enqueues delivery', async () => {
    const raw = message('first');
    const info = await nodemailerSend({ port: node.ports.smtp, from: 'bob@remote.test', to: ['alice@acme.test'], raw });
    expect(info.accepted).toEqual(['alice@acme.test']);
    const id = QUEUED.exec(info.response)?.[1];
    expect(id, info.response).toBeDefined();

    const { message: m, recipients, blob } = await spooled(id!);
    expect(m).toMatchObject({ mail_from: 'bob@remote.test', source: 'smtp', helo: 'nm.client.test', client_ip: '127.0.0.1', auth_mailbox_id: null });
    expect(Number(m.size)).toBe(blob!.length);
    expect(recipients).toEqual([{ address: 'alice@acme.test', kind: 'local', domain: 'acme.test', status: 'queued' }]);
    expect(m.summary.subject).toBe('first');
    expect(m.summary.messageId).toBe('<first@remote.test>');

    const { received, rest } = splitReceived(blob!);
    expect(rest.toString('latin1')).toBe(raw);
    expect(received).toMatch(new RegExp(`^Received: from nm\\.client\\.test \\((?:\\S+ )?\\[127\\.0\\.0\\.1\\]\\)\r\n\tby mx\\.dizi\\.test with ESMTPS id ${id}\r\n\tfor <alice@acme\\.test>;\r\n\t\\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000\r\n$`));

    const queue = new BullQueue(Queue.Delivery, { connection: new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null }), prefix: `${node.redisPrefix}bull` });
    try {
      const job = await queue.getJob(deliveryJobId({ spoolMessageId: id! }));
      expect(job?.data).toEqual({ spoolMessageId: id });
    } finally {
      await queue.close();
    }

    let log: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 50 && log.length === 0; i++) {
      log = await sql(`SELECT * FROM mail_log WHERE kind = 'session' AND message_id = $1`, [id]);
      if (!log.length) await new Promise((r) => setTimeout(r, 50));
    }
    expect(log[0]).toMatchObject({ result: 'accepted', client_ip: '127.0.0.1', helo: 'nm.client.test', mail_from: 'bob@remote.test', recipients: ['alice@acme.test'] });
  });

  it('holds a message that fits a shared slot there for the blob and summary threads, streams a bigger one, and spools both exactly', async () => {
    const lent = vi.spyOn(SharedSlots.prototype, 'take');
    try {
      const line = (i: number) => `line ${i} of a long message, words to index: ${i % 97 === 0 ? 'zebra' : 'plain'}\r\n`;
      const body = (lines: number) => Array.from({ length: lines }, (_, i) => line(i)).join('');
      // About 310 KB, then about 1.35 MB (past the 1 MB slot).
      const cases = [['fits a slot', body(6000)], ['streams past a slot', body(26_000)]] as const;
      for (const [subject, text] of cases) {
        const raw = message(subject, text);
        const info = await nodemailerSend({ port: node.ports.smtp, from: 'bob@remote.test', to: ['alice@acme.test'], raw });
        const { message: m, blob } = await spooled(QUEUED.exec(info.response)![1]);
        expect(splitReceived(blob!).rest.toString('latin1'), subject).toBe(raw);
        expect(Number(m.size)).toBe(blob!.length);
        expect(m.summary.subject).toBe(subject);
        expect(m.summary.searchKeys).toBeUndefined();
        expect(m.search_keys.map(Number)).toEqual(expect.arrayContaining([...searchKeys(['zebra', 'plain', 'words'])]));
      }
      // Only the first took a slot (the second was too big to be gathered whole), and it has been given back.
      expect(lent.mock.results.map((r) => (r.value as Buffer | null)?.length ?? null)).toEqual([expect.any(Number)]);
      expect(lent.mock.calls[0][0]).toBeGreaterThan(300_000);
      expect(node.ctx.slots!.inUse).toBe(0);
    } finally {
      lent.mockRestore();
    }
  });

  it('spools a message exactly when no shared slot is free (a burst), by streaming it', async () => {
    const busy = vi.spyOn(SharedSlots.prototype, 'take').mockReturnValueOnce(null);
    try {
      const raw = message('no free slot', `${'every slot is out\r\n'.repeat(2000)}`);
      const info = await nodemailerSend({ port: node.ports.smtp, from: 'bob@remote.test', to: ['alice@acme.test'], raw });
      const { message: m, blob } = await spooled(QUEUED.exec(info.response)![1]);
      expect(busy).toHaveBeenCalledTimes(1);
      expect(splitReceived(blob!).rest.toString('latin1')).toBe(raw);
      expect(m.summary.subject).toBe('no free slot');
      expect(node.ctx.slots!.inUse).toBe(0);
    } finally {
      busy.mockRestore();
    }
  });

  it('greets with the host name and the configured text, offers no AUTH and refuses it', async () => {
    await resetSettings({ greeting: 'Welcome to Dizi' });
    const t = await SmtpTalk.open(node.ports.smtp);
    expect(t.greeting.line).toBe('220 mx.dizi.test Welcome to Dizi');
    const ehlo = await t.cmd('EHLO c.test');
    expect(ehlo.lines.some((l) => l.includes('AUTH'))).toBe(false);
    expect(ehlo.lines).toContain('250-STARTTLS');
    expect((await t.cmd(`AUTH PLAIN ${plainAuth('', 'alice@acme.test', TEST_MAILBOX_PASSWORD)}`)).line).toBe('500 5.5.2 Error: command not recognized');
    await t.quit();
  });

  it('resolves aliases, catch-alls and groups, and refuses unknown, disabled, SMTP-off, suspended and tenant-suspended addresses alike', async () => {
    const t = await SmtpTalk.open(node.ports.smtp);
    await t.cmd('EHLO c.test');
    expect((await t.cmd('MAIL FROM:<bob@remote.test>')).line).toBe('250 2.1.0 Accepted');
    for (const ok of ['sales@acme.test', 'team@acme.test', 'anything@catch.test', 'Alice@ACME.test']) {
      expect((await t.cmd(`RCPT TO:<${ok}>`)).line, ok).toBe('250 2.1.5 Accepted');
    }
    for (const refused of ['nobody@acme.test', 'xena@off.test', 'yuri@nosmtp.test', 'away@acme.test']) {
      expect((await t.cmd(`RCPT TO:<${refused}>`)).line, refused).toBe(UNKNOWN);
    }
    await t.quit();
    const t2 = await SmtpTalk.open(node.ports.smtp);
    await t2.cmd('EHLO c.test');
    await t2.cmd('MAIL FROM:<bob@remote.test>');
    expect((await t2.cmd('RCPT TO:<zed@gone.test>')).line).toBe(UNKNOWN);
    expect((await t2.cmd('RCPT TO:<x@remote.test>')).line).toBe('554 5.7.1 Relay access denied');
    await t2.quit();
  });

  it('refuses at RCPT what delivery would refuse: a members-only group to outsiders, aliases to suspended or full mailboxes', async () => {
    const before = await spoolCount();
    const t = await SmtpTalk.open(node.ports.smtp);
    await t.cmd('EHLO outsider.test');
    expect((await t.cmd('MAIL FROM:<stranger@remote.test>')).code).toBe(250);
    expect((await t.cmd('RCPT TO:<board@acme.test>')).line).toBe('550 5.7.1 Recipient address rejected: you may not post to this group');
    expect((await t.cmd('RCPT TO:<gone-away@acme.test>')).line).toBe(UNKNOWN);
    expect((await t.cmd('RCPT TO:<to-full@acme.test>')).line).toBe('452 4.2.2 Recipient mailbox is full, try again later');
    // one of its two mailboxes has room: taken
    expect((await t.cmd('RCPT TO:<half-full@acme.test>')).line).toBe('250 2.1.5 Accepted');
    await t.cmd('RSET');
    expect((await t.cmd('MAIL FROM:<partner@remote.test>')).code).toBe(250);
    expect((await t.cmd('RCPT TO:<board@acme.test>')).line).toBe('250 2.1.5 Accepted');
    await t.cmd('RSET');
    await t.quit();
    // A group too big to walk per RCPT still has its posting policy decided there.
    await resetSettings({ rcptExpansionMaxMembers: 1 });
    const big = await SmtpTalk.open(node.ports.smtp);
    await big.cmd('EHLO outsider.test');
    await big.cmd('MAIL FROM:<stranger@remote.test>');
    expect((await big.cmd('RCPT TO:<board@acme.test>')).line).toBe('550 5.7.1 Recipient address rejected: you may not post to this group');
    await big.cmd('RSET');
    await big.cmd('MAIL FROM:<partner@remote.test>');
    expect((await big.cmd('RCPT TO:<board@acme.test>')).line).toBe('250 2.1.5 Accepted');
    await big.quit();
    expect(await spoolCount()).toBe(before);
  });

  it('keeps one spool row per address when a recipient is given twice (case differs)', async () => {
    const t = await envelope(node.ports.smtp, 'bob@remote.test', ['alice@acme.test', 'ALICE@acme.test', 'sales@acme.test']);
    const reply = await t.data(message('twice'));
    const id = QUEUED.exec(reply.line)?.[1];
    expect(id, reply.line).toBeDefined();
    const { recipients } = await spooled(id!);
    expect(recipients.map((r: { address: string }) => r.address)).toEqual(['alice@acme.test', 'sales@acme.test']);
    await t.quit();
  });

  it('refuses a local sender address from an unauthenticated client (no spoofing of local users)', async () => {
    const t = await SmtpTalk.open(node.ports.smtp);
    await t.cmd('EHLO c.test');
    expect((await t.cmd('MAIL FROM:<alice@acme.test>')).line).toBe('550 5.7.1 Sender address is local; authenticate on the submission port to send as it');
    expect((await t.cmd('MAIL FROM:<whoever@off.test>')).line).toBe('550 5.7.1 Sender address is local; authenticate on the submission port to send as it');
    await t.quit();
  });

  it('refuses a client that claims our own host name in EHLO', async () => {
    const t = await SmtpTalk.open(node.ports.smtp);
    await t.cmd('EHLO mx.dizi.test');
    expect((await t.cmd('MAIL FROM:<bob@remote.test>')).line).toBe('550 5.7.1 HELO/EHLO name is ours, not yours');
    await t.quit();
  });

  it('takes the null sender by default and refuses it when the setting says so', async () => {
    const t = await SmtpTalk.open(node.ports.smtp);
    await t.cmd('EHLO c.test');
    expect((await t.cmd('MAIL FROM:<>')).line).toBe('250 2.1.0 Accepted');
    await t.quit();
    await resetSettings({ allowNullSender: false });
    const t2 = await SmtpTalk.open(node.ports.smtp);
    await t2.cmd('EHLO c.test');
    expect((await t2.cmd('MAIL FROM:<>')).line).toBe('550 5.7.1 Null sender is not accepted here');
    await t2.quit();
  });

  it('refuses senders on the block list, with domain and address patterns', async () => {
    await resetSettings({ senderBlockList: ['@spam.test', 'spam@x.test', 'bulk-*@y.test'] });
    const t = await SmtpTalk.open(node.ports.smtp);
    await t.cmd('EHLO c.test');
    for (const blocked of ['anyone@spam.test', 'spam@x.test', 'bulk-42@y.test']) {
      expect((await t.cmd(`MAIL FROM:<${blocked}>`)).line, blocked).toBe('550 5.7.1 Sender address refused by policy');
    }
    expect((await t.cmd('MAIL FROM:<ham@x.test>')).line).toBe('250 2.1.0 Accepted');
    await t.quit();
  });

  it('refuses a declared SIZE over the limit', async () => {
    await resetSettings({ maxMessageBytes: 50_000 });
    const t = await SmtpTalk.open(node.ports.smtp);
    await t.cmd('EHLO c.test');
    const r = await t.cmd('MAIL FROM:<bob@remote.test> SIZE=60000');
    expect(r.code).toBe(552);
    expect(r.line.startsWith('552 5.3.4 ')).toBe(true);
    await t.quit();
  });

  it('answers over-quota recipients 452 4.2.2, and 552 5.2.2 when the message can never fit', async () => {
    const t = await SmtpTalk.open(node.ports.smtp);
    await t.cmd('EHLO c.test');
    await t.cmd('MAIL FROM:<bob@remote.test>');
    expect((await t.cmd('RCPT TO:<full@acme.test>')).line).toBe('452 4.2.2 Recipient mailbox is full, try again later');
    expect((await t.cmd('RCPT TO:<small@acme.test>')).line).toBe('250 2.1.5 Accepted');
    await t.cmd('RSET');
    await t.cmd('MAIL FROM:<bob@remote.test> SIZE=6000');
    expect((await t.cmd('RCPT TO:<small@acme.test>')).line).toBe('452 4.2.2 Recipient mailbox is full, try again later');
    await t.cmd('RSET');
    await t.cmd('MAIL FROM:<bob@remote.test> SIZE=20000');
    expect((await t.cmd('RCPT TO:<small@acme.test>')).line).toBe('552 5.2.2 Message is larger than the recipient mailbox quota');
    await t.quit();
  });

  it('limits recipients per message with 452 4.5.3', async () => {
    await resetSettings({ maxRecipients: 2 });
    const t = await SmtpTalk.open(node.ports.smtp);
    await t.cmd('EHLO c.test');
    await t.cmd('MAIL FROM:<bob@remote.test>');
    expect((await t.cmd('RCPT TO:<alice@acme.test>')).code).toBe(250);
    expect((await t.cmd('RCPT TO:<bob@acme.test>')).code).toBe(250);
    expect((await t.cmd('RCPT TO:<carol@acme.test>')).line).toBe('452 4.5.3 Too many recipients; at most 2 per message');
    await t.quit();
  });

  it('slows down repeated unknown recipients and ends the session at twice the allowance', async () => {
    await resetSettings({ maxUnknownRecipients: 2 });
    const t = await SmtpTalk.open(node.ports.smtp);
    await t.cmd('EHLO c.test');
    await t.cmd('MAIL FROM:<bob@remote.test>');
    const timed = async (rcpt: string) => {
      const start = Date.now();
      const r = await t.cmd(`RCPT TO:<${rcpt}>`);
      return { line: r.line, ms: Date.now() - start };
    };
    const first = await timed('u1@acme.test');
    expect(first.line).toBe(UNKNOWN);
    expect(first.ms).toBeLessThan(140);
    expect((await timed('u2@acme.test')).line).toBe(UNKNOWN);
    const third = await timed('u3@acme.test');
    expect(third.line).toBe(UNKNOWN);
    expect(third.ms).toBeGreaterThanOrEqual(145);
    // a known address in between is still taken, and does not reset the count
    expect((await t.cmd('RCPT TO:<alice@acme.test>')).code).toBe(250);
    const fourth = await timed('u4@acme.test');
    expect(fourth.line).toBe('421 4.7.0 Too many unknown recipients, closing connection');
    expect(fourth.ms).toBeGreaterThanOrEqual(295);
    expect(await t.waitClosed()).toBe(true);
  });

  it('refuses VRFY and ETRN unless enabled', async () => {
    const t = await SmtpTalk.open(node.ports.smtp);
    await t.cmd('EHLO c.test');
    expect((await t.cmd('VRFY alice@acme.test')).line).toBe('502 5.5.1 VRFY command is disabled');
    expect((await t.cmd('ETRN acme.test')).line).toBe('502 5.5.1 ETRN command is disabled');
    await t.quit();
    await resetSettings({ allowVrfy: true, allowEtrn: true });
    const t2 = await SmtpTalk.open(node.ports.smtp);
    await t2.cmd('EHLO c.test');
    expect((await t2.cmd('VRFY alice@acme.test')).line).toBe('252 2.1.5 Cannot VRFY user, but will accept message and attempt delivery');
    expect((await t2.cmd('ETRN acme.test')).line).toBe('250 2.0.0 Queuing started');
    await t2.quit();
  });

  it('refuses blocked client addresses (CIDR) at connect, unless allow-listed', async () => {
    await resetSettings({ ipBlockList: ['127.0.0.0/8'] });
    const t = await SmtpTalk.open(node.ports.smtp);
    expect(t.greeting.line).toBe('554 5.7.1 Client address refused by policy');
    expect(await t.waitClosed()).toBe(true);
    await resetSettings({ ipBlockList: ['127.0.0.0/8'], ipAllowList: ['127.0.0.1'] });
    const t2 = await SmtpTalk.open(node.ports.smtp);
    expect(t2.greeting.code).toBe(220);
    await t2.quit();
  });

  it('applies a settings change without restart: the next session sees the new SIZE in EHLO', async () => {
    const t = await SmtpTalk.open(node.ports.smtp);
    expect((await t.cmd('EHLO c.test')).lines).toContain(`250 SIZE ${100 * 1024 * 1024}`);
    await t.quit();
    await node.setSettings({ maxMessageBytes: 123_456 }, { publish: true });
    const t2 = await SmtpTalk.open(node.ports.smtp);
    const ehlo = await t2.cmd('EHLO c.test');
    expect(ehlo.lines).toContain('250 SIZE 123456');
    await t2.quit();
  });
});

describe('DATA', () => {
  it('normalises bare LF to CRLF (raw socket) and stores exactly that', async () => {
    const t = await envelope(node.ports.smtp, 'bob@remote.test', ['alice@acme.test']);
    const sent = 'From: bob@remote.test\nTo: alice@acme.test\nSubject: lf\n\nline one\nline two\r\n';
    const reply = await t.data(sent);
    const id = QUEUED.exec(reply.line)?.[1];
    expect(id, reply.line).toBeDefined();
    const { received, rest } = splitReceived((await spooled(id!)).blob!);
    expect(received).toContain(`by mx.dizi.test with ESMTP id ${id}\r\n`);
    expect(rest.toString('latin1')).toBe('From: bob@remote.test\r\nTo: alice@acme.test\r\nSubject: lf\r\n\r\nline one\r\nline two\r\n');
    await t.quit();
  });

  it('refuses a bare CR and a NUL with 554 5.6.0 and spools nothing', async () => {
    const before = await spoolCount();
    const t = await envelope(node.ports.smtp, 'bob@remote.test', ['alice@acme.test']);
    expect((await t.data('Subject: cr\r\n\r\nsmuggled\r.\rMAIL FROM:<x@y>\r\n')).line).toBe('554 5.6.0 Message contains a bare CR (carriage return not followed by line feed)');
    // the session goes on: a new transaction works
    await t.cmd('MAIL FROM:<bob@remote.test>');
    await t.cmd('RCPT TO:<alice@acme.test>');
    expect((await t.data(Buffer.from('Subject: nul\r\n\r\nzero \0 byte\r\n', 'latin1'))).line).toBe('554 5.6.0 Message contains NUL characters, which SMTP does not allow');
    await t.quit();
    expect(await spoolCount()).toBe(before);
  });

  it('swaks: bare LF accepted and normalised, bare CR and NUL refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dizi-swaks-'));
    const swaks = async (name: string, data: Buffer) => {
      const file = join(dir, name);
      await writeFile(file, data);
      const r = await run('swaks', ['--server', '127.0.0.1', '--port', String(node.ports.smtp), '--helo', 'swaks.test', '--from', 'bob@remote.test', '--to', 'alice@acme.test', '--data', file], { encoding: 'utf8' }).catch((e) => e);
      return String(r.stdout);
    };
    const lf = await swaks('lf.eml', Buffer.from('Subject: swaks lf\nX-Test: 1\n\nbody\n', 'latin1'));
    const id = new RegExp(`<-  250 2\\.6\\.0 Ok: queued as (${UUID.source})`).exec(lf)?.[1];
    expect(id, lf).toBeDefined();
    const { rest } = splitReceived((await spooled(id!)).blob!);
    // swaks ends DATA with CRLF.CRLF after the file's last LF, so one empty line follows the body
    expect(rest.toString('latin1')).toBe('Subject: swaks lf\r\nX-Test: 1\r\n\r\nbody\r\n\r\n');

    const before = await spoolCount();
    expect(await swaks('cr.eml', Buffer.from('Subject: swaks cr\r\n\r\nbare\rcr\r\n', 'latin1'))).toContain('<** 554 5.6.0 Message contains a bare CR');
    expect(await swaks('nul.eml', Buffer.from('Subject: swaks nul\r\n\r\nnul\0here\r\n', 'latin1'))).toContain('<** 554 5.6.0 Message contains NUL characters');
    expect(await spoolCount()).toBe(before);
  });

  it('refuses a message over the size limit with 552 5.3.4 and spools nothing', async () => {
    await resetSettings({ maxMessageBytes: 2048 });
    const before = await spoolCount();
    const blobsBefore = Number((await sql(`SELECT count(*)::int AS n FROM blob`))[0].n);
    const t = await envelope(node.ports.smtp, 'bob@remote.test', ['alice@acme.test']);
    expect((await t.data(message('big', `${'x'.repeat(70)}\r\n`.repeat(100)))).line).toBe('552 5.3.4 Message size exceeds the limit of 2048 bytes');
    await t.quit();
    expect(await spoolCount()).toBe(before);
    expect(Number((await sql(`SELECT count(*)::int AS n FROM blob`))[0].n)).toBe(blobsBefore);
  });

  it('refuses a message with maxHops Received headers (554 5.4.6) and takes one with fewer', async () => {
    await resetSettings({ maxHops: 5 });
    const hops = (n: number) => Array.from({ length: n }, (_, i) => `Received: from h${i}.test by h${i + 1}.test; Tue, 2 Dec 2025 10:00:00 +0000\r\n`).join('');
    const t = await envelope(node.ports.smtp, 'bob@remote.test', ['alice@acme.test']);
    expect((await t.data(`${hops(5)}Subject: loop\r\n\r\nbody\r\n`)).line).toBe('554 5.4.6 Too many hops (5 Received headers), possible mail loop');
    await t.cmd('MAIL FROM:<bob@remote.test>');
    await t.cmd('RCPT TO:<alice@acme.test>');
    // "Received:" in the body is not a hop
    expect((await t.data(`${hops(4)}Subject: fine\r\n\r\n${hops(3)}`)).line).toMatch(QUEUED);
    await t.quit();
  });

  it('cuts off DATA slower than the minimum rate with 421 and spools nothing', async () => {
    await resetSettings({ minDataRateBytesPerSecond: 1000 });
    const before = await spoolCount();
    const t = await envelope(node.ports.smtp, 'bob@remote.test', ['alice@acme.test']);
    expect((await t.cmd('DATA')).code).toBe(354);
    t.write('Subject: slow\r\n');
    const r = await t.read();
    expect(r.line).toBe('421 4.4.2 Data rate below 1000 bytes per second, closing connection');
    expect(await t.waitClosed()).toBe(true);
    expect(await spoolCount()).toBe(before);
    let log: Array<{ result: string; reason: string }> = [];
    for (let i = 0; i < 50 && !log.length; i++) {
      log = await sql(`SELECT result, reason FROM mail_log WHERE reason LIKE '%Data rate below%'`);
      if (!log.length) await new Promise((res) => setTimeout(res, 50));
    }
    expect(log[0]?.result).toBe('abandoned');
  });
});

describe('submission', () => {
  it('nodemailer: STARTTLS, AUTH, relay to a remote domain and a local copy; counts the send and enqueues per destination', async () => {
    const raw = message('submitted').replace('From: Bob <bob@remote.test>', 'From: Alice <alice@acme.test>');
    const info = await nodemailerSend({
      port: node.ports.submission,
      auth: { user: 'alice@acme.test', pass: TEST_MAILBOX_PASSWORD },
      from: 'alice@acme.test',
      to: ['carol@remote.test', 'bob@acme.test', 'dan@other.test'],
      raw,
    });
    const id = QUEUED.exec(info.response)?.[1];
    expect(id, info.response).toBeDefined();
    const { message: m, recipients, blob } = await spooled(id!);
    const [alice] = await sql(`SELECT id FROM mailbox WHERE address = 'alice@acme.test'`);
    expect(m).toMatchObject({ source: 'submission', auth_mailbox_id: alice.id, mail_from: 'alice@acme.test' });
    expect(recipients).toEqual([
      { address: 'bob@acme.test', kind: 'local', domain: 'acme.test', status: 'queued' },
      { address: 'carol@remote.test', kind: 'remote', domain: 'remote.test', status: 'queued' },
      { address: 'dan@other.test', kind: 'remote', domain: 'other.test', status: 'queued' },
    ]);
    const { received, rest } = splitReceived(blob!);
    expect(received).toContain(`with ESMTPSA id ${id};`);
    expect(received).not.toContain('for <');
    expect(rest.toString('latin1')).toBe(raw);
    const [count] = await sql(`SELECT messages FROM send_count WHERE mailbox_id = $1`, [alice.id]);
    expect(count.messages).toBe(1);

    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const outbound = new BullQueue(Queue.Outbound, { connection: redis, prefix: `${node.redisPrefix}bull` });
    try {
      expect((await outbound.getJob(outboundJobId({ spoolMessageId: id!, domain: 'remote.test' }, 0)))?.data).toEqual({ spoolMessageId: id, domain: 'remote.test' });
      expect((await outbound.getJob(outboundJobId({ spoolMessageId: id!, domain: 'other.test' }, 0)))?.data).toEqual({ spoolMessageId: id, domain: 'other.test' });
    } finally {
      await outbound.close();
    }
  });

  it('nodemailer: implicit TLS port with AUTH LOGIN', async () => {
    const conn = new SMTPConnection({ port: node.ports.submissions, host: '127.0.0.1', secure: true, tls: { rejectUnauthorized: false }, name: 'nm.client.test' });
    await new Promise<void>((resolve, reject) => {
      conn.once('error', reject);
      conn.connect(() => resolve());
    });
    await new Promise<void>((resolve, reject) => conn.login({ user: 'bob@acme.test', pass: TEST_MAILBOX_PASSWORD, method: 'LOGIN' }, (err) => (err ? reject(err) : resolve())));
    const info = await new Promise<{ response: string }>((resolve, reject) =>
      conn.send({ from: 'bob@acme.test', to: ['alice@acme.test'] }, message('tls').replace('bob@remote.test', 'bob@acme.test'), (err, i) => (err ? reject(err) : resolve(i as never))),
    );
    conn.quit();
    expect(info.response).toMatch(QUEUED);
  });

  it('does not offer AUTH before STARTTLS, refuses it with 538 and requires AUTH for MAIL', async () => {
    const t = await SmtpTalk.open(node.ports.submission);
    const ehlo = await t.cmd('EHLO c.test');
    expect(ehlo.lines.some((l) => l.includes('AUTH'))).toBe(false);
    expect(ehlo.lines).toContain('250-STARTTLS');
    expect((await t.cmd(`AUTH PLAIN ${plainAuth('', 'alice@acme.test', TEST_MAILBOX_PASSWORD)}`)).line).toBe('538 5.7.0 Error: Must issue a STARTTLS command first');
    expect((await t.cmd('MAIL FROM:<alice@acme.test>')).line).toBe('530 5.7.0 Error: authentication Required');
    await t.starttls();
    const ehlo2 = await t.cmd('EHLO c.test');
    expect(ehlo2.lines.some((l) => /AUTH PLAIN LOGIN$/.test(l))).toBe(true);
    await t.quit();
  });

  it('Python smtplib: AUTH refused before TLS, AUTH PLAIN after STARTTLS, message sent', async () => {
    const script = `
import smtplib, ssl, base64, json, sys
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
out = {}
s = smtplib.SMTP('127.0.0.1', port, local_hostname='py.client.test')
s.ehlo()
out['auth_offered_before_tls'] = s.has_extn('auth')
code, msg = s.docmd('AUTH', 'PLAIN ' + base64.b64encode(('\\0' + user + '\\0' + pw).encode()).decode())
out['auth_before_tls'] = [code, msg.decode()]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s.starttls(context=ctx)
s.ehlo()
out['auth_after_tls'] = s.esmtp_features.get('auth', '').strip()
code, msg = s.login(user, pw)
out['login'] = [code, msg.decode()]
msg = b'From: ' + user.encode() + b'\\r\\nTo: bob@acme.test\\r\\nSubject: from python\\r\\n\\r\\nhi\\r\\n'
out['refused'] = s.sendmail(user, ['bob@acme.test'], msg)
s.quit()
print(json.dumps(out))
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, String(node.ports.submission), 'carol@acme.test', TEST_MAILBOX_PASSWORD]);
    const out = JSON.parse(stdout);
    expect(out).toEqual({
      auth_offered_before_tls: false,
      auth_before_tls: [538, '5.7.0 Error: Must issue a STARTTLS command first'],
      auth_after_tls: 'PLAIN LOGIN',
      login: [235, '2.7.0 Authentication successful'],
      refused: {},
    });
    const rows = await sql(`SELECT m.source FROM spool_message m JOIN spool_recipient r ON r.message_id = m.id WHERE m.summary->>'subject' = 'from python'`);
    expect(rows).toEqual([{ source: 'submission' }]);
  });

  it('refuses an authorisation identity other than the authenticated user', async () => {
    const t = await SmtpTalk.open(node.ports.submissions, { tls: true });
    await t.cmd('EHLO c.test');
    expect((await t.cmd(`AUTH PLAIN ${plainAuth('bob@acme.test', 'alice@acme.test', TEST_MAILBOX_PASSWORD)}`)).line).toBe('535 5.7.8 Authorisation identity must be your own address');
    // their own address (or login name) as authzid is fine
    expect((await t.cmd(`AUTH PLAIN ${plainAuth('alice', 'alice@acme.test', TEST_MAILBOX_PASSWORD)}`)).line).toBe('235 2.7.0 Authentication successful');
    await t.quit();
  });

  it('counts failed AUTH and disconnects at maxAuthFailures', async () => {
    await resetSettings({ maxAuthFailures: 3 });
    const t = await SmtpTalk.open(node.ports.submissions, { tls: true });
    await t.cmd('EHLO c.test');
    const bad = () => t.cmd(`AUTH PLAIN ${plainAuth('', 'dave@acme.test', 'wrong-password')}`);
    expect((await bad()).line).toBe('535 5.7.8 Authentication credentials invalid');
    expect((await bad()).line).toBe('535 5.7.8 Authentication credentials invalid');
    expect((await bad()).line).toBe('421 4.7.0 Too many failed authentication attempts, closing connection');
    expect(await t.waitClosed()).toBe(true);
  });

  it('lets a user send as their own address or an alias of theirs, never as another local user', async () => {
    const t = await SmtpTalk.open(node.ports.submissions, { tls: true });
    await t.cmd('EHLO c.test');
    await t.cmd(`AUTH PLAIN ${plainAuth('', 'alice@acme.test', TEST_MAILBOX_PASSWORD)}`);
    expect((await t.cmd('MAIL FROM:<bob@acme.test>')).line).toBe('553 5.7.1 Sender address rejected: not owned by user alice@acme.test');
    expect((await t.cmd('MAIL FROM:<team@acme.test>')).line).toBe('553 5.7.1 Sender address rejected: not owned by user alice@acme.test');
    expect((await t.cmd('MAIL FROM:<sales@acme.test>')).line).toBe('250 2.1.0 Accepted');
    await t.cmd('RSET');
    expect((await t.cmd('MAIL FROM:<alice@acme.test>')).line).toBe('250 2.1.0 Accepted');
    await t.quit();
  });

  it('refuses any address not the user\'s own, outside ones too, and the null sender, with 553 5.7.1 (swaks)', async () => {
    const swaks = async (from: string, user = 'alice@acme.test') => {
      const r = await run('swaks', [
        '--server', '127.0.0.1', '--port', String(node.ports.submission), '--tls', '--auth', 'PLAIN', '--auth-user', user,
        '--auth-password', TEST_MAILBOX_PASSWORD, '--from', from || '<>', '--to', 'bob@acme.test', '--header', `From: ${from || 'nobody@acme.test'}`,
      ], { encoding: 'utf8' }).catch((e) => e);
      return String(r.stdout);
    };
    const before = await spoolCount();
    expect(await swaks('ceo@bigbank.example')).toContain('<~* 553 5.7.1 Sender address rejected: not owned by user alice@acme.test');
    expect(await swaks('')).toContain('<~* 553 5.7.1 Null sender is not accepted from signed-in users');
    // a "send as" identity is carol's, not alice's
    expect(await swaks('info@acme.test')).toContain('<~* 553 5.7.1 Sender address rejected: not owned by user alice@acme.test');
    expect(await spoolCount()).toBe(before);
    expect(await swaks('info@acme.test', 'carol@acme.test')).toMatch(QUEUED_LINE);
  });

  it('refuses a From: header that is not the user\'s own with 553 5.7.1 before the final reply (nodemailer); takes her own, an alias and a granted identity', async () => {
    const send = (user: string, from: string, fromHeader: string) => nodemailerSend({
      port: node.ports.submission, auth: { user, pass: TEST_MAILBOX_PASSWORD }, from, to: ['bob@acme.test'],
      raw: `From: ${fromHeader}\r\nTo: bob@acme.test\r\nSubject: who is this\r\n\r\nHello.\r\n`,
    }).then((i) => i.response, (e: { response?: string }) => e.response ?? String(e));
    const before = await spoolCount();
    const refused = '553 5.7.1 From: header address rejected: not owned by user alice@acme.test';
    expect(await send('alice@acme.test', 'alice@acme.test', 'The CEO <ceo@bigbank.example>')).toBe(refused);
    expect(await send('alice@acme.test', 'alice@acme.test', 'Bob <bob@acme.test>')).toBe(refused);
    expect(await send('alice@acme.test', 'alice@acme.test', '"alice@acme.test" <ceo@bigbank.example>')).toBe(refused);
    expect(await send('alice@acme.test', 'alice@acme.test', 'Alice <alice@acme.test>, Bob <bob@acme.test>')).toBe(refused);
    expect(await spoolCount()).toBe(before);
    expect(await send('alice@acme.test', 'alice@acme.test', 'Alice <ALICE@acme.test>')).toMatch(QUEUED);
    expect(await send('alice@acme.test', 'sales@acme.test', 'Sales <sales@acme.test>')).toMatch(QUEUED);
    expect(await send('carol@acme.test', 'carol@acme.test', 'Info desk <info@acme.test>')).toMatch(QUEUED);
  });

  it('denies relaying to users who may not send outside and to local-only domains', async () => {
    for (const user of ['homebody@acme.test', 'ian@intra.test']) {
      const t = await SmtpTalk.open(node.ports.submissions, { tls: true });
      await t.cmd('EHLO c.test');
      expect((await t.cmd(`AUTH PLAIN ${plainAuth('', user, TEST_MAILBOX_PASSWORD)}`)).code).toBe(235);
      await t.cmd(`MAIL FROM:<${user}>`);
      expect((await t.cmd('RCPT TO:<someone@remote.test>')).line, user).toBe('554 5.7.1 Relay access denied');
      expect((await t.cmd('RCPT TO:<alice@acme.test>')).line, user).toBe('250 2.1.5 Accepted');
      await t.quit();
    }
  });

  it('enforces the daily send limit with 450 4.7.1', async () => {
    const t = await envelope(node.ports.submissions, 'limited@acme.test', ['alice@acme.test'], { tls: true, auth: ['limited@acme.test', TEST_MAILBOX_PASSWORD] });
    expect((await t.data(message('one of one').replace('From: Bob <bob@remote.test>', 'From: <limited@acme.test>'))).line).toMatch(QUEUED);
    expect((await t.cmd('MAIL FROM:<limited@acme.test>')).line).toBe('450 4.7.1 Daily sending limit of 1 messages reached, try again tomorrow');
    await t.quit();
  });
});

describe('connection limits', () => {
  let limited: TestNode;
  beforeAll(async () => {
    limited = await startTestNode({ settings: { connectionsPerIpPerMinute: 32, concurrentConnectionsPerIp: 32 } });
  });
  afterAll(async () => {
    await limited?.close();
  });

  it('takes 32 connections per minute from one address and refuses the 33rd with 421', async () => {
    for (let i = 0; i < 32; i++) {
      const t = await SmtpTalk.open(limited.ports.smtp);
      expect(t.greeting.code, `connection ${i + 1}`).toBe(220);
      await t.quit();
    }
    const t = await SmtpTalk.open(limited.ports.smtp);
    expect(t.greeting.line).toBe('421 4.7.0 Too many connections from your address this minute, try again later');
    expect(await t.waitClosed()).toBe(true);
  });

  it('refuses connections over the concurrent limit and frees the slot when one closes', async () => {
    // a fresh minute window is not needed: the per-minute limit is raised, the concurrent one lowered
    await limited.setSettings({ connectionsPerIpPerMinute: 10_000, concurrentConnectionsPerIp: 2 });
    const a = await SmtpTalk.open(limited.ports.submission);
    const b = await SmtpTalk.open(limited.ports.submission);
    expect([a.greeting.code, b.greeting.code]).toEqual([220, 220]);
    const c = await SmtpTalk.open(limited.ports.submission);
    expect(c.greeting.line).toBe('421 4.7.0 Too many concurrent connections from your address, try again later');
    await a.quit();
    await a.waitClosed();
    await new Promise((r) => setTimeout(r, 100));
    const d = await SmtpTalk.open(limited.ports.submission);
    expect(d.greeting.code).toBe(220);
    await d.quit();
    await b.quit();
  });
});
