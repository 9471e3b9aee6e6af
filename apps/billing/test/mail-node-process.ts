/** A real mail node (apps/mta, SMTP and IMAP roles) in its own process on the test database, for checking what suspension does to mail. */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');

const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });

export interface MailNodeProcess {
  smtpPort: number;
  imapPort: number;
  close(): Promise<void>;
}

export async function startMailNodeProcess(env: { DATABASE_URL: string; REDIS_URL: string; REDIS_PREFIX: string }): Promise<MailNodeProcess> {
  const [smtp, submission, submissions, imap, imaps] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'dizi-billing-mta-'));
  const child: ChildProcess = spawn(process.execPath, ['-r', resolve(ROOT, 'tools/register.cjs'), resolve(ROOT, 'apps/mta/src/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...env,
      MTA_ROLES: 'smtp,imap',
      MTA_HOSTNAME: 'mx.billing.test',
      MTA_BIND: '127.0.0.1',
      SMTP_PORT: String(smtp),
      SUBMISSION_PORT: String(submission),
      SUBMISSIONS_PORT: String(submissions),
      IMAP_PORT: String(imap),
      IMAPS_PORT: String(imaps),
      DIZI_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const up = (port: number) =>
    new Promise<boolean>((done) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        done(true);
      });
      s.on('error', () => done(false));
    });
  for (let i = 0; !((await up(smtp)) && (await up(imap))); i++) {
    if (i > 1200 || child.exitCode !== null) throw new Error('the mail node did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    smtpPort: smtp,
    imapPort: imap,
    async close() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A plain SMTP conversation: each command answers its (last) reply line. */
export class SmtpDialog {
  private buffer = '';
  private waiting?: (line: string) => void;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.pump();
    });
  }

  static async open(port: number): Promise<{ dialog: SmtpDialog; greeting: string }> {
    const socket = createConnection({ host: '127.0.0.1', port });
    const dialog = new SmtpDialog(socket);
    return { dialog, greeting: await dialog.reply() };
  }

  private pump(): void {
    for (;;) {
      const at = this.buffer.indexOf('\r\n');
      if (at < 0 || !this.waiting) return;
      const line = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + 2);
      if (/^\d{3}-/.test(line)) continue;
      const done = this.waiting;
      this.waiting = undefined;
      done(line);
    }
  }

  private reply(): Promise<string> {
    return new Promise((done) => {
      this.waiting = done;
      this.pump();
    });
  }

  async cmd(line: string): Promise<string> {
    const r = this.reply();
    this.socket.write(`${line}\r\n`);
    return r;
  }

  async quit(): Promise<void> {
    await this.cmd('QUIT').catch(() => undefined);
    this.socket.destroy();
  }
}
