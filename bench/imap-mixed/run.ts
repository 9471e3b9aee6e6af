/**
 * Mixed concurrent IMAP load, Dizi's imap role beside Dovecot 2.3 in the same run: N sessions of one account on M
 * folders doing LOGIN, LIST, STATUS, SELECT, FETCH, STORE, EXPUNGE, APPEND and COPY at random, every response checked
 * by our state-checking stress client (libs/testing/src/imap-stress). Prints commands per second per kind, p50/p95
 * and state violations for each server; runs alternate between the servers and the figures are medians of the runs.
 */
import { execFile, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { Pool } from 'pg';
import pino from 'pino';
import selfsigned from 'selfsigned';
import { hashPassword } from '@dizi/auth/password-hash';
import { loadMtaConfig } from '@dizi/config/mta.config';
import { SettingsSource } from '@dizi/delivery/adapters/postgres/settings-source';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { PostgresMessageStore } from '@dizi/mail-store/adapters/postgres-message-store';
import { RedisNotifier } from '@dizi/mail-store/adapters/redis-notifier';
import { ImapWire } from '@dizi/testing/imap-stress/imap-wire';
import { formatStressReport, percentile, runImapStress, STRESS_COMMANDS, type StressReport } from '@dizi/testing/imap-stress/stress-client';
import { createTestDatabase, TEST_REDIS_URL } from '@dizi/testing/test-database';
import { postgresDeliveryStores } from '@dizi/delivery/adapters/postgres/delivery-stores';
import type { MtaContext } from '../../apps/mta/src/context';
import { startImapRole } from '../../apps/mta/src/roles/imap.role';
import { freePort } from '../free-port';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 20);
const FOLDERS = Number(process.env.BENCH_FOLDERS ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/**
 * Reconnects (LOGOUT, connect, LOGIN, SELECT) per 100 commands: argon2id at each LOGIN costs ~100 ms of CPU on both
 * servers and, on a shared 2-core machine, would dominate every other figure; LOGIN is reported on its own row.
 */
const LOGIN_WEIGHT = Number(process.env.BENCH_LOGIN_WEIGHT ?? 0.2);
/** BENCH_PG_WAITS=1: sample what Dizi's PostgreSQL sessions wait on during its runs (what serialises the load). */
const PG_WAITS = process.env.BENCH_PG_WAITS === '1';
/** BENCH_QUERIES=1: count the node's PostgreSQL queries by statement during Dizi's runs (round trips per command). */
const COUNT_QUERIES = process.env.BENCH_QUERIES === '1';
/** Messages put in each folder before the runs, so FETCH, STORE and COPY have something to work on. */
const PRELOAD = Number(process.env.BENCH_PRELOAD ?? 100);
const PASSWORD = 'Bench-Horse-Battery-9';
const USER = 'mixed@bench.example';
const DOVECOT = '/usr/sbin/dovecot';

const folderNames = () => ['INBOX', ...Array.from({ length: FOLDERS - 1 }, (_, i) => `box${i + 1}`)];

async function startDovecot(root: string, pems: { cert: string; private: string }, passwordHash: string): Promise<{ port: number; stop: () => Promise<void> } | null> {
  if (!existsSync(DOVECOT)) return null;
  const port = await freePort();
  const home = join(root, 'home');
  await mkdir(home, { recursive: true });
  await writeFile(join(root, 'cert.pem'), pems.cert);
  await writeFile(join(root, 'key.pem'), pems.private);
  // The very hash Dizi stores ({ARGON2ID}), so LOGIN costs the same on both.
  await writeFile(join(root, 'passwd'), `${USER}:${passwordHash}::::${home}::\n`);
  const conf = join(root, 'dovecot.conf');
  await writeFile(conf, [
    `base_dir = ${join(root, 'run')}`,
    `state_dir = ${join(root, 'state')}`,
    `log_path = ${join(root, 'dovecot.log')}`,
    'protocols = imap',
    'listen = 127.0.0.1',
    'ssl = required',
    `ssl_cert = <${join(root, 'cert.pem')}`,
    `ssl_key = <${join(root, 'key.pem')}`,
    'auth_mechanisms = plain',
    'mail_uid = dovecot',
    'mail_gid = dovecot',
    'first_valid_uid = 1',
    // sdbox: Dovecot's own format, with no limit on keywords (Maildir keeps 26).
    'mail_location = sdbox:~/sdbox',
    'mail_max_userip_connections = 1000',
    'passdb {\n  driver = passwd-file\n  args = ' + join(root, 'passwd') + '\n}',
    'userdb {\n  driver = passwd-file\n  args = ' + join(root, 'passwd') + '\n}',
    'service imap-login {\n  inet_listener imap {\n    port = 0\n  }\n  inet_listener imaps {\n    port = ' + port + '\n    ssl = yes\n  }\n}',
    'service anvil {\n  chroot =\n}',
    '',
  ].join('\n'));
  await mkdir(join(root, 'run'));
  await mkdir(join(root, 'state'));
  const run = promisify(execFile);
  const uid = Number((await run('id', ['-u', 'dovecot'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'dovecot'])).stdout.trim());
  await chmod(root, 0o755);
  await run('chown', ['-R', `${uid}:${gid}`, home]);
  const child = spawn(DOVECOT, ['-F', '-c', conf], { stdio: ['ignore', 'inherit', 'inherit'] });
  for (let i = 0; i < 100 && !(await canConnect(port)); i++) await new Promise((r) => setTimeout(r, 100));
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Samples pg_stat_activity of the bench database every 20 ms: what active sessions wait on, and in which statement. */
function sampleWaits(url: string): { stop: () => Promise<string> } {
  const pool = new Pool({ connectionString: url, max: 1 });
  const tally = new Map<string, number>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await pool.query(
        `SELECT state || ' ' || coalesce(wait_event_type || ':' || wait_event, 'CPU')
                || coalesce(' on ' || (SELECT l.relation::regclass::text FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted AND l.relation IS NOT NULL LIMIT 1), '') AS wait,
                left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS query
           FROM pg_stat_activity a WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()`);
      samples++;
      for (const r of rows) tally.set(`${r.wait.padEnd(28)} ${r.query}`, (tally.get(`${r.wait.padEnd(28)} ${r.query}`) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await pool.end();
      const top = [...tally].sort((a, b) => b[1] - a[1]).slice(0, 15);
      return [`  PostgreSQL, active sessions per sample (${samples} samples): wait, statement`, ...top.map(([k, n]) => `  ${(n / samples).toFixed(2).padStart(6)}  ${k}`)].join('\n');
    },
  };
}

/**
 * The stress client runs in a child process: in this one it would take its CPU from Dizi's event loop, which Dovecot
 * (its own processes) never pays.
 */
async function clientRun(port: number): Promise<StressReport> {
  const child = fork(__filename, ['client', String(port)], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const report = await new Promise<StressReport>((resolve, reject) => {
    child.once('message', (m) => resolve(m as StressReport));
    child.once('exit', (code) => reject(new Error(`stress client exited with ${code}`)));
  });
  await new Promise((r) => child.once('exit', r));
  return report;
}

async function clientMain(port: number): Promise<void> {
  const report = await runImapStress({
    host: '127.0.0.1', port, tls: true, user: USER, password: PASSWORD,
    folders: folderNames(), sessions: SESSIONS, durationMs: SECONDS * 1000,
    // A loaded shared machine makes argon2id LOGINs take seconds on both servers; slow is a figure, not an error.
    timeoutMs: 60_000,
    // BENCH_WEIGHTS='{"STORE":1,"FETCH":1}' narrows the mix, to see which command serialises.
    weights: { LOGIN: LOGIN_WEIGHT, ...(process.env.BENCH_WEIGHTS ? JSON.parse(process.env.BENCH_WEIGHTS) : {}) },
  });
  await new Promise<void>((resolve) => process.send!(report, () => resolve()));
}

/** The same folders and messages on either server, made over IMAP. */
async function prepare(port: number): Promise<void> {
  const { wire } = await ImapWire.connect({ host: '127.0.0.1', port, tls: true, timeoutMs: 30_000 });
  try {
    const login = await wire.command(`LOGIN "${USER}" "${PASSWORD}"`);
    if (login.status !== 'OK') throw new Error(`LOGIN: ${login.text}`);
    for (const name of folderNames()) {
      if (name !== 'INBOX') await wire.command(`CREATE "${name}"`);
      for (let i = 0; i < PRELOAD; i++) {
        const body = Buffer.from(`From: seed@example.test\r\nTo: ${USER}\r\nSubject: seed ${name} ${i}\r\nMessage-ID: <seed.${name}.${i}@example.test>\r\n\r\n${'Seeded text. '.repeat(20 + (i % 50))}\r\n`);
        const reply = await wire.command(`APPEND "${name}" ()`, body);
        if (reply.status !== 'OK') throw new Error(`APPEND: ${reply.text}`);
      }
    }
    await wire.command('LOGOUT');
  } finally {
    wire.close();
  }
}

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const pool = new Pool({ connectionString: db.url, max: 20 });
  pool.on('error', () => undefined);
  const queryCounts = new Map<string, number>();
  let counting = false;
  if (COUNT_QUERIES) {
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      if (counting) {
        const text = typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string }).text);
        const key = text.replace(/'[^']*'/g, "'…'").replace(/\s+/g, ' ').slice(0, 90);
        queryCounts.set(key, (queryCounts.get(key) ?? 0) + 1);
      }
      return query(...args);
    };
  }
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: null });
  const root = await mkdtemp(join(process.env.BENCH_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), 'dizi-bench-mixed-'));
  await chmod(root, 0o755);
  const blobDir = join(root, 'blobs');
  await mkdir(blobDir);
  const notifier = new RedisNotifier(redis, { prefix: `${prefix}mailbox:` });
  const store = new PostgresMessageStore({ pool, blobs: new FsBlobStore(blobDir), notifier });
  let stopDizi: (() => Promise<void>) | undefined;
  let stopDovecot: (() => Promise<void>) | undefined;
  try {
    const passwordHash = await hashPassword(PASSWORD);
    const { rows: [tenant] } = await pool.query(`INSERT INTO tenant (name) VALUES ('Bench') RETURNING id`);
    const { rows: [domain] } = await pool.query(
      `INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, 'bench.example', 'bench.example') RETURNING id`, [tenant.id]);
    const { rows: [mailbox] } = await pool.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes)
       VALUES ($1, $2, 'mixed', $3, $4, 1e12) RETURNING id`, [tenant.id, domain.id, USER, passwordHash]);
    await store.createDefaultFolders(mailbox.id);

    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' });
    const config = { ...loadMtaConfig({ DATABASE_URL: db.url, AUTH_CACHE_TTL_SECONDS: process.env.AUTH_CACHE_TTL_SECONDS }), IMAP_PORT: 0, IMAPS_PORT: 0, MTA_BIND: '127.0.0.1' };
    const ctx: MtaContext = {
      config,
      logger: pino({ level: process.env.BENCH_LOG_LEVEL ?? 'silent' }),
      pool,
      redis,
      blobs: new FsBlobStore(blobDir),
      store,
      notifier,
      ...postgresDeliveryStores(pool, store, 'bench.test'),
      settings: new SettingsSource(pool),
      tls: { key: Buffer.from(pems.private), cert: Buffer.from(pems.cert) },
      deliveryHandoff: null,
      slots: null,
      close: async () => undefined,
    };
    const role = await startImapRole(ctx, { maxConnectionsPerIp: 10_000, maxConnectionsPerIpPerMinute: 100_000 });
    stopDizi = () => role.stop();
    const dovecotRoot = join(root, 'dovecot');
    await mkdir(dovecotRoot);
    const dovecot = await startDovecot(dovecotRoot, pems, passwordHash);
    stopDovecot = dovecot?.stop;
    if (!dovecot) console.log(`Dovecot skipped: ${DOVECOT} not found (apt-get install -y dovecot-imapd)`);

    const servers: Array<{ name: string; port: number }> = [{ name: 'Dizi', port: role.ports.imaps }];
    if (dovecot) servers.push({ name: 'Dovecot', port: dovecot.port });
    for (const s of servers) await prepare(s.port);
    console.log(`${SESSIONS} sessions, ${FOLDERS} folders (${PRELOAD} messages each to start), ${SECONDS} s a run, ${RUNS} runs per server, alternating`);

    const reports = new Map<string, StressReport[]>(servers.map((s) => [s.name, []]));
    for (let run = 0; run < RUNS; run++) {
      // Alternate who goes first: the machine is shared, and its load drifts.
      const order = run % 2 === 0 ? servers : [...servers].reverse();
      for (const s of order) {
        const sampler = PG_WAITS && s.name === 'Dizi' ? sampleWaits(db.url) : null;
        if (process.env.BENCH_ONLY && process.env.BENCH_ONLY !== s.name) continue;
        counting = s.name === 'Dizi';
        queryCounts.clear();
        const cpuBefore = process.cpuUsage();
        const report = await clientRun(s.port);
        const cpu = process.cpuUsage(cpuBefore);
        counting = false;
        if (s.name === 'Dizi') {
          // Steadier than commands per second on a shared machine: the node's own CPU (the imap role runs in this process).
          const commands = STRESS_COMMANDS.reduce((n, k) => n + report.commands[k].count, 0);
          console.log(`  Dizi node CPU: ${((cpu.user + cpu.system) / 1000 / commands).toFixed(2)} ms per command (${((cpu.user + cpu.system) / 1000 / report.elapsedMs * 100).toFixed(0)}% of one core)`);
        }
        if (sampler) console.log(await sampler.stop());
        if (COUNT_QUERIES && s.name === 'Dizi') {
          const commands = STRESS_COMMANDS.reduce((n, k) => n + report.commands[k].count, 0);
          const total = [...queryCounts.values()].reduce((a, b) => a + b, 0);
          console.log(`  PostgreSQL queries from the pool: ${total} for ${commands} commands (${(total / commands).toFixed(2)} per command)`);
          for (const [k, n] of [...queryCounts].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${String(n).padStart(7)}  ${k}`);
        }
        reports.get(s.name)!.push(report);
        console.log(`\nrun ${run + 1}, ${formatStressReport(s.name, report)}`);
        for (const v of report.violations.slice(0, 5)) console.log(`  violation: session ${v.session} ${v.command}: ${v.problem} — ${v.response}`);
        for (const e of report.errors.slice(0, 5)) console.log(`  error: ${e}`);
      }
    }

    const median = (xs: number[]) => percentile(xs, 50);
    const width = 10;
    console.log(`\nMedians of ${RUNS} runs (commands per second; p50 / p95 ms per command)`);
    console.log(`${'command'.padEnd(width)}${servers.map((s) => `${s.name} /s`.padStart(12) + `${s.name} p50/p95`.padStart(22)).join('')}`);
    for (const c of [...STRESS_COMMANDS, 'total'] as const) {
      let row = c.padEnd(width);
      for (const s of servers) {
        const rs = reports.get(s.name)!;
        const perSec = rs.map((r) => (c === 'total' ? STRESS_COMMANDS.reduce((n, k) => n + r.commands[k].count, 0) : r.commands[c].count) / (r.elapsedMs / 1000));
        const lat = c === 'total' ? null : [median(rs.map((r) => percentile(r.commands[c].latencies, 50))), median(rs.map((r) => percentile(r.commands[c].latencies, 95)))];
        row += median(perSec).toFixed(1).padStart(12) + (lat ? `${lat[0].toFixed(1)} / ${lat[1].toFixed(1)}` : '').padStart(22);
      }
      console.log(row);
    }
    for (const s of servers) {
      const rs = reports.get(s.name)!;
      console.log(`${s.name}: ${rs.reduce((n, r) => n + r.violations.length, 0)} state violations, ${rs.reduce((n, r) => n + r.errors.length, 0)} session errors in ${RUNS} runs`);
    }
  } finally {
    await stopDovecot?.().catch(() => undefined);
    await stopDizi?.().catch(() => undefined);
    await notifier.close();
    redis.disconnect();
    await pool.end();
    await db.drop();
    await rm(root, { recursive: true, force: true });
  }
}

(process.argv[2] === 'client' ? clientMain(Number(process.argv[3])) : main()).then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
