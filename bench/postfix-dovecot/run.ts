/**
 * The reference for `bench:smtp` on the same machine: Postfix (smtpd → cleanup → qmgr → lmtp) delivering through
 * Dovecot's LMTP server into Maildir, both as private instances with their own configuration in a temp dir on the
 * same disk as Dizi's benchmark (os.tmpdir(); `BENCH_DIR` overrides), driven by bench:smtp's own client
 * (bench/smtp-deliver/client.ts, a child process, every message built before the clock starts) with the very same
 * messages, addresses and scenarios:
 *   a) 5,000 × 10 KB to one mailbox over 10 and over 100 concurrent connections;
 *   b) 10,000 × 10 KB to 10,000 mailboxes across 1,000 domains, 100 connections;
 *   c) 500 × 300 KB to one mailbox, 10 connections.
 * A message counts once its file is in the recipient's Maildir (new/ or cur/). One mailbox: its new/ and cur/ are
 * counted every 100 ms. Many: Dovecot's "saved mail to" log lines (written after the file is renamed into new/) are
 * counted every 100 ms; after each scenario every maildir is counted and must agree. Also printed: when the last 250
 * arrived (SMTP alone), CPU milliseconds per message of the Postfix and Dovecot process trees (from /proc; children
 * their masters have reaped included) and of the client, the peak of the summed RSS of each tree (sampled every
 * 300 ms; shared pages count once per process) and, after each scenario, its summed PSS.
 * Needs root and `bash bench/postfix-dovecot/setup.sh` (apt-get install postfix dovecot-lmtpd) once. Loopback only.
 * `BENCH_SCALE`, `BENCH_ONLY` and `BENCH_TEXT` as in bench:smtp; `BENCH_KEEP=1` leaves the temp dir (configuration,
 * logs, maildirs) behind once both servers have stopped.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from '../free-port';
import { BenchClient, sendUntilStored, type Job } from '../smtp-deliver/bench-client';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
/** `BENCH_ONLY=a` (or `b`, `c`, `ab`…) runs only those scenarios; `ccc` runs (c) three times. */
const ONLY = process.env.BENCH_ONLY ?? 'abc';
const POSTFIX = '/usr/sbin/postfix';
const POSTMAP = '/usr/sbin/postmap';
const DOVECOT = '/usr/sbin/dovecot';
/** Owner of every maildir (Dovecot's mail_uid/mail_gid): Debian's `mail` user, uid 8. */
export const MAIL_USER = 'mail';
const PAGE = 4096;
const TICKS = 100;
const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MB`;
const exec = promisify(execFile);

export interface Mailbox { address: string; maildir: string }

// ------------------------------------------------------------------ process trees

interface Proc { ppid: number; cpu: number; rss: number }

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const f = stat.slice(close + 2).split(' ');
    // utime, stime, cutime, cstime: a reaped child's time moves into its parent's cutime/cstime, so a tree's sum over
    // its live processes holds everything its processes ever used, including children that have exited.
    const cpu = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS;
    return { ppid: Number(f[1]), cpu, rss: Number(f[21]) * PAGE };
  } catch {
    return null;
  }
}

/**
 * The processes below one master (Postfix's or Dovecot's), found by parent pid in /proc. A pid seen once outside
 * every tree is not read again (a reused pid is rare over a run), so a sample reads little more than the trees.
 */
export class ProcessTrees {
  private readonly outside = new Set<number>();

  constructor(private readonly roots: Record<string, number>) {}

  /** The pids of each tree as of the last sample. */
  readonly members: Record<string, number[]> = {};

  sample(): Record<string, { cpu: number; rss: number; processes: number }> {
    const procs = new Map<number, Proc>();
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || this.outside.has(pid)) continue;
      const p = readProc(pid);
      if (p) procs.set(pid, p);
    }
    const owner = new Map<number, string>();
    for (const [name, root] of Object.entries(this.roots)) owner.set(root, name);
    const treeOf = (pid: number): string | undefined => {
      const seen: number[] = [];
      let at: number | undefined = pid;
      let found: string | undefined;
      while (at !== undefined && at > 1) {
        found = owner.get(at);
        if (found) break;
        seen.push(at);
        at = procs.get(at)?.ppid;
      }
      for (const s of seen) if (found) owner.set(s, found);
      return found;
    };
    const sums: Record<string, { cpu: number; rss: number; processes: number }> = {};
    for (const name of Object.keys(this.roots)) {
      sums[name] = { cpu: 0, rss: 0, processes: 0 };
      this.members[name] = [];
    }
    for (const [pid, p] of procs) {
      const tree = treeOf(pid);
      if (!tree) {
        this.outside.add(pid);
        continue;
      }
      sums[tree].cpu += p.cpu;
      sums[tree].rss += p.rss;
      sums[tree].processes += 1;
      this.members[tree].push(pid);
    }
    return sums;
  }
}

/**
 * Proportional set size summed over a tree (each shared page split between the processes mapping it), from
 * /proc/<pid>/smaps_rollup: what the tree adds to the machine, unlike the RSS sum. Too slow to sample under load
 * (tens of ms), so read once after a scenario, while its processes are still up.
 */
function pss(pids: number[]): number {
  let bytes = 0;
  for (const pid of pids) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (m) bytes += Number(m[1]) * 1024;
    } catch {
      // gone meanwhile
    }
  }
  return bytes;
}

// ------------------------------------------------------------------ Dovecot

export async function startDovecot(root: string, mailboxes: Mailbox[], uid: number, gid: number): Promise<{ pid: number; socket: string; log: string; stop: () => Promise<void> }> {
  const runDir = join(root, 'run');
  const socket = join(runDir, 'lmtp');
  const log = join(root, 'dovecot.log');
  await mkdir(runDir);
  await mkdir(join(root, 'state'));
  // Virtual users: user:password:uid:gid:gecos:home:shell:extra. No passwords: LMTP needs only the userdb lookup.
  const users = join(root, 'users');
  await writeFile(users, mailboxes.map((m) => `${m.address}::${uid}:${gid}::${join(m.maildir, '..')}::\n`).join(''));
  const conf = join(root, 'dovecot.conf');
  await writeFile(conf, [
    `base_dir = ${runDir}`,
    `state_dir = ${join(root, 'state')}`,
    `log_path = ${log}`,
    'protocols = lmtp',
    'ssl = no',
    `first_valid_uid = ${uid}`,
    'mail_location = maildir:~/Maildir',
    'mail_privileged_group = mail',
    'namespace inbox {\n  inbox = yes\n}',
    `passdb {\n  driver = passwd-file\n  args = ${users}\n}`,
    `userdb {\n  driver = passwd-file\n  args = ${users}\n}`,
    // The default listener, base_dir/lmtp, open to Postfix's lmtp client (user postfix).
    'service lmtp {\n  unix_listener lmtp {\n    mode = 0666\n  }\n}',
    '',
  ].join('\n'));
  const child = spawn(DOVECOT, ['-F', '-c', conf], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await waitFor(`Dovecot's LMTP socket ${socket}`, async () => {
    if (child.exitCode !== null) throw new Error(`dovecot exited with ${child.exitCode}\n${await tail(log)}`);
    return canConnect({ path: socket });
  }, log);
  return {
    pid: child.pid!,
    socket,
    log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

// ------------------------------------------------------------------ Postfix

/**
 * Debian's master.cf with two changes: smtpd listens on 127.0.0.1:<port> instead of *:25, and nothing is chrooted
 * (a chroot would need copies of /etc files and of Dovecot's socket inside the queue directory).
 */
function masterCf(port: number): string {
  return readFileSync('/etc/postfix/master.cf', 'utf8').split('\n').map((line) => {
    if (!/^[a-z0-9]/i.test(line)) return line;
    const f = line.split(/\s+/);
    if (f.length < 8) return line;
    if (f[0] === 'smtp' && f[1] === 'inet') f[0] = `127.0.0.1:${port}`;
    f[4] = 'n';
    return f.join(' ');
  }).join('\n');
}

export async function startPostfix(root: string, port: number, lmtpSocket: string, domains: string[], mailboxes: Mailbox[]): Promise<{ pid: number; log: string; stop: () => Promise<void> }> {
  const etc = join(root, 'etc');
  const spool = join(root, 'spool');
  const data = join(root, 'data');
  const log = join(root, 'maillog');
  for (const d of [etc, spool, data]) await mkdir(d);
  // The master's lock file and the TLS/verify caches live in data_directory, which Postfix wants owned by its user.
  await exec('chown', ['postfix:postfix', data]);
  await writeFile(join(etc, 'domains'), domains.map((d) => `${d} OK\n`).join(''));
  await writeFile(join(etc, 'mailboxes'), mailboxes.map((m) => `${m.address} OK\n`).join(''));
  await writeFile(join(etc, 'main.cf'), [
    // Debian's main.cf.debian.
    'smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)',
    'biff = no',
    'append_dot_mydomain = no',
    'readme_directory = no',
    'compatibility_level = 3.6',
    // What Debian's postinst writes for an "Internet Site", on loopback.
    'smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination',
    'myhostname = mx.bench.test',
    'mydestination = localhost',
    'alias_maps =',
    'alias_database =',
    'mynetworks = 127.0.0.0/8',
    'mailbox_size_limit = 0',
    'recipient_delimiter = +',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    // This instance's own directories.
    `queue_directory = ${spool}`,
    `data_directory = ${data}`,
    // No syslog daemon here: log to a file through postlogd (its CPU counts as Postfix's, as rsyslog's would not).
    `maillog_file = ${log}`,
    `maillog_file_prefixes = ${root}`,
    // The mailboxes: every address is checked at RCPT, as a real site does, and handed to Dovecot over LMTP.
    `virtual_mailbox_domains = hash:${join(etc, 'domains')}`,
    `virtual_mailbox_maps = hash:${join(etc, 'mailboxes')}`,
    `virtual_transport = lmtp:unix:${lmtpSocket}`,
    '',
  ].join('\n'));
  await writeFile(join(etc, 'master.cf'), masterCf(port));
  await exec(POSTMAP, ['-c', etc, `hash:${join(etc, 'domains')}`, `hash:${join(etc, 'mailboxes')}`]);
  // Run as root, `postfix -c DIR` accepts a configuration directory that the default main.cf does not list in
  // alternate_config_directories (that check is for set-gid callers); it creates the queue's subdirectories itself.
  // Its commands report to maillog_file, not to a stderr that is not a terminal.
  try {
    await exec(POSTFIX, ['-c', etc, 'start']);
  } catch (err) {
    throw new Error(`postfix start failed: ${String(err)}\n${await tail(log)}`);
  }
  const pid = Number((await readFile(join(spool, 'pid', 'master.pid'), 'utf8')).trim());
  await waitFor(`Postfix's smtpd on 127.0.0.1:${port}`, () => canConnect({ port, host: '127.0.0.1' }), log);
  return {
    pid,
    log,
    stop: async () => {
      await exec(POSTFIX, ['-c', etc, 'stop']).catch(() => undefined);
      for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(100);
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    },
  };
}

// ------------------------------------------------------------------ delivery counting

/** Files in a maildir's new/ and cur/. */
export function maildirCount(maildir: string): number {
  let n = 0;
  for (const sub of ['new', 'cur']) {
    try {
      n += readdirSync(join(maildir, sub)).length;
    } catch {
      // not created yet
    }
  }
  return n;
}

/** Lines of Dovecot's log saying a message was saved, read incrementally from where the last call stopped. */
class SavedLines {
  private readonly buf = Buffer.alloc(1 << 20);
  private offset = 0;
  private partial = '';
  count = 0;

  constructor(private readonly path: string) {}

  async read(): Promise<number> {
    const fh = await open(this.path, 'r');
    try {
      for (;;) {
        const { bytesRead } = await fh.read(this.buf, 0, this.buf.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        const lines = (this.partial + this.buf.toString('latin1', 0, bytesRead)).split('\n');
        this.partial = lines.pop()!;
        for (const l of lines) if (l.includes(': saved mail to ')) this.count += 1;
      }
    } finally {
      await fh.close();
    }
    return this.count;
  }
}

// ------------------------------------------------------------------ client (bench:smtp's, unchanged)

// ------------------------------------------------------------------ scenarios

interface Servers { port: number; trees: ProcessTrees; saved: SavedLines; peak: { postfix: number; dovecot: number } }

async function run(s: Servers, client: BenchClient, label: string, connections: number, jobs: Job[], mailboxes: Mailbox[]) {
  await client.prepare(s.port, connections, jobs);
  // One mailbox: count its files. Many: count Dovecot's "saved mail to" lines (reading 10,000 directories every
  // 100 ms would cost more than the deliveries); the directories are counted once the clock has stopped.
  const one = mailboxes.length === 1;
  const counted = async () => (one ? maildirCount(mailboxes[0].maildir) : await s.saved.read());
  const filesNow = () => mailboxes.reduce((n, m) => n + maildirCount(m.maildir), 0);
  const filesBefore = one ? await counted() : filesNow();
  const treesBefore = s.trees.sample();
  // Memory every 300 ms: a /proc walk costs this process a few ms, which the servers' two cores would feel.
  const { elapsed, smtp, clientCpuMs } = await sendUntilStored(client, label, jobs.length, counted, (tick) => {
    if (tick % 3 === 0) notePeak(s, s.trees.sample());
  });
  const treesAfter = s.trees.sample();
  notePeak(s, treesAfter);
  const files = filesNow() - filesBefore;
  if (files !== jobs.length) throw new Error(`${label}: counted ${jobs.length} deliveries, the maildirs hold ${files} new files`);
  console.log(`${label}: ${jobs.length} stored in ${elapsed.toFixed(1)} s = ${Math.round(jobs.length / elapsed)} msgs/s end to end`
    + ` (SMTP alone: last 250 after ${smtp.toFixed(1)} s = ${Math.round(jobs.length / smtp)} msgs/s)`);
  const perMessage = (tree: string) => (((treesAfter[tree].cpu - treesBefore[tree].cpu) * 1000) / jobs.length).toFixed(2);
  console.log(`  CPU per message: Postfix ${perMessage('postfix')} ms, Dovecot ${perMessage('dovecot')} ms, client ${(clientCpuMs / jobs.length).toFixed(2)} ms`
);
  const memory = (tree: string) => `${treesAfter[tree].processes} processes, RSS sum ${mb(treesAfter[tree].rss)}, PSS sum ${mb(pss(s.trees.members[tree]))}`;
  console.log(`  once stored: Postfix ${memory('postfix')}; Dovecot ${memory('dovecot')}`);
  return Math.round(jobs.length / elapsed);
}

function notePeak(s: Servers, sample: ReturnType<ProcessTrees['sample']>): void {
  s.peak.postfix = Math.max(s.peak.postfix, sample.postfix.rss);
  s.peak.dovecot = Math.max(s.peak.dovecot, sample.dovecot.rss);
}

// ------------------------------------------------------------------ helpers

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function canConnect(to: net.NetConnectOpts): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(to);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitFor(what: string, ok: () => Promise<boolean>, log: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await ok()) return;
    await sleep(100);
  }
  throw new Error(`${what}: not ready after 10 s\n${await tail(log)}`);
}

/** Warnings and errors a server logged during the run (deferrals, refused connections…), which the figures would hide. */
async function problems(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => /\b(warning|error|fatal|panic|deferred|reject)\b/i.test(l));
}

async function tail(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).split('\n').slice(-20).join('\n');
  } catch {
    return `(no ${path})`;
  }
}

async function inParallel(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await task(next++);
  }));
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  for (const f of [POSTFIX, POSTMAP, DOVECOT, '/usr/lib/dovecot/lmtp']) {
    if (!existsSync(f)) throw new Error(`${f} not found: run bash bench/postfix-dovecot/setup.sh first`);
  }
  if (process.getuid?.() !== 0) throw new Error('needs root: Postfix and Dovecot start as root and drop privileges');
  const uid = Number((await exec('id', ['-u', MAIL_USER])).stdout.trim());
  const gid = Number((await exec('id', ['-g', MAIL_USER])).stdout.trim());

  // Same disk as bench:smtp (its spool and blobs go to os.tmpdir()), not tmpfs: both servers fsync every message.
  const root = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'dizi-bench-pd-'));
  // Postfix's and Dovecot's unprivileged processes need to reach their directories below it.
  await chmod(root, 0o755);
  let stopPostfix: (() => Promise<void>) | undefined;
  let stopDovecot: (() => Promise<void>) | undefined;
  let client: BenchClient | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () => (cleaning ??= (async () => {
    client?.close();
    await stopPostfix?.().catch((err) => console.error('stopping Postfix:', err));
    await stopDovecot?.().catch((err) => console.error('stopping Dovecot:', err));
    if (process.env.BENCH_KEEP) console.log(`kept ${root} (BENCH_KEEP)`);
    else await rm(root, { recursive: true, force: true });
  })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping Postfix and Dovecot, removing ${root}`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  const results: string[] = [];
  try {
    // The addresses bench:smtp seeds: inbox@bench.test, and u1…u10 in each of d1…d1000.bench.test.
    const count = (n: number) => Math.max(1, Math.round(n * SCALE));
    const mailDir = join(root, 'mail');
    const mailbox = (local: string, domain: string): Mailbox => ({ address: `${local}@${domain}`, maildir: join(mailDir, domain, local, 'Maildir') });
    const inbox = mailbox('inbox', 'bench.test');
    const domains = ONLY.includes('b') ? Array.from({ length: count(1000) }, (_, d) => `d${d + 1}.bench.test`) : [];
    const many = domains.flatMap((d) => Array.from({ length: 10 }, (_, g) => mailbox(`u${g + 1}`, d)));
    const all = [inbox, ...many];

    // Every maildir exists before the clock starts, as bench:smtp seeds its mailboxes and their folders first.
    const seedStart = performance.now();
    await inParallel(all.length, 32, async (i) => {
      for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(all[i].maildir, sub), { recursive: true });
    });
    await exec('chown', ['-R', `${uid}:${gid}`, mailDir]);
    await chown(mailDir, uid, gid);
    if (many.length) console.log(`seeded ${domains.length} domains, ${many.length} maildirs in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

    const dovecotRoot = join(root, 'dovecot');
    await mkdir(dovecotRoot);
    const dovecot = await startDovecot(dovecotRoot, all, uid, gid);
    stopDovecot = dovecot.stop;
    const postfixRoot = join(root, 'postfix');
    await mkdir(postfixRoot);
    const port = await freePort();
    const postfix = await startPostfix(postfixRoot, port, dovecot.socket, ['bench.test', ...domains], all);
    stopPostfix = postfix.stop;

    const s: Servers = { port, trees: new ProcessTrees({ postfix: postfix.pid, dovecot: dovecot.pid }), saved: new SavedLines(dovecot.log), peak: { postfix: 0, dovecot: 0 } };
    notePeak(s, s.trees.sample());
    client = new BenchClient();

    for (const connections of ONLY.includes('a') ? [10, 100] : []) {
      const jobs = Array.from({ length: count(5000) }, (_, i) => ({ to: inbox.address, bytes: 10 * 1024, n: i + connections * 100_000 }));
      results.push(`a) 10 KB, one mailbox, ${connections} connections: ${await run(s, client, `a) ${connections} conn`, connections, jobs, [inbox])} msgs/s (issue's figure ${connections === 10 ? 317 : 282})`);
    }

    if (ONLY.includes('b')) {
      const spread = Array.from({ length: count(10_000) }, (_, i) => ({ to: many[i % many.length].address, bytes: 10 * 1024, n: i }));
      results.push(`b) 10 KB to ${many.length} mailboxes in ${domains.length} domains, 100 connections: ${await run(s, client, 'b) spread', 100, spread, many)} msgs/s (issue's figure 256)`);
    }

    for (let round = 0; round < [...ONLY].filter((ch) => ch === 'c').length; round++) {
      const big = Array.from({ length: count(500) }, (_, i) => ({ to: inbox.address, bytes: 300 * 1024, n: i + 9_000_000 + round * 1000 }));
      results.push(`c) 300 KB, one mailbox, 10 connections: ${await run(s, client, 'c) 300 KB', 10, big, [inbox])} msgs/s (issue's figure 201)`);
    }

    const postfixVersion = (await exec('/usr/sbin/postconf', ['-c', join(postfixRoot, 'etc'), '-h', 'mail_version'])).stdout.trim();
    const dovecotVersion = (await exec(DOVECOT, ['--version'])).stdout.trim();
    console.log(`\nPostfix ${postfixVersion} + Dovecot ${dovecotVersion} LMTP → Maildir, scale ${SCALE}, text ${process.env.BENCH_TEXT === 'varied' ? 'varied' : 'repeated'}, in ${root}`);
    for (const r of results) console.log(r);
    for (const [name, log] of [['Postfix', postfix.log], ['Dovecot', dovecot.log]]) {
      const lines = await problems(log);
      console.log(`${name} logged ${lines.length} warnings/errors/deferrals${lines.length ? `, e.g.\n  ${lines.slice(0, 5).join('\n  ')}` : ''}`);
    }
    console.log(`peak RSS, summed over each tree's processes (shared pages counted in each): Postfix ${mb(s.peak.postfix)}, Dovecot ${mb(s.peak.dovecot)}`);
  } finally {
    await cleanup();
  }
}

// bench/smtp-source starts these servers through the exports above.
if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
