/**
 * A real DNS server for tests: Debian's `unbound` (apt package `unbound`) on a free loopback port,
 * answering only from local zones written by the test (MX, A, TXT for SPF/DKIM/DMARC, PTR...).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const UNBOUND_BIN = process.env.UNBOUND_BIN ?? '/usr/sbin/unbound';

export interface UnboundRecord {
  /** Owner name, e.g. `example.test` or `_dmarc.example.test`. */
  name: string;
  type: 'A' | 'AAAA' | 'MX' | 'TXT' | 'PTR' | 'CNAME' | 'SRV';
  /** TXT: the text (split into 255-byte strings here); MX: `10 mx.example.test.`; SRV: `0 1 993 mail.example.test.`; others: the RDATA. */
  value: string;
}

export interface Unbound {
  /** `127.0.0.1:<port>`, for DNS_SERVERS or `Resolver.setServers`. */
  server: string;
  port: number;
  stop(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => socket.once('error', reject).bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

const fqdn = (name: string) => (name.endsWith('.') ? name : `${name}.`);

function rdata(r: UnboundRecord): string {
  if (r.type !== 'TXT') return r.value;
  // One TXT string holds at most 255 bytes; a DKIM key is longer, so it becomes several strings.
  const parts = r.value.match(/.{1,255}/g) ?? [''];
  return parts.map((p) => `"${p.replace(/(["\\])/g, '\\$1')}"`).join(' ');
}

/**
 * Starts unbound serving `records`; every zone named in `zones` is `static` (names not listed answer
 * NXDOMAIN, nothing is looked up on the internet). Zones default to the records' last two labels.
 */
export async function startUnbound(records: UnboundRecord[], zones?: string[]): Promise<Unbound> {
  if (!existsSync(UNBOUND_BIN)) throw new Error(`${UNBOUND_BIN} is missing: install the Debian package "unbound" (apt-get install unbound)`);
  const dir = await mkdtemp(join(tmpdir(), 'dizi-unbound-'));
  const zoneNames = zones ?? [...new Set(records.map((r) => r.name.replace(/\.$/, '').split('.').slice(-2).join('.')))];
  for (let attempt = 0; ; attempt++) {
    const port = await freeUdpPort();
    const conf = [
      'server:',
      '  interface: 127.0.0.1',
      `  port: ${port}`,
      '  do-daemonize: no',
      '  do-ip6: no',
      '  use-syslog: no',
      '  logfile: ""',
      '  verbosity: 0',
      '  username: ""',
      '  chroot: ""',
      `  directory: "${dir}"`,
      `  pidfile: "${join(dir, 'unbound.pid')}"`,
      '  access-control: 127.0.0.0/8 allow',
      '  module-config: "iterator"',
      ...zoneNames.map((z) => `  local-zone: "${fqdn(z)}" static`),
      ...records.map((r) => `  local-data: '${fqdn(r.name)} 60 IN ${r.type} ${rdata(r)}'`),
      'remote-control:',
      '  control-enable: no',
      '',
    ].join('\n');
    const confFile = join(dir, 'unbound.conf');
    await writeFile(confFile, conf);
    const child: ChildProcess = spawn(UNBOUND_BIN, ['-d', '-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const server = `127.0.0.1:${port}`;
    const ready = await waitUntilAnswering(server, zoneNames[0], exited);
    if (ready) {
      return {
        server,
        port,
        async stop() {
          if (child.exitCode === null) {
            child.kill('SIGTERM');
            await exited;
          }
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    await exited;
    // Another process may have taken the port between probe and bind: try a few times.
    if (attempt >= 4) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`unbound did not start: ${stderr.trim() || 'no output'}`);
    }
  }
}

async function waitUntilAnswering(server: string, zone: string, exited: Promise<number | null>): Promise<boolean> {
  let gone = false;
  void exited.then(() => (gone = true));
  const resolver = new dns.Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([server]);
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && !gone) {
    try {
      await resolver.resolveSoa(zone);
      return true;
    } catch (e) {
      // NXDOMAIN/NODATA are answers: the server is up.
      const code = (e as { code?: string }).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') return true;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return false;
}
