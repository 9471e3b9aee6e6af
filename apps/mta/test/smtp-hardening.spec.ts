/**
 * Issue 11 items 1, 2, 3 and 8 on the wire (raw socket and Python smtplib): command-line length, junk commands,
 * the greeting delay of port 25 (postscreen-style, remembered per client address) and the node's own host name.
 */
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '@dizi/testing/test-database';
import { startTestNode, TestNode } from './harness';
import { SmtpTalk } from './smtp-talk';

const run = promisify(execFile);
const ROOMY = { connectionsPerIpPerMinute: 100_000, concurrentConnectionsPerIp: 1000 };

let node: TestNode;
let redis: Redis;
const sql = (text: string, params?: unknown[]) => node.db.dataSource.query(text, params);

async function resetSettings(patch: Record<string, unknown> = {}): Promise<void> {
  await sql(`UPDATE system_setting SET value = $1::jsonb WHERE key = 'smtp'`, [JSON.stringify({ ...ROOMY, greetingDelayMs: 0, ...patch })]);
  await node.ctx.settings.reload();
}

/** Connects and resolves with the first reply line and how long it took to come. */
/** The quickest of three greetings: one slow connect on a busy machine says nothing about a wait. */
async function quickestGreeting(port: number): Promise<{ line: string; ms: number }> {
  let best = { line: '', ms: Infinity };
  for (let i = 0; i < 3; i++) {
    const g = await greetingOf(port);
    g.socket.destroy();
    if (g.ms < best.ms) best = { line: g.line, ms: g.ms };
  }
  return best;
}

function greetingOf(port: number, opts: { talkFirst?: string } = {}): Promise<{ line: string; ms: number; socket: Socket; rest: () => string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const socket = connect(port, '127.0.0.1');
    let buf = '';
    let done = false;
    socket.setEncoding('latin1');
    if (opts.talkFirst) socket.once('connect', () => socket.write(opts.talkFirst!));
    socket.on('data', (d: string) => {
      buf += d;
      const i = buf.indexOf('\r\n');
      if (i >= 0 && !done) {
        done = true;
        resolve({ line: buf.slice(0, i), ms: Number(process.hrtime.bigint() - started) / 1e6, socket, rest: () => buf.slice(i + 2) });
      }
    });
    socket.once('error', reject);
  });
}

async function python(script: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('/usr/bin/python3', ['-c', script, ...args], { timeout: 30_000 });
  return stdout.trim();
}

beforeAll(async () => {
  node = await startTestNode({ roles: ['smtp'], settings: ROOMY });
  const tenant = await node.seed.tenant('acme');
  const domain = await node.seed.domain(tenant.id, 'acme.test');
  await node.seed.mailbox(domain.id, 'alice');
  redis = new Redis(TEST_REDIS_URL, { keyPrefix: node.redisPrefix });
}, 120_000);

afterAll(async () => {
  redis?.disconnect();
  await node?.close();
});

beforeEach(async () => {
  await resetSettings();
  const keys = await redis.keys(`${node.redisPrefix}smtp:greet-pass:*`);
  if (keys.length) await redis.del(...keys.map((k) => k.slice(node.redisPrefix.length)));
});

const message = 'From: bob@remote.test\r\nTo: alice@acme.test\r\nSubject: hi\r\n\r\nHello.\r\n';

describe('command-line length (issue 11 item 1)', () => {
  it('answers a 2,100-byte NOOP with 500 5.5.2, runs none of it, and the session goes on', async () => {
    const t = await SmtpTalk.open(node.ports.smtp);
    expect((await t.cmd('EHLO client.remote.test')).code).toBe(250);
    const long = await t.cmd(`NOOP ${'x'.repeat(2100)}`);
    expect(long.line).toBe('500 5.5.2 Error: line too long');
    // The next reply belongs to the next command: the long line was not split into a second one.
    expect((await t.cmd('NOOP')).line).toMatch(/^250 /);
    await t.quit();
  });

  it('takes a line of exactly the limit (CRLF included) and refuses one octet more; the limit is a setting', async () => {
    const t = await SmtpTalk.open(node.ports.smtp);
    const noop = (total: number) => `NOOP ${'y'.repeat(total - 'NOOP '.length - 2)}`;
    expect((await t.cmd(noop(2048))).code).toBe(250);
    expect((await t.cmd(noop(2049))).line).toBe('500 5.5.2 Error: line too long');
    await resetSettings({ maxCommandLineBytes: 512 });
    expect((await t.cmd(noop(512))).code).toBe(250);
    expect((await t.cmd(noop(513))).line).toBe('500 5.5.2 Error: line too long');
    await t.quit();
  });

  it('does not run an over-long MAIL FROM, even when it arrives in pieces, and keeps pipelined commands after it in order', async () => {
    const t = await SmtpTalk.open(node.ports.smtp);
    expect((await t.cmd('EHLO client.remote.test')).code).toBe(250);
    const tail = `${'z'.repeat(1500)}\r\nRCPT TO:<alice@acme.test>\r\nNOOP\r\n`;
    t.write(`MAIL FROM:<bob@remote.test> ${'z'.repeat(1500)}`);
    await new Promise((r) => setTimeout(r, 50));
    t.write(tail);
    expect((await t.read()).line).toBe('500 5.5.2 Error: line too long');
    // No transaction was opened by the long line.
    expect((await t.read()).code).toBe(503);
    expect((await t.read()).code).toBe(250);
    // 100 KB without a line end is swallowed, answered once its line ends, and the session survives.
    t.write('NOOP ');
    for (let i = 0; i < 10; i++) t.write('w'.repeat(10_000));
    t.write('\r\n');
    expect((await t.read()).line).toBe('500 5.5.2 Error: line too long');
    expect((await t.cmd('MAIL FROM:<bob@remote.test>')).code).toBe(250);
    expect((await t.cmd('RCPT TO:<alice@acme.test>')).code).toBe(250);
    // DATA lines keep their own, larger limit.
    expect((await t.data(`${message}${'d'.repeat(5000)}\r\n`)).code).toBe(250);
    await t.quit();
  });

  it('Python smtplib: an over-long command gets 500 5.5.2 and the connection stays usable', async () => {
    const out = await python(
      `import smtplib,sys
s=smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=10)
s.ehlo('client.remote.test')
print(s.docmd('NOOP', 'p'*2100))
print(s.noop())
s.quit()`,
      String(node.ports.smtp),
    );
    expect(out.split('\n')).toEqual(["(500, b'5.5.2 Error: line too long')", "(250, b'2.0.0 OK')"]);
  });
});

describe('junk commands (issue 11 item 2)', () => {
  it('answers 100 NOOP/RSET/HELP/VRFY commands and closes with 421 at the 101st', async () => {
    const t = await SmtpTalk.open(node.ports.smtp);
    expect((await t.cmd('EHLO client.remote.test')).code).toBe(250);
    const kinds = ['NOOP', 'RSET', 'HELP', 'VRFY alice', 'NOOP'];
    for (let i = 0; i < 100; i++) {
      const r = await t.cmd(kinds[i % kinds.length]);
      expect(r.code, `command ${i + 1}`).toBeGreaterThan(0);
      expect(r.code, `command ${i + 1}`).not.toBe(421);
    }
    const last = await t.cmd('NOOP');
    expect(last.line).toBe('421 4.7.0 mx.dizi.test Error: too many junk commands, closing connection');
    expect(await t.waitClosed()).toBe(true);
  });

  it('counts unknown, out-of-sequence and over-long commands, follows the setting, and starts again after an accepted message', async () => {
    await resetSettings({ junkCommandLimit: 5 });
    const t = await SmtpTalk.open(node.ports.smtp);
    expect((await t.cmd('EHLO client.remote.test')).code).toBe(250);
    for (let i = 0; i < 4; i++) expect((await t.cmd('NOOP')).code).toBe(250);
    expect((await t.cmd('MAIL FROM:<bob@remote.test>')).code).toBe(250);
    expect((await t.cmd('RCPT TO:<alice@acme.test>')).code).toBe(250);
    expect((await t.data(message)).code).toBe(250);
    expect((await t.cmd('NOOP')).code).toBe(250);
    // A command out of sequence is a bad command too.
    expect((await t.cmd('RCPT TO:<alice@acme.test>')).code).toBe(503);
    expect((await t.cmd('XYZZY')).code).toBe(500);
    expect((await t.cmd(`NOOP ${'q'.repeat(3000)}`)).line).toBe('500 5.5.2 Error: line too long');
    expect((await t.cmd('HELP')).code).toBe(214);
    expect((await t.cmd('NOOP')).code).toBe(421);
    expect(await t.waitClosed()).toBe(true);
  });
});

describe('greeting delay (issue 11 item 3)', () => {
  it('on port 25 a new client waits, a pre-greeting talker is cut off and not remembered, one that waited is greeted at once afterwards', async () => {
    await resetSettings({ greetingDelayMs: 400 });
    const talker = await greetingOf(node.ports.smtp, { talkFirst: 'EHLO early.remote.test\r\n' });
    expect(talker.line).toMatch(/^421 .*You talk too soon/);
    talker.socket.destroy();

    const first = await greetingOf(node.ports.smtp);
    expect(first.line).toBe('220 mx.dizi.test Dizi ESMTP ready');
    expect(first.ms).toBeGreaterThanOrEqual(380);
    first.socket.write('EHLO patient.remote.test\r\nQUIT\r\n');
    await new Promise((r) => first.socket.once('close', r));

    // smtp-server's own fixed wait was 100 ms on every connection.
    const second = await quickestGreeting(node.ports.smtp);
    expect(second.line).toBe('220 mx.dizi.test Dizi ESMTP ready');
    expect(second.ms).toBeLessThan(90);
    expect(await redis.ttl('smtp:greet-pass:127.0.0.1')).toBeGreaterThan(86_000);
  });

  it('never delays the submission ports, and greetingDelayMs 0 turns the wait off on port 25', async () => {
    await resetSettings({ greetingDelayMs: 400 });
    const g1 = await quickestGreeting(node.ports.submission);
    expect(g1.line).toMatch(/^220 mx\.dizi\.test /);
    expect(g1.ms).toBeLessThan(90);
    const tls = await SmtpTalk.open(node.ports.submissions, { tls: true });
    expect(tls.greeting.code).toBe(220);
    tls.destroy();
    await resetSettings({ greetingDelayMs: 0 });
    expect((await quickestGreeting(node.ports.smtp)).ms).toBeLessThan(90);
    // Nothing to remember when nobody waited.
    expect(await redis.exists('smtp:greet-pass:127.0.0.1')).toBe(0);
  });
});

describe('host name (issue 11 item 8)', () => {
  it('uses the node name in the greeting and the EHLO reply, and does not echo the client reverse-DNS name', async () => {
    const t = await SmtpTalk.open(node.ports.smtp);
    expect(t.greeting.line).toBe('220 mx.dizi.test Dizi ESMTP ready');
    const ehlo = await t.cmd('EHLO client.remote.test');
    expect(ehlo.lines[0]).toBe('250-mx.dizi.test');
    const helo = await t.cmd('HELO client.remote.test');
    expect(helo.line).toBe('250 mx.dizi.test');
    await t.quit();
  });

  it('presents a certificate for the node name on the implicit-TLS port', async () => {
    const socket = tlsConnect({ port: node.ports.submissions, host: '127.0.0.1', rejectUnauthorized: false });
    await new Promise((r, j) => socket.once('secureConnect', r).once('error', j));
    const cert = socket.getPeerX509Certificate();
    socket.destroy();
    expect(cert?.subject).toContain('CN=mx.dizi.test');
    expect(cert?.checkHost('mx.dizi.test')).toBe('mx.dizi.test');
  });
});
