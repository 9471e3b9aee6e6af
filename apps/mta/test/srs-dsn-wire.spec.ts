/**
 * SRS and DSN parameters through the whole node (SMTP, local delivery, outbound; smtp-sink as the remote MX hosts,
 * unbound as DNS). SRS: mail from a remote sender that a mailbox forwards, or an alias passes on, leaves with an SRS0
 * sender in our domain; a bounce to that address comes in over SMTP and goes back out to the original sender; forged
 * and expired addresses get 550. DSN: NOTIFY/ORCPT/RET/ENVID given over SMTP are kept with the spool and answered.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xtext } from '@dizi/smtp/outbound/smtp-session';
import { Srs } from '@dizi/smtp/srs/srs';
import { freeTcpPort, smtpSinkMissing, startSmtpSink, type SinkCapture, type SmtpSink } from '@dizi/testing/smtp-sink';
import { startUnbound, UNBOUND_BIN, type Unbound } from '@dizi/testing/unbound';
import { startOutboundRole } from '../src/roles/outbound.role';
import { startTestNode, TEST_MAILBOX_PASSWORD, type TestNode } from './harness';
import { plainAuth, SmtpTalk } from './smtp-talk';
import { until } from '@dizi/testing/until';

const missing = [smtpSinkMissing(), !existsSync(UNBOUND_BIN) && `${UNBOUND_BIN} (apt-get install unbound)`].filter(Boolean);
if (missing.length) console.warn(`srs-dsn-wire.spec.ts skipped: missing ${missing.join(', ')}`);

const SRS_SECRET = 'srs-test-secret';
const EXT_IP = '127.0.0.40';
const REMOTE_IP = '127.0.0.41';
const SRS0 = /^<(SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=([^=]+)=([^@]+)@acme\.test)>$/;

let node: TestNode;
let unbound: Unbound;
let ext: SmtpSink;
let remote: SmtpSink;
let dir: string;
let counter = 0;
const sql = (text: string, params?: unknown[]) => node.db.dataSource.query(text, params);

function message(from: string, to: string, subject: string): { raw: string; marker: string } {
  const marker = `<srs${++counter}.${Date.now()}@test>`;
  return { marker, raw: `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: ${marker}\r\n\r\nHello.\r\n` };
}

/** One message over the MX listener; returns the final reply line. */
async function sendMx(mailFrom: string, rcpts: string[], raw: string): Promise<string[]> {
  const talk = await SmtpTalk.open(node.ports.smtp);
  const replies: string[] = [];
  try {
    await talk.cmd('EHLO client.remote.test');
    replies.push((await talk.cmd(`MAIL FROM:<${mailFrom}>`)).line);
    for (const r of rcpts) replies.push((await talk.cmd(`RCPT TO:<${r}>`)).line);
    if (replies.slice(1).some((l) => l.startsWith('250'))) replies.push((await talk.data(raw)).line);
  } finally {
    await talk.quit();
  }
  return replies;
}

const capturedAt = (sink: SmtpSink, marker: string) => until<SinkCapture>(`the message at ${sink.ip}`, () => sink.captured(marker));

describe.skipIf(missing.length > 0)('mail leaving the node', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dizi-srs-'));
    await chmod(dir, 0o755); // smtp-sink writes its captures as nobody
    const mxPort = await freeTcpPort();
    ext = await startSmtpSink(EXT_IP, mxPort, { name: 'mx.ext.test', captureDir: join(dir, 'ext') });
    remote = await startSmtpSink(REMOTE_IP, mxPort, { name: 'mx.remote.test', captureDir: join(dir, 'remote') });
    unbound = await startUnbound(
      [
        { name: 'ext.test', type: 'MX', value: '10 mx.ext.test.' },
        { name: 'mx.ext.test', type: 'A', value: EXT_IP },
        { name: 'remote.test', type: 'MX', value: '10 mx.remote.test.' },
        { name: 'mx.remote.test', type: 'A', value: REMOTE_IP },
      ],
      ['test'],
    );
    node = await startTestNode({
      roles: ['smtp', 'delivery'],
      env: { DNS_SERVERS: unbound.server, SRS_SECRETS: SRS_SECRET },
      settings: { connectionsPerIpPerMinute: 10_000, concurrentConnectionsPerIp: 100 },
      smtp: { tarpitStepMs: 0 },
    });
    node.roles.push(await startOutboundRole(node.ctx, { mxPort, sweepIntervalMs: 200, connectTimeoutMs: 2000 }));
    const tenant = await node.seed.tenant('Acme');
    const domain = await node.seed.domain(tenant.id, 'acme.test');
    const fwd = await node.seed.mailbox(domain.id, 'fwd');
    await sql(`INSERT INTO mailbox_delivery (mailbox_id, forward_to, forward_keep_copy) VALUES ($1, $2, false)`, [fwd.id, ['dest@ext.test']]);
    await node.seed.alias(domain.id, 'team', ['member@ext.test']);
    await node.seed.mailbox(domain.id, 'alice');
  });

  afterAll(async () => {
    await node?.close();
    ext?.stop();
    remote?.stop();
    await unbound?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('SRS for forwarded mail', () => {

    it('forwards with an SRS0 sender in the forwarding domain, and takes the bounce back to the original sender', async () => {
      const m = message('Bob <bob@remote.test>', 'fwd@acme.test, team@acme.test', 'forward me');
      expect(await sendMx('bob@remote.test', ['fwd@acme.test', 'team@acme.test'], m.raw)).toEqual([
        expect.stringMatching(/^250 /), expect.stringMatching(/^250 /), expect.stringMatching(/^250 /), expect.stringMatching(/^250 2\.6\.0 /),
      ]);
      const out = await capturedAt(ext, m.marker);
      // One transaction for both copies: the mailbox's forward and the alias's member share the sender.
      expect(out.rcptArgs.map((r) => r.split(' ')[0]).sort()).toEqual(['<dest@ext.test>', '<member@ext.test>']);
      const [, srsAddress, origDomain, origLocal] = SRS0.exec(out.mailArgs.split(' ')[0]) ?? [];
      expect([origDomain, origLocal]).toEqual(['remote.test', 'bob']);
      // Made with the node's secret: our own codec with the same secret turns it back.
      expect(new Srs({ secrets: [SRS_SECRET] }).reverse(srsAddress)).toEqual({ ok: true, address: 'bob@remote.test' });
      expect(out.message.toString()).toContain('Subject: forward me');

      // ext.test bounces it: null sender, to the SRS address, as most MTAs lower-case nothing (we compare case-insensitively).
      const bounce = message('MAILER-DAEMON@ext.test', srsAddress, 'Undelivered Mail Returned to Sender');
      const replies = await sendMx('', [srsAddress], bounce.raw);
      expect(replies).toEqual(['250 2.1.0 Accepted', expect.stringMatching(/^250 /), expect.stringMatching(/^250 2\.6\.0 /)]);
      const back = await capturedAt(remote, bounce.marker);
      expect(back.mailArgs.split(' ')[0]).toBe('<>');
      expect(back.rcptArgs).toHaveLength(1);
      expect(back.rcptArgs[0]).toMatch(/^<bob@remote\.test>/);
      // remote.test has DSN: the SRS address goes with it as the original recipient, xtext-encoded ('=' is +3D).
      expect(back.rcptArgs[0]).toBe(`<bob@remote.test> ORCPT=${xtext(`rfc822;${srsAddress.toLowerCase()}`)}`);
      expect(xtext('rfc822;srs0=a@b')).toBe('rfc822;srs0+3Da@b');
      const [row] = await sql(`SELECT r.address, r.kind, r.domain, r.original_address FROM spool_recipient r JOIN spool_message m ON m.id = r.message_id WHERE m.mail_from = '' AND r.address = 'bob@remote.test'`);
      expect(row).toMatchObject({ kind: 'remote', domain: 'remote.test', original_address: `rfc822;${srsAddress.toLowerCase()}` });
    });

    it('refuses forged and expired SRS addresses with 550 and spools nothing', async () => {
      const before = Number((await sql(`SELECT count(*)::int AS n FROM spool_message`))[0].n);
      const good = new Srs({ secrets: [SRS_SECRET] }).forward('bob@remote.test', 'acme.test');
      const forged = good.replace(/^SRS0=(....)/, (_, h: string) => `SRS0=${h === 'AAAA' ? 'BBBB' : 'AAAA'}`);
      const otherSecret = new Srs({ secrets: ['not-ours'] }).forward('bob@remote.test', 'acme.test');
      const expired = new Srs({ secrets: [SRS_SECRET], now: () => Date.now() - 30 * 86_400_000 }).forward('bob@remote.test', 'acme.test');
      const m = message('x@ext.test', 'x', 'forged');
      const replies = await sendMx('', [forged, otherSecret, expired], m.raw);
      expect(replies).toEqual([
        '250 2.1.0 Accepted',
        '550 5.1.1 Recipient address rejected: invalid bounce address',
        '550 5.1.1 Recipient address rejected: invalid bounce address',
        '550 5.1.1 Recipient address rejected: bounce address has expired',
      ]);
      expect(Number((await sql(`SELECT count(*)::int AS n FROM spool_message`))[0].n)).toBe(before);
    });

    it('keeps a null sender null, rewrites an SRS0 sender to SRS1, and leaves senders of our own domains alone', async () => {
      const bounce = message('MAILER-DAEMON@remote.test', 'fwd@acme.test', 'null sender');
      await sendMx('', ['fwd@acme.test'], bounce.raw);
      expect((await capturedAt(ext, bounce.marker)).mailArgs.split(' ')[0]).toBe('<>');

      const hop = message('u@orig.test', 'fwd@acme.test', 'already forwarded once');
      await sendMx('SRS0=AbCd=XY=orig.test=u@hop1.test', ['fwd@acme.test'], hop.raw);
      expect((await capturedAt(ext, hop.marker)).mailArgs.split(' ')[0]).toMatch(/^<SRS1=[A-Za-z0-9+/]{4}=hop1\.test==abcd=xy=orig\.test=u@acme\.test>$/);

      // alice@acme.test, signed in on submission: her own domain is ours to send for.
      const mine = message('alice@acme.test', 'fwd@acme.test', 'from a local sender');
      const talk = await SmtpTalk.open(node.ports.submission);
      try {
        await talk.cmd('EHLO client.test');
        await talk.starttls();
        await talk.cmd('EHLO client.test');
        expect((await talk.cmd(`AUTH PLAIN ${plainAuth('', 'alice@acme.test', TEST_MAILBOX_PASSWORD)}`)).code).toBe(235);
        expect((await talk.cmd('MAIL FROM:<alice@acme.test>')).code).toBe(250);
        expect((await talk.cmd('RCPT TO:<fwd@acme.test>')).code).toBe(250);
        expect((await talk.data(mine.raw)).code).toBe(250);
      } finally {
        await talk.quit();
      }
      expect((await capturedAt(ext, mine.marker)).mailArgs.split(' ')[0]).toBe('<alice@acme.test>');
    });
  });

  describe('DSN parameters', () => {
    it('keeps NOTIFY, ORCPT, RET and ENVID from SMTP and answers NOTIFY=SUCCESS with "delivered" and "expanded"', async () => {
      const m = message('Bob <bob@remote.test>', 'alice@acme.test', 'tell me when it arrives');
      const talk = await SmtpTalk.open(node.ports.smtp);
      try {
        expect((await talk.cmd('EHLO client.remote.test')).lines).toContain('250-DSN');
        expect((await talk.cmd('MAIL FROM:<bob@remote.test> RET=HDRS ENVID=wire+2B1')).code).toBe(250);
        expect((await talk.cmd('RCPT TO:<alice@acme.test> NOTIFY=SUCCESS ORCPT=rfc822;alice.smith+2Bx@acme.test')).code).toBe(250);
        expect((await talk.cmd('RCPT TO:<fwd@acme.test> NOTIFY=SUCCESS,FAILURE')).code).toBe(250);
        expect((await talk.cmd('RCPT TO:<team@acme.test>')).code).toBe(250);
        expect((await talk.cmd('RCPT TO:<x@acme.test> NOTIFY=NEVER,SUCCESS')).line).toMatch(/^501 /);
        expect((await talk.data(m.raw)).code).toBe(250);
      } finally {
        await talk.quit();
      }
      const [spooled] = await sql(`SELECT id, env_id, dsn_ret FROM spool_message WHERE mail_from = 'bob@remote.test' AND env_id IS NOT NULL`);
      expect(spooled).toMatchObject({ env_id: 'wire+1', dsn_ret: 'HDRS' });
      const rows = await sql(`SELECT address, dsn_notify, original_address FROM spool_recipient WHERE message_id = $1 AND kind = 'local' ORDER BY address`, [spooled.id]);
      expect(rows).toEqual([
        { address: 'alice@acme.test', dsn_notify: 'SUCCESS', original_address: 'rfc822;alice.smith+x@acme.test' },
        { address: 'fwd@acme.test', dsn_notify: 'SUCCESS,FAILURE', original_address: null },
        { address: 'team@acme.test', dsn_notify: null, original_address: null },
      ]);

      // One success notice, with the null sender, out to bob at remote.test.
      const notice = await until('the success notice at remote.test', async () => {
        for (const f of await readdir(join(dir, 'remote'))) {
          const text = await readFile(join(dir, 'remote', f), 'utf8');
          if (text.includes('Original-Envelope-Id: wire+1')) return text;
        }
        return undefined;
      });
      expect(notice).toContain('X-Mail-Args: <>');
      expect(notice).toMatch(/X-Rcpt-Args: <bob@remote\.test>/);
      expect(notice).toContain('Subject: Delivery Status Notification / =?UTF-8?B?');
      expect(notice).toContain('Content-Type: text/rfc822-headers');
      const status = notice.slice(notice.indexOf('Content-Type: message/delivery-status'));
      expect(status).toContain('Original-Recipient: rfc822; alice.smith+x@acme.test\nFinal-Recipient: rfc822; alice@acme.test\nAction: delivered\nStatus: 2.0.0');
      expect(status).toContain('Final-Recipient: rfc822; fwd@acme.test\nAction: expanded\nStatus: 2.0.0');
      expect(status).not.toContain('team@acme.test');
      expect(notice).toContain(`In-Reply-To: ${m.marker}`);
      expect(notice).not.toContain('Hello.');
    });
  });
});
