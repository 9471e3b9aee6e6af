/**
 * Postfix's smtp-sink as a fake remote mail server (unpacked by tools/fetch-test-tools.sh into .dizi/cache/postfix):
 * one per loopback address, all on the port the outbound queue is told MX hosts listen on, each message captured
 * with its envelope (X-Mail-Args, X-Rcpt-Args lines) when started with a capture directory (whose parents must be
 * traversable by nobody: smtp-sink drops root privileges before it writes).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';

export const POSTFIX_DIR = resolve(__dirname, '../../../.dizi/cache/postfix');
export const SMTP_SINK = join(POSTFIX_DIR, 'usr/sbin/smtp-sink');
export const smtpSinkMissing = (): string | null => (existsSync(SMTP_SINK) ? null : `${SMTP_SINK} (run tools/fetch-test-tools.sh)`);

export interface SinkCapture {
  /** MAIL FROM as sent, `<a@b.example> RET=HDRS …`. */
  mailArgs: string;
  /** One line per RCPT TO, `<a@b.example> NOTIFY=SUCCESS …`. */
  rcptArgs: string[];
  helo: string;
  /** The message as received, CRLF line ends. */
  message: Buffer;
}

export interface SmtpSink {
  ip: string;
  port: number;
  /** The capture of the first message containing `marker`, if it arrived. */
  captured(marker: string): Promise<SinkCapture | undefined>;
  stop(): void;
}

/** A TCP port free on 127.0.0.1 now (for a sink port shared by several loopback addresses). */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function greets(host: string, port: number): Promise<void> {
  const until = Date.now() + 5000;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, host);
      s.once('data', (d) => {
        s.destroy();
        res(d.toString().startsWith('220'));
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`smtp-sink on ${host}:${port} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts smtp-sink on ip:port; `captureDir` (made world-writable: smtp-sink drops root to nobody) keeps every
 * message; `args` adds fault modes (`-r RCPT`, `-N` for no DSN...).
 */
export async function startSmtpSink(ip: string, port: number, o: { name?: string; captureDir?: string; args?: string[] } = {}): Promise<SmtpSink> {
  const missing = smtpSinkMissing();
  if (missing) throw new Error(`smtp-sink is missing: ${missing}`);
  if (o.captureDir) {
    await mkdir(o.captureDir, { recursive: true });
    await chmod(o.captureDir, 0o777);
  }
  const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const capture = o.captureDir ? ['-d', `${o.captureDir}/%H%M%S.`] : [];
  const child: ChildProcess = spawn(SMTP_SINK, [...user, '-h', o.name ?? 'sink.test', ...capture, ...(o.args ?? []), `${ip}:${port}`, '32'], {
    env: { ...process.env, LD_LIBRARY_PATH: join(POSTFIX_DIR, 'usr/lib/postfix') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await greets(ip, port);
  return {
    ip,
    port,
    async captured(marker) {
      if (!o.captureDir) return undefined;
      for (const f of await readdir(o.captureDir, { recursive: true })) {
        const text = await readFile(join(o.captureDir, String(f)), 'utf8').catch(() => '');
        if (!text.includes(marker)) continue;
        const lines = text.split('\n');
        const received = lines.findIndex((l) => l.startsWith('Received: from '));
        const head = lines.slice(0, received);
        const field = (name: string) => head.filter((l) => l.startsWith(`${name}: `)).map((l) => l.slice(name.length + 2));
        // smtp-sink's own Received header is three lines; the message follows, ending in one extra empty line.
        return {
          mailArgs: field('X-Mail-Args')[0] ?? '',
          rcptArgs: field('X-Rcpt-Args'),
          helo: field('X-Helo-Args')[0] ?? '',
          message: Buffer.from(lines.slice(received + 3, lines.length - 2).join('\r\n') + '\r\n'),
        };
      }
      return undefined;
    },
    stop() {
      child.kill('SIGTERM');
    },
  };
}
