// A scripted POP3 client for the protocol tests: raw lines in, raw responses out, TLS upgrade on demand.
import net, { type Socket } from 'node:net';
import tls from 'node:tls';

export class Pop3TestClient {
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(private socket: Socket) {
    this.listen(socket);
  }

  static async connect(port: number, opts: { implicitTls?: boolean } = {}): Promise<Pop3TestClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = opts.implicitTls
        ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(s))
        : net.connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    return new Pop3TestClient(socket);
  }

  private listen(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async until(test: () => number): Promise<Buffer> {
    for (;;) {
      const end = test();
      if (end >= 0) {
        const out = this.buffer.subarray(0, end);
        this.buffer = this.buffer.subarray(end);
        return out;
      }
      if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer.toString())}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** One line without its CRLF. */
  async line(): Promise<string> {
    const raw = await this.until(() => {
      const i = this.buffer.indexOf('\r\n');
      return i < 0 ? -1 : i + 2;
    });
    return raw.subarray(0, raw.length - 2).toString('utf8');
  }

  /** The body of a multi-line response as sent (still byte-stuffed), up to and without the terminating ".\r\n". */
  async body(): Promise<Buffer> {
    const raw = await this.until(() => {
      if (this.buffer.subarray(0, 3).equals(Buffer.from('.\r\n'))) return 3;
      const i = this.buffer.indexOf('\r\n.\r\n');
      return i < 0 ? -1 : i + 5;
    });
    return raw.subarray(0, raw.length - 3);
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  async command(text: string): Promise<string> {
    this.send(`${text}\r\n`);
    return this.line();
  }

  /** Status line and the unstuffed lines of a multi-line response. */
  async multi(text: string): Promise<{ status: string; lines: string[] }> {
    const status = await this.command(text);
    if (!status.startsWith('+OK')) return { status, lines: [] };
    const body = (await this.body()).toString('utf8');
    const lines = body ? body.replace(/\r\n$/, '').split('\r\n').map((l) => (l.startsWith('..') ? l.slice(1) : l)) : [];
    return { status, lines };
  }

  async startTls(): Promise<void> {
    const reply = await this.command('STLS');
    if (!reply.startsWith('+OK')) throw new Error(reply);
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secure = await new Promise<Socket>((resolve, reject) => {
      const s = tls.connect({ socket: this.socket, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
  }

  async waitClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  destroy(): void {
    this.socket.destroy();
  }
}
