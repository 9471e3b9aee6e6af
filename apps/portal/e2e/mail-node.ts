/**
 * A real mail node process (apps/mta) joined to a console test stack: same database and Redis prefix, SMTP on a
 * free port, and a small SMTP dialogue to read the server's reply to each command.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_REDIS_URL } from '@dizi/testing/test-database';
import { freePort, ROOT, Stack, stopGroup } from './stack';

export interface MailNode {
  smtpPort: number;
  /** IMAP with STARTTLS (when the node runs the imap role). */
  imapPort: number;
  stop(): Promise<void>;
}

export async function startMailNode(stack: Stack, env: Record<string, string> = {}): Promise<MailNode> {
  const dir = await mkdtemp(join(tmpdir(), 'dizi-e2e-mta-'));
  const names = ['SMTP_PORT', 'SUBMISSION_PORT', 'SUBMISSIONS_PORT', 'IMAP_PORT', 'IMAPS_PORT', 'POP3_PORT', 'POP3S_PORT', 'SIEVE_PORT'];
  const ports = Object.fromEntries(await Promise.all(names.map(async (n) => [n, String(await freePort())] as const)));
  let log = '';
  const child: ChildProcess = spawn(process.execPath, ['-r', join(ROOT, 'tools/register.cjs'), join(ROOT, 'apps/mta/src/main.ts')], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: stack.db.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: stack.redisPrefix,
      MTA_ROLES: 'smtp,delivery',
      MTA_HOSTNAME: 'mx.dizi.test',
      MTA_BIND: '127.0.0.1',
      DIZI_DATA_DIR: dir,
      BLOB_DIR: join(dir, 'blobs'),
      LOG_LEVEL: 'warn',
      ...ports,
      ...env,
    },
  });
  child.stdout!.on('data', (d: Buffer) => (log = (log + d).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (log = (log + d).slice(-20_000)));
  const smtpPort = Number(ports.SMTP_PORT);
  const until = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mail node exited with ${child.exitCode}:\n${log}`);
    const greeting = await smtpDialogue(smtpPort, []).catch(() => null);
    if (greeting?.[0]?.startsWith('220')) break;
    if (Date.now() > until) throw new Error(`mail node did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    smtpPort,
    imapPort: Number(ports.IMAP_PORT),
    async stop() {
      await stopGroup(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Sends each command after the previous reply and returns every reply (the greeting first), a multi-line reply
 * as its last line. Stops early when the server closes the connection.
 */
export function smtpDialogue(port: number, commands: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const replies: string[] = [];
    let buf = '';
    let sent = 0;
    socket.setEncoding('utf8');
    socket.setTimeout(30_000, () => socket.destroy(new Error(`SMTP timeout after ${replies.join(' | ')}`)));
    socket.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (/^\d{3}-/.test(line)) continue;
        replies.push(line);
        if (sent < commands.length) socket.write(`${commands[sent++]}\r\n`);
        else socket.end();
      }
    });
    socket.once('error', reject);
    socket.once('close', () => resolve(replies));
  });
}
