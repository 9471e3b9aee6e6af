/**
 * Issue 11 item 4: per-IP open-connection counters must heal by themselves when a mail node dies without releasing
 * them. A real node process (smtp, imap, pop3) holds the client's whole allowance of connections on each protocol
 * and is killed with SIGKILL; another node sharing the same Redis must admit the client again within seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '@dizi/testing/test-database';
import { startImapRole } from '../src/roles/imap.role';
import { startPop3Role } from '../src/roles/pop3.role';
import type { RunningRole } from '../src/roles/role';
import { startSmtpRole } from '../src/roles/smtp.role';
import { startTestNode, type TestNode } from './harness';

const ROOT = resolve(__dirname, '../../..');
/** Each protocol's per-IP allowance, on both nodes; the killed node holds all of it. */
const LIMIT = 4;

let node: TestNode;
let child: ChildProcess | null = null;
let childLog = '';
const running: RunningRole[] = [];
const sockets: Socket[] = [];

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

/** Opens a connection and resolves with the first line the server sends. */
function firstLine(port: number): Promise<{ socket: Socket; line: string }> {
  return new Promise((res, rej) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let buf = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      buf += d;
      const i = buf.indexOf('\r\n');
      if (i >= 0) res({ socket, line: buf.slice(0, i) });
    });
    socket.once('error', rej);
    socket.once('close', () => res({ socket, line: buf }));
  });
}

async function startChild(ports: Record<string, number>): Promise<void> {
  const cfg = node.ctx.config;
  const proc = spawn(process.execPath, ['-r', resolve(ROOT, 'tools/register.cjs'), resolve(ROOT, 'apps/mta/src/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: cfg.DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: node.redisPrefix,
      MTA_ROLES: 'smtp,imap,pop3',
      MTA_HOSTNAME: 'mx.dizi.test',
      MTA_BIND: '127.0.0.1',
      SMTP_PORT: String(ports.smtp),
      SUBMISSION_PORT: String(ports.submission),
      SUBMISSIONS_PORT: String(ports.submissions),
      IMAP_PORT: String(ports.imap),
      IMAPS_PORT: String(ports.imaps),
      POP3_PORT: String(ports.pop3),
      POP3S_PORT: String(ports.pop3s),
      DIZI_DATA_DIR: dirname(cfg.BLOB_DIR!),
      BLOB_DIR: cfg.BLOB_DIR!,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d: Buffer) => (childLog = (childLog + d.toString()).slice(-20_000)));
  proc.stderr!.on('data', (d: Buffer) => (childLog = (childLog + d.toString()).slice(-20_000)));
  child = proc;
  const until = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`mail node exited with ${proc.exitCode}:\n${childLog}`);
    const probes = await Promise.all([ports.smtp, ports.imap, ports.pop3].map((p) => firstLine(p).catch(() => null)));
    probes.forEach((p) => p?.socket.destroy());
    if (probes.every((p) => p && p.line.length > 0)) return;
    if (Date.now() > until) throw new Error(`mail node did not start:\n${childLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  node = await startTestNode({ roles: [], settings: { connectionsPerIpPerMinute: 100_000, concurrentConnectionsPerIp: LIMIT, greetingDelayMs: 0 } });
}, 120_000);

afterAll(async () => {
  sockets.forEach((s) => s.destroy());
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const r of running.reverse()) await r.stop().catch(() => undefined);
  await node?.close();
});

describe('per-IP connection counters after a node is killed', () => {
  it('SMTP, IMAP and POP3 admit the client again within seconds of the SIGKILL of the node that held its connections', async () => {
    const names = ['smtp', 'submission', 'submissions', 'imap', 'imaps', 'pop3', 'pop3s'];
    const ports = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await freePort()] as const)));
    await startChild(ports);
    // The probes of startChild are closed; wait until the node released them.
    await new Promise((r) => setTimeout(r, 300));

    // The child node holds the client's whole allowance on each protocol (IMAP and POP3 allow 50 by default).
    const held = { smtp: LIMIT, imap: 50, pop3: 50 };
    for (const [proto, n] of Object.entries(held)) {
      const lines = await Promise.all(Array.from({ length: n }, () => firstLine(ports[proto])));
      expect(lines.map((l) => l.line.slice(0, 3)), proto).toEqual(Array(n).fill(proto === 'smtp' ? '220' : proto === 'imap' ? '* O' : '+OK'));
    }
    const exited = new Promise((r) => child!.once('exit', r));
    child!.kill('SIGKILL');
    await exited;
    const killedAt = Date.now();
    sockets.forEach((s) => s.destroy());

    // Another node on the same Redis, with the same allowances.
    const smtp = await startSmtpRole(node.ctx);
    running.push(smtp);
    const imap = await startImapRole(node.ctx, { maxConnectionsPerIp: held.imap });
    running.push(imap);
    const pop3 = await startPop3Role(node.ctx, { maxConnectionsPerIp: held.pop3 });
    running.push(pop3);

    const admitted = async (port: number, ok: string) => {
      for (;;) {
        const { socket, line } = await firstLine(port);
        socket.destroy();
        if (line.startsWith(ok)) return (Date.now() - killedAt) / 1000;
        if (Date.now() - killedAt > 20_000) return Infinity;
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const [s, i, p] = await Promise.all([admitted(smtp.ports.smtp, '220 '), admitted(imap.ports.imap, '* OK'), admitted(pop3.ports.pop3, '+OK')]);
    // The node's liveness entry expires 6 s after its last heartbeat (every 2 s).
    expect({ smtp: s, imap: i, pop3: p }).toEqual({ smtp: expect.any(Number), imap: expect.any(Number), pop3: expect.any(Number) });
    expect(Math.max(s, i, p)).toBeLessThan(10);

    await new Promise((r) => setTimeout(r, 500));
    // And the counts are right again: the new node admits exactly the allowance, no more.
    const again = await Promise.all(Array.from({ length: LIMIT + 1 }, () => firstLine(smtp.ports.smtp)));
    expect(again.map((l) => l.line.slice(0, 3)).sort()).toEqual([...Array(LIMIT).fill('220'), '421']);
  }, 90_000);
});
