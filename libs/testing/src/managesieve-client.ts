/** A raw ManageSieve client for tests (libs/managesieve, the sieve role): sends bytes, reads until the status line (OK/NO/BYE) that ends each reply. */
import net from 'node:net';

export interface Reply {
  /** Lines before the status line (capabilities, LISTSCRIPTS entries, a GETSCRIPT literal), CRLF-joined. */
  data: string;
  status: string;
}

export class WireClient {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: (() => void) | null = null;
  closed = false;

  private constructor(readonly socket: Pick<net.Socket, 'write' | 'destroy'>, input: NodeJS.ReadableStream = socket as net.Socket) {
    input.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.waiting?.();
    });
    input.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
  }

  /** Over a child process's stdio (Dovecot's managesieve in pre-authenticated mode). */
  static overStreams(input: NodeJS.ReadableStream, output: NodeJS.WritableStream & { destroy(): void }): WireClient {
    return new WireClient({ write: (d: string | Buffer) => output.write(d), destroy: () => output.destroy() } as Pick<net.Socket, 'write' | 'destroy'>, input);
  }

  static connect(port: number): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new WireClient(s)));
      s.once('error', reject);
    });
  }

  /** Reads one reply: lines (and literals) up to a line starting with OK, NO or BYE. */
  async reply(): Promise<Reply> {
    const lines: string[] = [];
    for (;;) {
      const text = this.buf.toString('latin1');
      let p = 0;
      let done: string | null = null;
      const taken: string[] = [];
      for (;;) {
        const eol = text.indexOf('\r\n', p);
        if (eol < 0) break;
        const line = text.slice(p, eol);
        const lit = /\{(\d+)\}$/.exec(line);
        const isStatus = /^(OK|NO|BYE)\b/.test(line);
        if (lit) {
          const end = eol + 2 + Number(lit[1]);
          if (end + (isStatus ? 2 : 0) > text.length) break;
          if (isStatus) {
            // A status text sent as a literal: the literal, then CRLF.
            done = `${line.slice(0, lit.index)}${JSON.stringify(text.slice(eol + 2, end))}`;
            p = end + 2;
            break;
          }
          taken.push(line, text.slice(eol + 2, end));
          p = end;
          continue;
        }
        p = eol + 2;
        if (isStatus) {
          done = line;
          break;
        }
        taken.push(line);
      }
      if (done !== null) {
        this.buf = this.buf.subarray(Buffer.byteLength(text.slice(0, p), 'latin1'));
        lines.push(...taken);
        return { data: lines.join('\r\n'), status: done };
      }
      if (this.closed) throw new Error(`connection closed; unparsed: ${JSON.stringify(text)}`);
      await new Promise<void>((r) => (this.waiting = r));
    }
  }

  async send(raw: string | Buffer): Promise<Reply> {
    this.socket.write(raw);
    return this.reply();
  }

  close(): void {
    this.socket.destroy();
  }
}
