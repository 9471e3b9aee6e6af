/**
 * Real virus and spam scanners for tests, started as child processes on loopback with a temp config:
 * ClamAV's clamd (apt package `clamav-daemon`) with a tiny signature database written here (no internet, so no
 * official signatures), and SpamAssassin's spamd (apt package `spamassassin`) with the rules the package ships
 * plus the test's own, offline (no DNS, no network tests, no Bayes) so scores are deterministic; and Rspamd (apt package
 * `rspamd`) with its shipped rules, the same test marker rule, and DNS pointed at nothing.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CLAMD_BIN = process.env.CLAMD_BIN ?? '/usr/sbin/clamd';
export const SPAMD_BIN = process.env.SPAMD_BIN ?? '/usr/sbin/spamd';

/** The EICAR anti-virus test file (https://www.eicar.org), which every scanner is meant to flag. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
/** clamd reports signatures from a non-official database with this suffix. */
export const EICAR_SIGNATURE = 'Dizi.Test.EICAR.UNOFFICIAL';
/** A body rule of the test spamd scores this marker at SPAM_MARKER_SCORE. */
export const SPAM_MARKER = 'dizi-spam-test-marker';
export const SPAM_MARKER_SCORE = 20;
export const SPAM_MARKER_RULE = 'DIZI_TEST_SPAM';

export interface ScannerDaemon {
  /** `127.0.0.1:<port>` */
  address: string;
  /** ms from spawn until the daemon answered PING. */
  startMs: number;
  /** The daemon's output so far (for a failing test's message). */
  log(): string;
  stop(): Promise<void>;
}

export interface Clamd extends ScannerDaemon {
  /** Its unix socket path (also accepted as `unix:<path>`). */
  socket: string;
}

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Sends `request` and reads until the daemon closes: whether the answer contains `expect`. Written here rather than
 * taken from libs/filters, whose own tests use these daemons (the libraries must not depend on each other in a circle).
 */
function ping(host: string, port: number, request: string, expect: string): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = connect({ host, port });
    socket.setTimeout(2000, () => socket.destroy());
    socket.on('error', () => resolve(false));
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
    });
    socket.on('close', () => resolve(answer.includes(expect)));
    socket.on('connect', () => socket.write(request));
  });
}

function track(child: ChildProcess): () => string {
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => out;
}

async function waitReady(name: string, child: ChildProcess, log: () => string, ping: () => Promise<boolean>, limitMs: number): Promise<void> {
  const started = Date.now();
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  for (;;) {
    if (exited !== null) throw new Error(`${name} exited with ${exited} before it answered PING:\n${log()}`);
    if (await ping()) return;
    if (Date.now() - started > limitMs) throw new Error(`${name} did not answer PING within ${limitMs} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
}

export interface ClamdOptions {
  /** Body signatures (`.ndb`): a name and the text it matches anywhere in a file. EICAR is always there. */
  signatures?: Array<{ name: string; text: string }>;
  /** clamd StreamMaxLength (default 10 MB). */
  streamMaxBytes?: number;
}

export async function startClamd(o: ClamdOptions = {}): Promise<Clamd> {
  if (!existsSync(CLAMD_BIN)) throw new Error(`${CLAMD_BIN} is missing: install the Debian package "clamav-daemon" (apt-get install clamav-daemon)`);
  const dir = await mkdtemp(join(tmpdir(), 'dizi-clamd-'));
  const signatures = [{ name: 'Dizi.Test.EICAR', text: EICAR }, ...(o.signatures ?? [])];
  await writeFile(join(dir, 'dizi-test.ndb'), signatures.map((s) => `${s.name}:0:*:${Buffer.from(s.text).toString('hex')}\n`).join(''));
  const port = await freeTcpPort();
  const socket = join(dir, 'clamd.sock');
  const conf = join(dir, 'clamd.conf');
  await writeFile(conf, [
    'Foreground yes',
    `DatabaseDirectory ${dir}`,
    `TemporaryDirectory ${dir}`,
    `PidFile ${join(dir, 'clamd.pid')}`,
    `LocalSocket ${socket}`,
    'TCPAddr 127.0.0.1',
    `TCPSocket ${port}`,
    `StreamMaxLength ${o.streamMaxBytes ?? 10 * 1024 * 1024}`,
    'MaxThreads 4',
    'LogTime yes',
    'SelfCheck 3600',
    '',
  ].join('\n'));
  const t0 = Date.now();
  const child = spawn(CLAMD_BIN, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = track(child);
  const address = `127.0.0.1:${port}`;
  const stop = stopper(child, dir);
  try {
    await waitReady('clamd', child, log, () => ping('127.0.0.1', port, 'zPING\0', 'PONG'), 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, socket, startMs: Date.now() - t0, log, stop };
}

export interface SpamdOptions {
  /** More SpamAssassin configuration lines (rules, scores) after the test marker rule. */
  rules?: string[];
}

export async function startSpamd(o: SpamdOptions = {}): Promise<ScannerDaemon> {
  if (!existsSync(SPAMD_BIN)) throw new Error(`${SPAMD_BIN} is missing: install the Debian package "spamassassin" (apt-get install spamassassin)`);
  const dir = await mkdtemp(join(tmpdir(), 'dizi-spamd-'));
  // spamd's children run as nobody when started by root: they must be able to read this.
  await chmod(dir, 0o755);
  // The plugin loaders of the installed package, so the shipped rules run as on a real installation.
  for (const f of existsSync('/etc/spamassassin') ? await readdir('/etc/spamassassin') : []) {
    if (f.endsWith('.pre')) await copyFile(join('/etc/spamassassin', f), join(dir, f));
  }
  await writeFile(join(dir, 'local.cf'), [
    // Offline and deterministic: no DNS blocklists, no network checksums, no learning.
    'dns_available no',
    'skip_rbl_checks 1',
    'use_bayes 0',
    'bayes_auto_learn 0',
    'use_razor2 0',
    'use_pyzor 0',
    `body ${SPAM_MARKER_RULE} /${SPAM_MARKER}/`,
    `score ${SPAM_MARKER_RULE} ${SPAM_MARKER_SCORE.toFixed(1)}`,
    `describe ${SPAM_MARKER_RULE} Dizi test marker`,
    ...(o.rules ?? []),
    '',
  ].join('\n'));
  const port = await freeTcpPort();
  const args = [
    '-L', '-x', '-i', '127.0.0.1', '-A', '127.0.0.1', '-p', String(port),
    `--siteconfigpath=${dir}`, `--pidfile=${join(dir, 'spamd.pid')}`, `--helper-home-dir=${dir}`,
    '--max-children=2', '--min-children=1', '-s', 'stderr',
    ...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []),
  ];
  const t0 = Date.now();
  const child = spawn(SPAMD_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = track(child);
  const address = `127.0.0.1:${port}`;
  const stop = stopper(child, dir);
  try {
    await waitReady('spamd', child, log, () => ping('127.0.0.1', port, 'PING SPAMC/1.5\r\n\r\n', ' 0 PONG'), 120_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, startMs: Date.now() - t0, log, stop };
}

export const RSPAMD_BIN = process.env.RSPAMD_BIN ?? '/usr/bin/rspamd';
/** Rspamd compiles its rules with Hyperscan at the first start (a minute under load): the compiled files are kept here. */
const RSPAMD_HS_CACHE = resolve(__dirname, '../../../.dizi/cache/rspamd-hs');

export interface Rspamd extends ScannerDaemon {
  /** The controller worker (learning), `127.0.0.1:<port>`. */
  controller: string;
}

function httpPing(port: number): Promise<boolean> {
  return ping('127.0.0.1', port, 'GET /ping HTTP/1.0\r\n\r\n', 'pong');
}

export async function startRspamd(): Promise<Rspamd> {
  if (!existsSync(RSPAMD_BIN)) throw new Error(`${RSPAMD_BIN} is missing: install the Debian package "rspamd" (apt-get install rspamd)`);
  const dir = await mkdtemp(join(tmpdir(), 'dizi-rspamd-'));
  const local = join(dir, 'local');
  const db = join(dir, 'db');
  for (const d of [join(local, 'local.d'), join(local, 'override.d'), db, join(dir, 'run'), join(dir, 'log')]) await mkdir(d, { recursive: true });
  await mkdir(RSPAMD_HS_CACHE, { recursive: true });
  const cached = await readdir(RSPAMD_HS_CACHE);
  for (const f of cached) await copyFile(join(RSPAMD_HS_CACHE, f), join(db, f));
  const [normal, controller, proxy] = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort()];
  await writeFile(join(local, 'override.d', 'worker-normal.inc'), `bind_socket = "127.0.0.1:${normal}";\ncount = 1;\n`);
  await writeFile(join(local, 'override.d', 'worker-controller.inc'), `bind_socket = "127.0.0.1:${controller}";\ncount = 1;\n`);
  await writeFile(join(local, 'override.d', 'worker-proxy.inc'), `bind_socket = "127.0.0.1:${proxy}";\ncount = 0;\nenabled = false;\n`);
  await writeFile(join(local, 'override.d', 'logging.inc'), 'type = "console";\nlevel = "error";\n');
  // No DNS here: a resolver that answers nothing at once, instead of every check waiting for timeouts.
  await writeFile(join(local, 'local.d', 'options.inc'), 'dns {\n  nameserver = ["127.0.0.1:1"];\n  timeout = 0.1s;\n  retransmits = 0;\n}\n');
  await writeFile(join(local, 'rspamd.local.lua'), [
    `rspamd_config.${SPAM_MARKER_RULE} = {`,
    '  callback = function(task)',
    `    return tostring(task:get_content()):find('${SPAM_MARKER}', 1, true) ~= nil`,
    '  end,',
    `  score = ${SPAM_MARKER_SCORE.toFixed(1)},`,
    "  description = 'Dizi test marker',",
    '}',
    '',
  ].join('\n'));
  await chmod(dir, 0o755);
  const user = process.getuid?.() === 0 ? ['-u', 'root', '-g', 'root'] : [];
  const args = [
    '-f', ...user, '-c', '/etc/rspamd/rspamd.conf', `--var=LOCAL_CONFDIR=${local}`, `--var=DBDIR=${db}`,
    `--var=RUNDIR=${join(dir, 'run')}`, `--var=LOGDIR=${join(dir, 'log')}`,
  ];
  const t0 = Date.now();
  const child = spawn(RSPAMD_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = track(child);
  const stop = stopper(child, dir);
  try {
    await waitReady('rspamd', child, log, () => httpPing(normal), 300_000);
    await waitReady('rspamd controller', child, log, () => httpPing(controller), 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  // The first start compiled the rules: keep them for the next.
  if (cached.length === 0) {
    for (const f of await readdir(db)) if (/\.hs/.test(f)) await copyFile(join(db, f), join(RSPAMD_HS_CACHE, f)).catch(() => undefined);
  }
  return { address: `127.0.0.1:${normal}`, controller: `127.0.0.1:${controller}`, startMs: Date.now() - t0, log, stop };
}
