/**
 * The wire side of the state-checking IMAP stress client: one connection (plain or TLS), tagged commands, and the
 * responses of each command as text with literals cut out (so a message body can never be read as protocol).
 */
import net from 'node:net';
import tls from 'node:tls';

export interface WireResponse {
  /** The response's text; each literal is replaced by `""` (its bytes are in `literals`). */
  text: string;
  literals: Buffer[];
}

export interface CommandReply {
  tag: string;
  status: 'OK' | 'NO' | 'BAD';
  /** Text after the status, response code included. */
  text: string;
  untagged: WireResponse[];
}

export interface WireOptions {
  host: string;
  port: number;
  tls: boolean;
  /** Per command; a reply slower than this is an error (a server that never answers must not hang the run). */
  timeoutMs: number;
}

export class ImapWire {
  private buffer: Buffer = Buffer.alloc(0);
  private current: WireResponse | null = null;
  private need = 0;
  private responses: WireResponse[] = [];
  private waiter: (() => void) | null = null;
  private tagCounter = 0;
  closed = false;
  /** Unsolicited responses that arrived outside a command (a BYE, say). */
  readonly stray: WireResponse[] = [];

  private constructor(private readonly socket: net.Socket, private readonly timeoutMs: number) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
  }

  static async connect(options: WireOptions): Promise<{ wire: ImapWire; greeting: WireResponse }> {
    const socket = options.tls
      ? tls.connect({ host: options.host, port: options.port, rejectUnauthorized: false })
      : net.connect(options.port, options.host);
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const wire = new ImapWire(socket, options.timeoutMs);
    const greeting = await wire.next();
    return { wire, greeting };
  }

  close(): void {
    this.socket.destroy();
  }

  /** Sends one command (literals as LITERAL+ `{n+}`) and collects everything up to its tagged reply. */
  async command(line: string, literal?: Buffer): Promise<CommandReply> {
    const tag = `s${++this.tagCounter}`;
    if (this.responses.length) this.stray.push(...this.responses.splice(0));
    if (literal) {
      this.socket.write(`${tag} ${line} {${literal.length}+}\r\n`);
      this.socket.write(literal);
      this.socket.write('\r\n');
    } else this.socket.write(`${tag} ${line}\r\n`);
    const untagged: WireResponse[] = [];
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const r = await this.next(deadline);
      if (r.text.startsWith(`${tag} `)) {
        const m = /^\S+ (OK|NO|BAD) ?(.*)$/s.exec(r.text);
        if (!m) throw new Error(`malformed tagged reply: ${r.text}`);
        return { tag, status: m[1] as CommandReply['status'], text: m[2], untagged };
      }
      untagged.push(r);
    }
  }

  private async next(deadline = Date.now() + this.timeoutMs): Promise<WireResponse> {
    for (;;) {
      const r = this.responses.shift();
      if (r) return r;
      if (this.closed) throw new Error('connection closed by the server');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${this.timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      if (this.need > 0) {
        if (this.buffer.length - pos < this.need) break;
        this.current!.literals.push(this.buffer.subarray(pos, pos + this.need));
        pos += this.need;
        this.need = 0;
        continue;
      }
      const crlf = this.buffer.indexOf('\r\n', pos);
      if (crlf < 0) break;
      const line = this.buffer.subarray(pos, crlf).toString('utf8');
      pos = crlf + 2;
      const response = this.current ?? { text: '', literals: [] };
      const m = /\{(\d+)\}$/.exec(line);
      if (m) {
        response.text += line.slice(0, m.index) + '""';
        this.current = response;
        this.need = Number(m[1]);
        continue;
      }
      response.text += line;
      this.current = null;
      this.responses.push(response);
    }
    this.buffer = this.buffer.subarray(pos);
    if (this.responses.length) this.wake();
  }
}
