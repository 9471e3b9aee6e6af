/** A raw SMTP client for wire tests: one command, one reply, exact codes; bytes sent as given. */
import { connect as netConnect, Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';

export interface Reply {
  code: number;
  lines: string[];
  /** Every line without the code, joined by newlines. */
  text: string;
  /** The first line as sent, `550 5.1.1 ...`. */
  line: string;
}

export class SmtpTalk {
  private buffer = '';
  private waiting: Array<(r: Reply) => void> = [];
  private replies: Reply[] = [];
  closed = false;
  greeting!: Reply;

  private constructor(private socket: Socket | TLSSocket) {
    this.attach(socket);
  }

  static async open(port: number, opts: { tls?: boolean } = {}): Promise<SmtpTalk> {
    const socket = opts.tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : netConnect({ port, host: '127.0.0.1' });
    const talk = new SmtpTalk(socket);
    talk.greeting = await talk.read();
    return talk;
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => this.onData(d));
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w({ code: 0, lines: [], text: '', line: '' });
    });
    socket.on('error', () => undefined);
  }

  private onData(d: string): void {
    this.buffer += d;
    for (;;) {
      const m = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.buffer);
      if (!m) return;
      this.buffer = this.buffer.slice(m[0].length);
      const lines = m[0].trimEnd().split('\r\n');
      const reply: Reply = { code: Number(lines[0].slice(0, 3)), lines, text: lines.map((l) => l.slice(4)).join('\n'), line: lines[0] };
      const w = this.waiting.shift();
      if (w) w(reply);
      else this.replies.push(reply);
    }
  }

  read(): Promise<Reply> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.closed) return Promise.resolve({ code: 0, lines: [], text: '', line: '' });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async cmd(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  /** STARTTLS, then the TLS handshake on the same socket. */
  async starttls(): Promise<Reply> {
    const r = await this.cmd('STARTTLS');
    if (r.code !== 220) return r;
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    this.socket = secure;
    this.attach(secure);
    return r;
  }

  /** Sends DATA, the message as given (already dot-stuffed if needed) and the terminator; returns the final reply. */
  async data(message: string | Buffer): Promise<Reply> {
    const go = await this.cmd('DATA');
    if (go.code !== 354) return go;
    this.write(message);
    const tail = Buffer.from(message).subarray(-2).toString('latin1');
    this.write(tail === '\r\n' ? '.\r\n' : '\r\n.\r\n');
    return this.read();
  }

  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const start = Date.now();
    while (!this.closed && Date.now() - start < timeoutMs) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  async quit(): Promise<void> {
    if (!this.closed) {
      await this.cmd('QUIT');
      this.socket.end();
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export const plainAuth = (authzid: string, authcid: string, password: string) => Buffer.from(`${authzid}\0${authcid}\0${password}`).toString('base64');
