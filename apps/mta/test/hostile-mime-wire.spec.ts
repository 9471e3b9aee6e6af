/**
 * Hostile MIME through the wire (issue 11, item 9): deep nesting, tens of thousands of parts, a 20 MB line, 20,000
 * header fields, a Subject of 50,000 encoded words, broken boundaries, invalid base64 and charsets. Sent with Python's
 * smtplib and APPENDed with imapflow to a node running smtp, delivery and imap on the real PostgreSQL and Redis: each
 * 250 is followed by delivery (never a deferral), and FETCH BODYSTRUCTURE/ENVELOPE/BODY[] and SEARCH answer for every
 * message, while the node's memory stays bounded.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '@dizi/testing/until';
import type { ImapRunningRole } from '../src/roles/imap.role';
import { startTestNode, TEST_MAILBOX_PASSWORD, type TestNode } from './harness';
import {
  badEncodingsMessage,
  brokenBoundariesMessage,
  encodedWordsMessage,
  longLineMessage,
  manyHeadersMessage,
  manyPartsMessage,
  nestedMessage,
} from '@dizi/testing/hostile-messages';

const run = promisify(execFile);

/** Each message with the word SEARCH must find in it. */
const HOSTILE: Array<[name: string, marker: string, make: (marker: string) => Buffer]> = [
  ['1,000 nested multiparts', 'nestedthousand', (m) => nestedMessage(1000, m)],
  ['20,000 nested multiparts', 'nestedtwentythousand', (m) => nestedMessage(20_000, m)],
  ['50,000 parts', 'fiftythousandparts', (m) => manyPartsMessage(50_000, m)],
  ['a 20 MB line', 'twentymegabyteline', (m) => longLineMessage(20 * 1024 * 1024, m)],
  ['20,000 header fields', 'twentythousandheaders', (m) => manyHeadersMessage(20_000, m)],
  ['50,000 encoded words in Subject', 'fiftythousandwords', (m) => encodedWordsMessage(50_000, m)],
  ['broken boundaries', 'brokenboundaries', (m) => brokenBoundariesMessage(m)],
  ['invalid base64 and charsets', 'invalidencodings', (m) => badEncodingsMessage(m)],
];

/** Peak resident memory of this process (the node runs in it, its summary threads too) while `work` runs. */
async function peakRss<T>(work: () => Promise<T>): Promise<{ result: T; baseline: number; peak: number }> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, baseline, peak };
  } finally {
    clearInterval(timer);
  }
}

let node: TestNode;
let imapPort: number;
let address: string;
let mailboxId: string;
let dir: string;
const raws = new Map<string, Buffer>();

beforeAll(async () => {
  node = await startTestNode({ roles: ['smtp', 'delivery', 'imap'] });
  imapPort = (node.roles.find((r) => r.name === 'imap') as ImapRunningRole).ports.imap;
  const tenant = await node.seed.tenant('Hostile');
  const domain = await node.seed.domain(tenant.id, 'dizi.test');
  const mailbox = await node.seed.mailbox(domain.id, 'victim', TEST_MAILBOX_PASSWORD, { quotaBytes: 1024 * 1024 * 1024 });
  address = mailbox.address;
  mailboxId = mailbox.id;
  dir = await mkdtemp(join(tmpdir(), 'dizi-hostile-'));
  for (const [, marker, make] of HOSTILE) raws.set(marker, make(marker));
}, 60_000);

afterAll(async () => {
  await node?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function imap(): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1', port: imapPort, secure: false, auth: { user: address, pass: TEST_MAILBOX_PASSWORD },
    logger: false, tls: { rejectUnauthorized: false }, verifyOnly: false,
  });
}

/** FETCH and SEARCH in `folder` answer for every hostile message: structure, envelope, the bytes, the marker. */
async function checkFolder(client: ImapFlow, folder: string, expectSuffix: boolean): Promise<void> {
  const lock = await client.getMailboxLock(folder);
  try {
    const seen = new Map<string, number>();
    for await (const m of client.fetch('1:*', { uid: true, envelope: true, bodyStructure: true, size: true })) {
      expect(m.envelope, `ENVELOPE of ${m.uid}`).toBeTruthy();
      expect(m.bodyStructure, `BODYSTRUCTURE of ${m.uid}`).toBeTruthy();
      const id = m.envelope?.messageId ?? '';
      seen.set(id.replace(/^<|@hostile\.example>$/g, ''), m.uid);
    }
    expect([...seen.keys()].sort()).toEqual([...raws.keys()].sort());
    for (const [marker, raw] of raws) {
      const uid = seen.get(marker)!;
      const { content } = await client.download(String(uid), undefined, { uid: true });
      const chunks: Buffer[] = [];
      for await (const chunk of content!) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      // Delivered mail has our Received header (and delivery's) before the bytes as sent; APPENDed mail is as sent.
      if (expectSuffix) expect(body.subarray(body.length - raw.length).equals(raw), `BODY[] of ${marker}`).toBe(true);
      else expect(body.equals(raw), `BODY[] of ${marker}`).toBe(true);
      expect(await client.search({ body: marker }, { uid: true }), `SEARCH BODY ${marker}`).toEqual([uid]);
    }
    expect(await client.search({ subject: 'nested 20000' }, { uid: true })).toEqual([seen.get('nestedtwentythousand')]);
    expect(await client.search({ header: { 'message-id': 'fiftythousandwords' } }, { uid: true })).toEqual([seen.get('fiftythousandwords')]);
  } finally {
    lock.release();
  }
}

/** Sends each file on one session with Python's smtplib; the reply to each DATA. */
async function sendWithSmtplib(files: string[]): Promise<Array<[number, string]>> {
  const script = `
import smtplib, json, sys
port, rcpt = int(sys.argv[1]), sys.argv[2]
out = []
s = smtplib.SMTP('127.0.0.1', port, local_hostname='hostile.client.test', timeout=120)
s.ehlo()
for path in sys.argv[3:]:
    with open(path, 'rb') as f:
        data = f.read()
    s.mail('mallory@hostile.example')
    s.rcpt(rcpt)
    code, msg = s.data(data)
    out.append([code, msg.decode('latin-1')])
s.quit()
print(json.dumps(out))
`;
  const { stdout } = await run('/usr/bin/python3', ['-c', script, String(node.ports.smtp), address, ...files], { timeout: 180_000, maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Array<[number, string]>;
}

describe('hostile MIME over SMTP and IMAP APPEND', () => {
  it('accepts each message with 250 and delivers it (never deferred), and IMAP answers for it; memory stays bounded', async () => {
    const files: string[] = [];
    for (const [marker, raw] of raws) {
      const file = join(dir, `${marker}.eml`);
      await writeFile(file, raw);
      files.push(file);
    }
    const { result, baseline, peak } = await peakRss(async () => {
      const replies = await sendWithSmtplib(files);
      // Delivered: one message row each, every recipient delivered, none deferred.
      await until('every hostile message delivered', async () => {
        const [{ count }] = await node.db.dataSource.query(`SELECT count(*)::int AS count FROM message WHERE mailbox_id = $1`, [mailboxId]);
        return count >= raws.size;
      }, { timeoutMs: 60_000, intervalMs: 200 }).catch(async (err: Error) => {
        const states = await node.db.dataSource.query(`SELECT r.status, r.attempts, r.last_error, m.size, m.summary IS NULL AS no_summary
                                                         FROM spool_recipient r JOIN spool_message m ON m.id = r.message_id`);
        throw new Error(`${err.message}: replies ${JSON.stringify(replies)}, recipients ${JSON.stringify(states)}`);
      });
      return replies;
    });
    expect(result.map(([code]) => code)).toEqual(Array(raws.size).fill(250));
    const states = await node.db.dataSource.query(`SELECT status, attempts, last_error FROM spool_recipient`);
    expect(states.filter((s: { status: string }) => s.status !== 'delivered')).toEqual([]);
    expect(states).toHaveLength(raws.size);
    expect(states.every((s: { attempts: number }) => s.attempts <= 1)).toBe(true);
    // Some 32 MB of mail was received, summarised and delivered: the node's growth stays a small multiple of the
    // largest message (the 20 MB line), never of the parts or depth.
    console.log(`hostile SMTP + delivery: RSS ${(baseline / 2 ** 20).toFixed(0)} MB before, peak ${(peak / 2 ** 20).toFixed(0)} MB`);
    expect(peak - baseline).toBeLessThan(400 * 2 ** 20);

    const client = imap();
    await client.connect();
    try {
      await checkFolder(client, 'INBOX', true);
    } finally {
      await client.logout();
    }
  }, 300_000);

  it('stores each message APPENDed with imapflow, and FETCH and SEARCH answer for it', async () => {
    const client = imap();
    await client.connect();
    try {
      await client.mailboxCreate('Hostile');
      const { baseline, peak } = await peakRss(async () => {
        for (const raw of raws.values()) {
          const appended = await client.append('Hostile', raw, ['\\Seen']);
          expect(appended && appended.uid).toBeGreaterThan(0);
        }
      });
      console.log(`hostile APPEND: RSS ${(baseline / 2 ** 20).toFixed(0)} MB before, peak ${(peak / 2 ** 20).toFixed(0)} MB`);
      expect(peak - baseline).toBeLessThan(400 * 2 ** 20);
      await checkFolder(client, 'Hostile', false);
    } finally {
      await client.logout();
    }
  }, 300_000);

  it('refuses a message past a limit at DATA with 554 5.6.0 when mimeLimitAction says reject, and commits nothing', async () => {
    // The operator's limits reach the summariser (in its worker threads): 20 parts are past mimeMaxParts 10.
    await node.setSettings({ mimeLimitAction: 'reject', mimeMaxParts: 10 });
    try {
      const files = [join(dir, 'refused-nested.eml'), join(dir, 'refused-parts.eml'), join(dir, 'fine.eml')];
      await writeFile(files[0], nestedMessage(200, 'refusednested'));
      await writeFile(files[1], manyPartsMessage(20, 'refusedparts'));
      await writeFile(files[2], manyPartsMessage(9, 'fineparts'));
      const before = await node.db.dataSource.query(`SELECT count(*)::int AS count FROM spool_message`);
      const replies = await sendWithSmtplib(files);
      expect(replies[0]).toEqual([554, expect.stringMatching(/^5\.6\.0 Message refused: MIME structure beyond the limits/)]);
      expect(replies[1][0]).toBe(554);
      expect(replies[2][0]).toBe(250);
      const after = await node.db.dataSource.query(`SELECT count(*)::int AS count FROM spool_message`);
      expect(after[0].count - before[0].count).toBe(1);
    } finally {
      await node.setSettings({ mimeLimitAction: 'deliver', mimeMaxParts: 1000 });
    }
  }, 120_000);
});
