/**
 * One message per connection, as most sending MTAs deliver: Postfix's own load generator `smtp-source` (one SMTP
 * session per message) against the Dizi system as `npm start` runs it (API + mail node with every role, embedded
 * PostgreSQL in a temp data dir, Redis under a prefix of its own) and against Postfix 3.7 + Dovecot 2.3 LMTP →
 * Maildir (bench/postfix-dovecot's private instances), taken in turn, run after run, so both see the same machine:
 *   s10)  smtp-source -s 10  -m 5000 -l 10240
 *   s100) smtp-source -s 100 -m 5000 -l 10240
 *   big)  smtp-source -s 10  -m 500  -l 307200
 *   s1)   smtp-source -s 1   -m 500  -l 10240  (only with BENCH_ONLY=s1: per-connection latency, no queueing)
 * Printed per run and as medians: msgs/s with the clock stopped at smtp-source's exit (its last session done: SMTP
 * alone) and once every message is stored (Dizi: the mailbox's message counter, committed with the message rows;
 * Postfix+Dovecot: files in the Maildir), plus the Dizi mail node's CPU ms per message.
 * Needs root, `bash bench/postfix-dovecot/setup.sh` once, and ports 41000-41999 free (`BENCH_PORT_BASE` moves them).
 * `BENCH_RUNS` (default 3), `BENCH_SCALE` (message counts), `BENCH_ONLY` (e.g. `s10,big`), `BENCH_SKIP_POSTFIX=1`.
 * `BENCH_BASELINE_ROOT=<dir>`: a second Dizi tree (e.g. `git archive <commit>` with this tree's node_modules linked in)
 * run as a third system, in turn with the others, on the ports above plus one: before/after figures of a change.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { MAIL_USER, maildirCount, startDovecot, startPostfix, type Mailbox } from '../postfix-dovecot/run';

const exec = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const SMTP_SOURCE = '/usr/sbin/smtp-source';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const BASE = Number(process.env.BENCH_PORT_BASE ?? 41000);
const PASSWORD = 'bench-pass-123';
/** smtp-source's EHLO name: not the machine's own, which both servers (rightly) refuse from a stranger. */
const CLIENT_NAME = 'client.bench.test';

interface Scenario { name: string; sessions: number; messages: number; bytes: number }
const SCENARIOS: Scenario[] = [
  { name: 's10', sessions: 10, messages: 5000, bytes: 10 * 1024 },
  { name: 's100', sessions: 100, messages: 5000, bytes: 10 * 1024 },
  { name: 'big', sessions: 10, messages: 500, bytes: 300 * 1024 },
  // Only when named: one session at a time shows the per-connection latency (greeting included) without queueing.
  { name: 's1', sessions: 1, messages: 500, bytes: 10 * 1024 },
].filter((s) => (process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').includes(s.name) : s.name !== 's1'));

interface Target {
  name: string;
  port: number;
  recipient: string;
  stored(): Promise<number>;
  cpuSeconds?(): number;
}

interface Result { smtp: number; stored: number; cpuMsPerMessage?: number }

async function smtpSource(port: number, s: Scenario, messages: number, recipient: string): Promise<void> {
  await exec(SMTP_SOURCE, [
    '-s', String(s.sessions), '-m', String(messages), '-l', String(s.bytes),
    '-M', CLIENT_NAME, '-f', 'load@client.bench.test', '-t', recipient, `127.0.0.1:${port}`,
  ], { maxBuffer: 64 * 1024 * 1024 });
}

async function measure(t: Target, s: Scenario): Promise<Result> {
  const messages = Math.max(1, Math.round(s.messages * SCALE));
  const before = await t.stored();
  const cpuBefore = t.cpuSeconds?.();
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  await smtpSource(t.port, s, messages, t.recipient);
  const smtp = seconds();
  const until = Date.now() + 600_000;
  while ((await t.stored()) - before < messages) {
    if (Date.now() > until) throw new Error(`${t.name} ${s.name}: only ${(await t.stored()) - before} of ${messages} stored after 10 minutes`);
    await sleep(50);
  }
  const stored = seconds();
  const got = (await t.stored()) - before;
  if (got !== messages) throw new Error(`${t.name} ${s.name}: ${got} stored for ${messages} sent`);
  const cpu = t.cpuSeconds && cpuBefore !== undefined ? ((t.cpuSeconds() - cpuBefore) * 1000) / messages : undefined;
  return { smtp: messages / smtp, stored: messages / stored, cpuMsPerMessage: cpu };
}

/** user + system CPU seconds of one process, children it reaped included. */
function processCpu(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

function greets(port: number): Promise<boolean> {
  return new Promise((res) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(2000, () => { socket.destroy(); res(false); });
    socket.once('data', (d) => { socket.end('QUIT\r\n'); res(d.toString().startsWith('220')); });
    socket.once('error', () => res(false));
  });
}

/** The pid of the mail node under `npm start` (tools/start.ts runs api and mta as node children). */
async function mtaPid(launcher: number): Promise<number> {
  const { stdout } = await exec('ps', ['-eo', 'pid=,ppid=,args=']);
  const rows = stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
  const kids = (p: number) => rows.filter((r) => Number(r[1]) === p);
  for (const child of kids(launcher)) {
    for (const grandchild of [child, ...kids(Number(child[0]))]) if (grandchild.join(' ').includes('apps/mta/src/main.ts')) return Number(grandchild[0]);
  }
  throw new Error('mail node process not found');
}

async function startDizi(dataDir: string, name = 'Dizi', root = ROOT, base = BASE): Promise<{ target: Target; stop(): Promise<void> }> {
  const ports = { API_PORT: base, SMTP_PORT: base + 25, SUBMISSION_PORT: base + 587, SUBMISSIONS_PORT: base + 465, IMAP_PORT: base + 143, IMAPS_PORT: base + 993, POP3_PORT: base + 110, POP3S_PORT: base + 995, SIEVE_PORT: base + 190, EMBEDDED_PG_PORT: base + 433 };
  await mkdir(dataDir, { recursive: true });
  const log = openSync(join(dataDir, 'npm-start.log'), 'a');
  const env: NodeJS.ProcessEnv = { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), DIZI_DATA_DIR: dataDir, DIZI_DEMO_PASSWORD: PASSWORD, REDIS_PREFIX: `dizi-bench-${process.pid}-${base}:` };
  delete env.DATABASE_URL;
  const launcher: ChildProcess = spawn(process.execPath, [join(root, 'tools/start.mjs')], { cwd: root, env, stdio: ['ignore', log, log], detached: true });
  const stop = async () => {
    if (launcher.exitCode !== null) return;
    const exited = new Promise((r) => launcher.once('exit', r));
    launcher.kill('SIGTERM');
    await Promise.race([exited, sleep(30_000)]);
    if (launcher.exitCode === null) process.kill(-launcher.pid!, 'SIGKILL');
  };
  try {
    const until = Date.now() + 180_000;
    while (!(await greets(ports.SMTP_PORT))) {
      if (launcher.exitCode !== null || Date.now() > until) throw new Error(`npm start did not come up; see ${join(dataDir, 'npm-start.log')}`);
      await sleep(500);
    }
    // As an operator would: the per-address limits (32 per minute by default) out of the way of one sending host.
    const api = `http://127.0.0.1:${ports.API_PORT}/api`;
    for (;;) {
      const login = await fetch(`${api}/auth/operator/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'operator', password: PASSWORD }) }).catch(() => null);
      if (login?.ok) {
        const { accessToken } = (await login.json()) as { accessToken: string };
        const patch = await fetch(`${api}/settings/smtp`, { method: 'PATCH', headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` }, body: JSON.stringify({ connectionsPerIpPerMinute: 100_000, concurrentConnectionsPerIp: 10_000 }) });
        if (!patch.ok) throw new Error(`PATCH /api/settings/smtp: ${patch.status} ${await patch.text()}`);
        break;
      }
      if (Date.now() > until) throw new Error('API login failed');
      await sleep(500);
    }
    await sleep(1000);
    const db = new Client({ connectionString: `postgres://postgres:dizi-embedded@127.0.0.1:${ports.EMBEDDED_PG_PORT}/dizi` });
    await db.connect();
    const node = await mtaPid(launcher.pid!);
    return {
      target: {
        name,
        port: ports.SMTP_PORT,
        recipient: 'alice@demo.test',
        stored: async () => (await db.query(`SELECT message_count::int AS n FROM mailbox WHERE address = 'alice@demo.test'`)).rows[0].n as number,
        cpuSeconds: () => processCpu(node),
      },
      stop: async () => {
        await db.end();
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startReference(root: string): Promise<{ target: Target; stop(): Promise<void> }> {
  const uid = Number((await exec('id', ['-u', MAIL_USER])).stdout.trim());
  const gid = Number((await exec('id', ['-g', MAIL_USER])).stdout.trim());
  const mailDir = join(root, 'mail');
  const inbox: Mailbox = { address: 'inbox@bench.test', maildir: join(mailDir, 'bench.test', 'inbox', 'Maildir') };
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(inbox.maildir, sub), { recursive: true });
  await exec('chown', ['-R', `${uid}:${gid}`, mailDir]);
  await chown(mailDir, uid, gid);
  await mkdir(join(root, 'dovecot'));
  const dovecot = await startDovecot(join(root, 'dovecot'), [inbox], uid, gid);
  await mkdir(join(root, 'postfix'));
  const port = BASE + 525;
  const postfix = await startPostfix(join(root, 'postfix'), port, dovecot.socket, ['bench.test'], [inbox]).catch(async (err) => {
    await dovecot.stop();
    throw err;
  });
  return {
    target: { name: 'Postfix+Dovecot', port, recipient: inbox.address, stored: async () => maildirCount(inbox.maildir) },
    stop: async () => {
      await postfix.stop().catch((e) => console.error('stopping Postfix:', e));
      await dovecot.stop().catch((e) => console.error('stopping Dovecot:', e));
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const root = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'dizi-bench-source-'));
  await chmod(root, 0o755);
  const stops: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const s of stops.reverse()) await s().catch((e) => console.error(e));
    if (!process.env.BENCH_KEEP) await rm(root, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  try {
    const targets: Target[] = [];
    const dizi = await startDizi(join(root, 'dizi'));
    stops.push(dizi.stop);
    targets.push(dizi.target);
    if (process.env.BENCH_BASELINE_ROOT) {
      const baseline = await startDizi(join(root, 'baseline'), 'Dizi baseline', resolve(process.env.BENCH_BASELINE_ROOT), BASE + 1);
      stops.push(baseline.stop);
      targets.push(baseline.target);
    }
    if (!process.env.BENCH_SKIP_POSTFIX) {
      const ref = await startReference(join(root, 'reference'));
      stops.push(ref.stop);
      targets.push(ref.target);
    }
    // Warm-up: first connections, JIT, caches.
    for (const t of targets) await measure(t, { name: 'warm-up', sessions: 10, messages: Math.round(200 / Math.max(SCALE, 0.01)), bytes: 10 * 1024 });
    const results = new Map<string, Result[]>();
    for (const s of SCENARIOS) {
      for (let run = 0; run < RUNS; run++) {
        // Each run in turn, the order alternating, so neither always meets a machine the other just warmed or loaded.
        const order = targets.map((_, i) => targets[(i + run) % targets.length]);
        for (const t of order) {
          const r = await measure(t, s);
          const key = `${s.name} ${t.name}`;
          results.set(key, [...(results.get(key) ?? []), r]);
          console.log(`${s.name} run ${run + 1} ${t.name}: SMTP ${r.smtp.toFixed(1)} msgs/s, stored ${r.stored.toFixed(1)} msgs/s${r.cpuMsPerMessage !== undefined ? `, node CPU ${r.cpuMsPerMessage.toFixed(2)} ms/msg` : ''}`);
        }
      }
    }
    console.log(`\nmedians of ${RUNS} runs (smtp-source, one message per connection, scale ${SCALE}):`);
    for (const s of SCENARIOS) {
      const line = targets.map((t) => {
        const rs = results.get(`${s.name} ${t.name}`) ?? [];
        const cpu = rs.every((r) => r.cpuMsPerMessage !== undefined) ? `, node CPU ${median(rs.map((r) => r.cpuMsPerMessage!)).toFixed(2)} ms/msg` : '';
        return `${t.name} SMTP ${median(rs.map((r) => r.smtp)).toFixed(1)} / stored ${median(rs.map((r) => r.stored)).toFixed(1)} msgs/s${cpu}`;
      });
      console.log(`  ${s.name} (-s ${s.sessions} -m ${Math.round(s.messages * SCALE)} -l ${s.bytes}): ${line.join('; ')}`);
    }
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
