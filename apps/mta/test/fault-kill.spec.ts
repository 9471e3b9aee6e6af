/**
 * The fault test of issue 3: a mail node (smtp + delivery + scheduler) runs as a child process; a client sends 2,000
 * small messages over several connections while the node is killed with SIGKILL at three random moments and
 * restarted. Afterwards, once the spool has drained, every message that got 250 is in its mailbox exactly once, and
 * nothing else is (a message whose 250 was lost in the kill may be there once, never twice).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '@dizi/testing/test-database';
import { startTestNode, type TestNode } from './harness';
import { SmtpTalk } from './smtp-talk';

const ROOT = resolve(__dirname, '../../..');
const MESSAGES = 2000;
const CONNECTIONS = 16;
const MAILBOXES = 20;
const KILLS = 3;

let node: TestNode;
let child: ChildProcess | null = null;
let childLog = '';
let smtpPort = 0;
const mailboxIds: string[] = [];

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function startChild(ports: { smtp: number; submission: number; submissions: number }): Promise<void> {
  const cfg = node.ctx.config;
  const proc = spawn(process.execPath, ['-r', resolve(ROOT, 'tools/register.cjs'), resolve(ROOT, 'apps/mta/src/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: cfg.DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: node.redisPrefix,
      MTA_ROLES: 'smtp,delivery,scheduler',
      MTA_HOSTNAME: 'mx.dizi.test',
      MTA_BIND: '127.0.0.1',
      SMTP_PORT: String(ports.smtp),
      SUBMISSION_PORT: String(ports.submission),
      SUBMISSIONS_PORT: String(ports.submissions),
      DIZI_DATA_DIR: dirname(cfg.BLOB_DIR!),
      BLOB_DIR: cfg.BLOB_DIR!,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d: Buffer) => (childLog = (childLog + d.toString()).slice(-20_000)));
  proc.stderr!.on('data', (d: Buffer) => (childLog = (childLog + d.toString()).slice(-20_000)));
  child = proc;
  // Ready when the MX listener greets.
  const until = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`mail node exited with ${proc.exitCode}:\n${childLog}`);
    try {
      const t = await SmtpTalk.open(ports.smtp);
      const ok = t.greeting.code === 220;
      t.destroy();
      if (ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`mail node did not start:\n${childLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function killChild(): Promise<void> {
  const proc = child;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
}

const messageIdOf = (i: number, attempt: number) => `<fault-${i}-${attempt}@client.test>`;
const mailboxOf = (i: number) => `box${i % MAILBOXES}@fault.test`;

function messageFor(i: number, attempt: number): string {
  return [
    `From: Load <load${i % 7}@client.test>`,
    `To: ${mailboxOf(i)}`,
    `Subject: fault ${i} attempt ${attempt}`,
    `Message-ID: ${messageIdOf(i, attempt)}`,
    `Date: ${new Date().toUTCString()}`,
    '',
    `Message ${i}, attempt ${attempt}.`,
    'x'.repeat(200),
    '',
  ].join('\r\n');
}

beforeAll(async () => {
  node = await startTestNode({
    roles: [],
    settings: { connectionsPerIpPerMinute: 100_000, concurrentConnectionsPerIp: 10_000 },
  });
  const tenant = await node.seed.tenant('fault');
  const domain = await node.seed.domain(tenant.id, 'fault.test');
  for (let i = 0; i < MAILBOXES; i++) mailboxIds.push((await node.seed.mailbox(domain.id, `box${i}`)).id);
}, 120_000);

afterAll(async () => {
  await killChild();
  await node?.close();
});

describe('fault: SIGKILL during a 2,000-message run', () => {
  it('keeps every accepted message exactly once', async () => {
    smtpPort = await freePort();
    const ports = { smtp: smtpPort, submission: await freePort(), submissions: await freePort() };
    await startChild(ports);
    const started = Date.now();

    // Message i is retried under a new Message-ID until one attempt gets 250; all attempts are remembered.
    const accepted = new Map<number, number>(); // i → accepted attempt
    const attempted = new Map<string, number>(); // Message-ID → i
    let next = 0;
    let restarting: Promise<void> | null = null;
    const killAt = Array.from({ length: KILLS }, () => 150 + Math.floor(Math.random() * (MESSAGES - 300))).sort((a, b) => a - b);
    const kills: number[] = [];

    const maybeKill = async () => {
      if (kills.length < killAt.length && accepted.size >= killAt[kills.length] && !restarting) {
        kills.push(accepted.size);
        restarting = (async () => {
          await killChild();
          await startChild(ports);
        })();
        await restarting;
        restarting = null;
      }
    };

    const sender = async () => {
      let talk: SmtpTalk | null = null;
      let pending: number[] = [];
      for (;;) {
        const i = pending.length > 0 ? pending.shift()! : next < MESSAGES ? next++ : -1;
        if (i < 0) break;
        const attempt = [...attempted.values()].filter((v) => v === i).length;
        const id = messageIdOf(i, attempt);
        attempted.set(id, i);
        try {
          if (restarting) await restarting;
          if (!talk || talk.closed) {
            talk = await SmtpTalk.open(smtpPort);
            if (talk.greeting.code !== 220 || (await talk.cmd('EHLO load.client.test')).code !== 250) throw new Error('no session');
          }
          const from = await talk.cmd(`MAIL FROM:<load${i % 7}@client.test>`);
          const rcpt = from.code === 250 ? await talk.cmd(`RCPT TO:<${mailboxOf(i)}>`) : from;
          const done = rcpt.code === 250 ? await talk.data(messageFor(i, attempt)) : rcpt;
          if (done.code === 250) {
            accepted.set(i, attempt);
            await maybeKill();
          } else {
            if (done.code !== 0 && talk && !talk.closed) await talk.cmd('RSET');
            throw new Error(`not accepted: ${done.line}`);
          }
        } catch {
          talk?.destroy();
          talk = null;
          pending.push(i);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await talk?.quit();
      pending = [];
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, () => sender()));
    const sendSeconds = (Date.now() - started) / 1000;
    expect(accepted.size).toBe(MESSAGES);
    expect(kills).toHaveLength(KILLS);

    // Drained: no recipient left to deliver.
    const pool = node.ctx.pool;
    const until = Date.now() + 90_000;
    for (;;) {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM spool_recipient WHERE status IN ('queued', 'deferred')`);
      if (rows[0].n === 0) break;
      if (Date.now() > until) throw new Error(`spool did not drain: ${rows[0].n} recipients left\n${childLog}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const { rows: final } = await pool.query(`SELECT status, count(*)::int AS n FROM spool_recipient GROUP BY status`);
    expect(final).toEqual([{ status: 'delivered', n: expect.any(Number) }]);

    // Every message in every mailbox, by the Message-ID in its own bytes.
    const seen = new Map<string, string[]>();
    for (let b = 0; b < MAILBOXES; b++) {
      const folder = await node.ctx.store.getFolder(mailboxIds[b], { name: 'INBOX' });
      for (const m of await node.ctx.store.listMessages(folder.id, { withSummary: false })) {
        const chunks: Buffer[] = [];
        for await (const c of await node.ctx.store.getMessageSource(m.id)) chunks.push(c as Buffer);
        const source = Buffer.concat(chunks).toString('latin1');
        const id = /\r\nMessage-ID: (<[^>]+>)\r\n/i.exec(source)?.[1] ?? `(none in ${m.id})`;
        seen.set(id, [...(seen.get(id) ?? []), `box${b}@fault.test`]);
      }
    }
    for (const [i, attempt] of accepted) {
      expect(seen.get(messageIdOf(i, attempt)), `message ${i}`).toEqual([mailboxOf(i)]);
    }
    let unconfirmed = 0;
    for (const [id, where] of seen) {
      const i = attempted.get(id);
      expect(i, `unexpected message ${id}`).toBeDefined();
      expect(where).toEqual([mailboxOf(i!)]);
      if (accepted.get(i!) !== Number(/-(\d+)@/.exec(id)![1])) unconfirmed += 1;
    }
    expect(seen.size).toBe(MESSAGES + unconfirmed);
    console.log(`fault test: ${MESSAGES} accepted in ${sendSeconds.toFixed(1)} s, kills after ${kills.join(', ')} accepted, ` +
      `${attempted.size - MESSAGES} retried attempts, ${unconfirmed} delivered without a 250 (lost in a kill), ` +
      `drained after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 240_000);
});
