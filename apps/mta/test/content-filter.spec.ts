/**
 * Virus and spam verdicts before the final reply to DATA, through the whole node (smtp + delivery roles) with real
 * daemons started once for this file: clamd with a test signature database, spamd with the package's rules plus a
 * marker rule. Clients are nodemailer's SMTPConnection over the MX and submission listeners.
 */
import { createServer, type Server, type Socket } from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import {
  Clamd, EICAR, EICAR_SIGNATURE, ScannerDaemon, SPAM_MARKER, SPAM_MARKER_RULE, startClamd, startSpamd,
} from '@dizi/testing/scanner-daemons';
import { startTestNode, storedCopies, TEST_MAILBOX_PASSWORD, type TestNode } from './harness';
import { until } from '@dizi/testing/until';

let node: TestNode;
let clamd: Clamd;
let spamd: ScannerDaemon;
/** Accepts connections and never answers: a scanner that hangs. */
let silent: Server;
let silentPort: number;
const silentSockets: Socket[] = [];
/** A loopback port nothing listens on: a scanner that is down. */
let closedPort: number;
let counter = 0;

const sql = (text: string, params?: unknown[]) => node.db.dataSource.query(text, params);
const ROOMY = { connectionsPerIpPerMinute: 100_000, concurrentConnectionsPerIp: 1000 };
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** The settings every test starts from: both scanners on, pointed at this file's daemons. */
function base(): Partial<SmtpSettings> {
  return {
    ...ROOMY,
    antivirusEnabled: true,
    antivirusAddress: clamd.address,
    antispamEnabled: true,
    antispamAddress: spamd.address,
    antivirusAction: 'reject',
    antispamRejectScore: 15,
    antispamJunkScore: 5,
    // Quarantine (the seed's "delete" threshold) has its own spec, quarantine-wire.spec.ts.
    antispamQuarantineScore: 1000,
    antispamHeaderScore: -1000,
    antispamMaxBytes: 1024 * 1024,
    antivirusOnSubmission: true,
    antispamOnSubmission: false,
    scannerFailureAction: 'defer',
    scannerTimeoutSeconds: 30,
    // Only the scanners' header lines here; Authentication-Results have their own spec (mail-auth-wire.spec.ts).
    mailAuthEnabled: false,
  };
}

/** Replaces the stored settings and waits until the node has them, announced on Redis the way the API does. */
async function settings(patch: Partial<SmtpSettings> = {}): Promise<void> {
  await sql(`UPDATE system_setting SET value = '{}'::jsonb WHERE key = 'smtp'`);
  await node.setSettings({ ...base(), ...patch }, { publish: true });
}

function mail(o: { from?: string; to?: string; subject?: string; body?: string; attachment?: { name: string; content: string } } = {}): { raw: string; messageId: string } {
  const messageId = `<cf${++counter}.${Date.now()}@remote.test>`;
  const head = [
    `From: ${o.from ?? 'Bob Sender <bob@remote.test>'}`, `To: ${o.to ?? 'alice@acme.test'}`, `Subject: ${o.subject ?? 'Lunch on Friday'}`,
    `Date: ${new Date().toUTCString()}`, `Message-ID: ${messageId}`, 'MIME-Version: 1.0',
  ];
  const body = o.body ?? 'Hi Alice,\r\n\r\nShall we meet for lunch on Friday at noon?\r\n\r\nBob';
  if (!o.attachment) return { messageId, raw: [...head, 'Content-Type: text/plain; charset=us-ascii', '', body, ''].join('\r\n') };
  const b64 = Buffer.from(o.attachment.content).toString('base64').replace(/.{76}/g, '$&\r\n');
  return {
    messageId,
    raw: [
      ...head, 'Content-Type: multipart/mixed; boundary="part"', '', '--part', 'Content-Type: text/plain; charset=us-ascii', '', body,
      '--part', `Content-Type: application/octet-stream; name="${o.attachment.name}"`, 'Content-Transfer-Encoding: base64',
      `Content-Disposition: attachment; filename="${o.attachment.name}"`, '', b64, '--part--', '',
    ].join('\r\n'),
  };
}

interface Sent {
  code: number;
  /** The final reply line. */
  response: string;
  spoolId: string | null;
  ms: number;
}

/** One message with nodemailer's SMTP client; the final reply whether it was accepted or not. */
async function send(o: { raw: string; from?: string; to?: string[]; submission?: boolean }): Promise<Sent> {
  const submission = o.submission ?? false;
  const conn = new SMTPConnection({
    port: submission ? node.ports.submission : node.ports.smtp, host: '127.0.0.1', requireTLS: submission, tls: { rejectUnauthorized: false }, name: 'client.remote.test',
  });
  await new Promise<void>((resolve, reject) => {
    conn.once('error', reject);
    conn.connect(() => resolve());
  });
  const started = Date.now();
  try {
    if (submission) await new Promise<void>((resolve, reject) => conn.login({ user: 'alice@acme.test', pass: TEST_MAILBOX_PASSWORD }, (err) => (err ? reject(err) : resolve())));
    const info = await new Promise<{ response: string }>((resolve, reject) =>
      conn.send({ from: o.from ?? (submission ? 'alice@acme.test' : 'bob@remote.test'), to: o.to ?? ['alice@acme.test'] }, o.raw, (err, i) => (err ? reject(err) : resolve(i as never))));
    return { code: Number(info.response.slice(0, 3)), response: info.response, spoolId: /queued as (\S+)/.exec(info.response)?.[1] ?? null, ms: Date.now() - started };
  } catch (err) {
    const e = err as { responseCode?: number; response?: string };
    if (!e.responseCode) throw err;
    return { code: e.responseCode, response: e.response ?? '', spoolId: null, ms: Date.now() - started };
  } finally {
    conn.quit();
  }
}

/** The delivered copies of one spooled message, once its local recipients are settled (side effects such as auto-replies done). */
const delivered = (spoolId: string, copies = 1) => storedCopies(node, spoolId, copies);

const counts = async () => {
  const [r] = await sql(`SELECT (SELECT count(*)::int FROM spool_message) AS spooled, (SELECT count(*)::int FROM message) AS stored`);
  return r as { spooled: number; stored: number };
};

/** The last mail log row now: rows written later have greater ids. */
const logMark = async (): Promise<number> => Number((await sql(`SELECT coalesce(max(id), 0) AS id FROM mail_log`))[0].id);

/** The session row of the mail log for a message (by spool id), or the first with `result` written after `after`. */
async function sessionLog(where: { spoolId: string } | { result: string; after: number }): Promise<{ result: string; reason: string }> {
  return until('the mail log row', async () => {
    const rows = 'spoolId' in where
      ? await sql(`SELECT result, reason FROM mail_log WHERE kind = 'session' AND message_id = $1`, [where.spoolId])
      : await sql(`SELECT result, reason FROM mail_log WHERE kind = 'session' AND result = $1 AND id > $2 ORDER BY id LIMIT 1`, [where.result, where.after]);
    return rows[0];
  });
}

async function source(messageId: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await node.ctx.store.getMessageSource(messageId)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('latin1');
}

beforeAll(async () => {
  [clamd, spamd] = await Promise.all([startClamd(), startSpamd()]);
  console.info(`clamd answered PING ${clamd.startMs} ms after spawn, spamd ${spamd.startMs} ms`);
  silent = createServer((s) => {
    silentSockets.push(s);
    s.resume();
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as { port: number }).port;
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));

  node = await startTestNode({ roles: ['smtp', 'delivery'], settings: base(), smtp: { tarpitStepMs: 0 } });
  const acme = await node.seed.tenant('acme');
  const d = await node.seed.domain(acme.id, 'acme.test', { isDefault: true });
  await node.seed.mailbox(d.id, 'alice');
  const bob = await node.seed.mailbox(d.id, 'bob');
  await sql(`INSERT INTO mailbox_delivery (mailbox_id, auto_reply_enabled, auto_reply_body) VALUES ($1, true, 'I am away.')`, [bob.id]);
}, 180_000);

afterAll(async () => {
  await node?.close();
  for (const s of silentSockets) s.destroy();
  if (silent) await new Promise<void>((r) => silent.close(() => r()));
  await Promise.all([clamd?.stop(), spamd?.stop()]);
});

describe('content filter on the MX listener', () => {
  it('delivers a clean message to INBOX with X-Virus-* and X-Spam-* headers, and logs the verdict', async () => {
    await settings();
    const m = mail();
    const sent = await send({ raw: m.raw });
    expect(sent.response).toMatch(new RegExp(`^250 2\\.6\\.0 Ok: queued as ${UUID.source}$`));
    const [copy] = await delivered(sent.spoolId!);
    expect(copy).toMatchObject({ address: 'alice@acme.test', folder: 'INBOX', special_use: 'inbox' });
    expect(copy.header_prefix).toMatch(
      /^Return-Path: <bob@remote\.test>\r\nDelivered-To: alice@acme\.test\r\nX-Virus-Scanned: ClamAV at mx\.dizi\.test\r\nX-Virus-Status: Clean\r\nX-Spam-Score: -?\d+\.\d\r\nX-Spam-Level: \**\r\nX-Spam-Status: No, score=-?\d+\.\d required=5\.0 tests=[A-Z0-9_,\r\n\t]+\r\n$/,
    );
    expect(copy.header_prefix).not.toContain('X-Spam-Flag');
    // What IMAP and POP3 serve: our lines first, then the message as received.
    const served = await source(copy.id);
    expect(served.startsWith(copy.header_prefix)).toBe(true);
    expect(served).toContain(`Message-ID: ${m.messageId}`);
    const [row] = await sql(`SELECT spam_score, filter_folder FROM spool_message WHERE id = $1`, [sent.spoolId]);
    expect(row.filter_folder).toBeNull();
    expect(row.spam_score).toBeLessThan(5);
    const log = await sessionLog({ spoolId: sent.spoolId! });
    expect(log.result).toBe('accepted');
    expect(log.reason).toMatch(/^content: virus: clean; spam: score -?\d+\.\d \([A-Z0-9_,]+\) \(scanned in \d+ ms\)$/);
  });

  it('refuses a message with EICAR in an attachment with 554 5.7.1 naming the signature, and stores nothing', async () => {
    await settings();
    const before = await counts();
    const mark = await logMark();
    const sent = await send({ raw: mail({ subject: 'invoice', attachment: { name: 'invoice.com', content: EICAR } }).raw });
    expect(sent.response).toBe(`554 5.7.1 Message rejected: virus found (${EICAR_SIGNATURE})`);
    expect(await counts()).toEqual(before);
    const log = await sessionLog({ result: 'rejected', after: mark });
    expect(log.reason).toContain(`554 5.7.1 Message rejected: virus found (${EICAR_SIGNATURE}); content: virus: ${EICAR_SIGNATURE} found, reject`);
  });

  it('files infected mail in the Virus folder when the action says so (changed without restart), and sends no auto-reply', async () => {
    await settings({ antivirusAction: 'virus_folder' });
    const sent = await send({ raw: mail({ to: 'bob@acme.test', attachment: { name: 'x.com', content: EICAR } }).raw, from: 'virus-sender@remote.test', to: ['bob@acme.test'] });
    expect(sent.code).toBe(250);
    const [copy] = await delivered(sent.spoolId!);
    expect(copy).toMatchObject({ address: 'bob@acme.test', folder: 'Virus', special_use: 'virus' });
    expect(copy.header_prefix).toContain(`X-Virus-Status: Infected (${EICAR_SIGNATURE})\r\n`);
    expect(await sql(`SELECT 1 FROM auto_reply_sent WHERE sender = 'virus-sender@remote.test'`)).toEqual([]);
  });

  it('drops infected mail with a 250 when the action is discard, keeping nothing', async () => {
    await settings({ antivirusAction: 'discard' });
    const before = await counts();
    const mark = await logMark();
    const sent = await send({ raw: mail({ attachment: { name: 'x.com', content: EICAR } }).raw });
    expect(sent.response).toBe(`250 2.7.0 Ok: discarded, virus found (${EICAR_SIGNATURE})`);
    expect(await counts()).toEqual(before);
    expect((await sessionLog({ result: 'discarded', after: mark })).reason).toContain(`content: virus: ${EICAR_SIGNATURE} found, discard`);
  });

  it('delivers spam above the Junk score to Junk, flagged, with no auto-reply (while a clean message gets one)', async () => {
    await settings({ antispamRejectScore: 50 });
    const spam = await send({ raw: mail({ to: 'bob@acme.test', body: `Cheap offer ${SPAM_MARKER} today` }).raw, from: 'spammer@remote.test', to: ['bob@acme.test'] });
    expect(spam.code).toBe(250);
    const [junk] = await delivered(spam.spoolId!);
    expect(junk).toMatchObject({ address: 'bob@acme.test', folder: 'Junk', special_use: 'junk' });
    expect(junk.header_prefix).toMatch(/X-Virus-Status: Clean\r\nX-Spam-Flag: YES\r\nX-Spam-Score: (?:1[5-9]|2\d)\.\d\r\nX-Spam-Level: \*{15,}\r\nX-Spam-Status: Yes, score=(?:1[5-9]|2\d)\.\d required=5\.0 tests=/);
    expect(junk.header_prefix.replace(/\r\n\t/g, '')).toContain(SPAM_MARKER_RULE);
    const ham = await send({ raw: mail({ to: 'bob@acme.test' }).raw, from: 'friend@remote.test', to: ['bob@acme.test'] });
    expect((await delivered(ham.spoolId!))[0].folder).toBe('INBOX');
    await until('the auto-reply to the clean message', async () => (await sql(`SELECT 1 FROM auto_reply_sent WHERE sender = 'friend@remote.test'`)).length > 0);
    expect(await sql(`SELECT 1 FROM auto_reply_sent WHERE sender = 'spammer@remote.test'`)).toEqual([]);
    expect((await sessionLog({ spoolId: spam.spoolId! })).reason).toMatch(/spam: score (?:1[5-9]|2\d)\.\d \(.*DIZI_TEST_SPAM.*\), Junk/);
  });

  it('refuses spam at or above the reject score with 550 5.7.1 and stores nothing', async () => {
    await settings();
    const before = await counts();
    const sent = await send({ raw: mail({ body: `Cheap offer ${SPAM_MARKER} today` }).raw });
    expect(sent.response).toBe('550 5.7.1 Message rejected as spam');
    expect(await counts()).toEqual(before);
  });

  it('scans with clamd over its unix socket too', async () => {
    await settings({ antivirusAddress: clamd.socket });
    const sent = await send({ raw: mail({ attachment: { name: 'e.com', content: EICAR } }).raw });
    expect(sent.response).toBe(`554 5.7.1 Message rejected: virus found (${EICAR_SIGNATURE})`);
  });

  it('notes a message too big to spam-scan instead of scanning it', async () => {
    await settings({ antispamMaxBytes: 1024 });
    const sent = await send({ raw: mail({ body: `${'A long line of text for the size limit.\r\n'.repeat(60)}${SPAM_MARKER}` }).raw });
    expect(sent.code).toBe(250);
    const [copy] = await delivered(sent.spoolId!);
    expect(copy.folder).toBe('INBOX');
    expect(copy.header_prefix).toContain('X-Virus-Status: Clean\r\nX-Spam-Status: Unknown, not scanned (larger than 1024 bytes)\r\n');
  });
});

describe('when a scanner is down or hangs', () => {
  it('answers 451 4.7.1 and stores nothing when clamd is down', async () => {
    await settings({ antivirusAddress: `127.0.0.1:${closedPort}` });
    const before = await counts();
    const mark = await logMark();
    const sent = await send({ raw: mail().raw });
    expect(sent.response).toBe('451 4.7.1 Virus scanner temporarily unavailable, try again later');
    expect(await counts()).toEqual(before);
    expect((await sessionLog({ result: 'rejected', after: mark })).reason).toContain('virus: scanner failed, clamd: connect ECONNREFUSED');
  });

  it('answers 451 4.7.1 after the timeout when spamd never answers, and stores nothing', async () => {
    await settings({ antispamAddress: `127.0.0.1:${silentPort}`, scannerTimeoutSeconds: 1 });
    const before = await counts();
    const sent = await send({ raw: mail().raw });
    expect(sent.response).toBe('451 4.7.1 Spam scanner temporarily unavailable, try again later');
    expect(sent.ms).toBeGreaterThanOrEqual(1000);
    expect(sent.ms).toBeLessThan(10_000);
    expect(await counts()).toEqual(before);
  });

  it('accepts with headers saying it was not scanned when the settings accept on failure', async () => {
    await settings({ antivirusAddress: `127.0.0.1:${closedPort}`, antispamAddress: `127.0.0.1:${closedPort}`, scannerFailureAction: 'accept' });
    const sent = await send({ raw: mail().raw });
    expect(sent.code).toBe(250);
    const [copy] = await delivered(sent.spoolId!);
    expect(copy.folder).toBe('INBOX');
    expect(copy.header_prefix).toContain(
      'X-Virus-Scanned: ClamAV at mx.dizi.test\r\nX-Virus-Status: Not scanned (scanner unavailable)\r\nX-Spam-Status: Unknown, not scanned (scanner unavailable)\r\n',
    );
  });

  it('scans nothing, and so needs no daemon, when both scanners are off', async () => {
    await settings({ antivirusEnabled: false, antispamEnabled: false, antivirusAddress: `127.0.0.1:${closedPort}`, antispamAddress: `127.0.0.1:${closedPort}` });
    const sent = await send({ raw: mail().raw });
    expect(sent.code).toBe(250);
    const [copy] = await delivered(sent.spoolId!);
    expect(copy.header_prefix).toBe('Return-Path: <bob@remote.test>\r\nDelivered-To: alice@acme.test\r\n');
  });
});

describe('content filter on authenticated submission', () => {
  it('scans for viruses but not for spam by default', async () => {
    await settings();
    const infected = await send({ submission: true, raw: mail({ from: 'alice@acme.test', to: 'bob@acme.test', attachment: { name: 'e.com', content: EICAR } }).raw, to: ['bob@acme.test'] });
    expect(infected.response).toBe(`554 5.7.1 Message rejected: virus found (${EICAR_SIGNATURE})`);
    const marked = await send({ submission: true, raw: mail({ from: 'alice@acme.test', to: 'bob@acme.test', body: `quoting ${SPAM_MARKER}` }).raw, to: ['bob@acme.test'] });
    expect(marked.code).toBe(250);
    const [copy] = await delivered(marked.spoolId!);
    expect(copy.folder).toBe('INBOX');
    expect(copy.header_prefix).toContain('X-Virus-Status: Clean\r\n');
    expect(copy.header_prefix).not.toContain('X-Spam');
  });

  it('scores submissions too when antispamOnSubmission is on', async () => {
    await settings({ antispamOnSubmission: true, antispamRejectScore: 50 });
    const sent = await send({ submission: true, raw: mail({ from: 'alice@acme.test', to: 'bob@acme.test', body: `quoting ${SPAM_MARKER}` }).raw, to: ['bob@acme.test'] });
    expect(sent.code).toBe(250);
    expect((await delivered(sent.spoolId!))[0].folder).toBe('Junk');
  });
});
