// RFC 3516 APPEND with a literal8 (`~{n}`): binary parts are kept as base64, BINARY[] gives back the octets sent.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestImapServer, type TestImapServer } from './test-server';

/** A raw session that reads replies as bytes (literals may hold anything). */
class RawSession {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.wake?.();
    });
  }

  static async open(port: number): Promise<RawSession> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const s = new RawSession(socket);
    await s.until(Buffer.from('\r\n'));
    return s;
  }

  async until(marker: Buffer): Promise<Buffer> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const at = this.buf.indexOf(marker);
      if (at >= 0) {
        const out = this.buf.subarray(0, at + marker.length);
        this.buf = this.buf.subarray(at + marker.length);
        return out;
      }
      if (Date.now() > deadline) throw new Error(`timeout; have ${JSON.stringify(this.buf.toString('latin1'))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  async command(tag: string, ...parts: Array<string | Buffer>): Promise<Buffer> {
    this.socket.write(Buffer.concat([Buffer.from(`${tag} `), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)), Buffer.from('\r\n')]));
    // Every reply before ours ends in CRLF: ours starts after one (or at the very start).
    this.buf = Buffer.concat([Buffer.from('\r\n'), this.buf]);
    const reply = await this.until(Buffer.from(`\r\n${tag} `));
    const status = await this.until(Buffer.from('\r\n'));
    return Buffer.concat([reply.subarray(2), status]);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The octets of the first literal after `label` in a reply. */
function literalAfter(reply: Buffer, label: string): Buffer {
  const text = reply.toString('latin1');
  const m = new RegExp(`${label.replace(/[[\]().]/g, '\\$&')} ~?\\{(\\d+)\\}\\r\\n`).exec(text);
  if (!m) throw new Error(`no ${label} literal in ${JSON.stringify(text)}`);
  const start = m.index + m[0].length;
  return reply.subarray(start, start + Number(m[1]));
}

const CONTENT = Buffer.from([0x00, 0x2d, 0xe4, 0x0a, 0x0d, 0x0a, 0x0d, 0x00, 0xff, 0x0a]);

describe('APPEND with a literal8 (RFC 3516)', () => {
  let server: TestImapServer;
  let session: RawSession;
  beforeAll(async () => {
    server = await startTestImapServer();
    await server.addAccount('bin@example.test', 'pw');
    session = await RawSession.open(server.port);
    await session.command('a', 'LOGIN bin@example.test pw');
  });
  afterAll(async () => {
    session.close();
    await server.close();
  });

  it('stores a binary part as base64 and gives the very octets back with BINARY[]', async () => {
    const message = Buffer.concat([
      Buffer.from('From: a@b.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n'
        + '--zz\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the attachment.\r\n'
        + '--zz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n'),
      CONTENT,
      Buffer.from('\r\n--zz--\r\n'),
    ]);
    const appended = await session.command('b', `APPEND INBOX ~{${message.length}+}\r\n`, message);
    expect(appended.toString('latin1')).toMatch(/^b OK \[APPENDUID \d+ 1\]/m);
    await session.command('c', 'SELECT INBOX');
    const reply = await session.command('d', 'FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2] BODY.PEEK[2] BODY.PEEK[1] BODYSTRUCTURE)');
    expect(reply.toString('latin1')).toMatch(/^d OK/m);
    expect(reply.toString('latin1')).toContain(`BINARY.SIZE[2] ${CONTENT.length}`);
    expect(literalAfter(reply, 'BINARY[2]').equals(CONTENT)).toBe(true);
    // BODY[] sends no binary: the part is base64 text now, and says so
    const body = literalAfter(reply, 'BODY[2]');
    expect(body.toString('latin1')).toBe(CONTENT.toString('base64'));
    expect(literalAfter(reply, 'BODY[1]').toString('latin1')).toBe('See the attachment.');
    expect(reply.toString('latin1')).toMatch(/"application" "octet-stream" NIL NIL NIL "base64" 16/i);
  });

  it('keeps a literal8 without binary parts byte for byte', async () => {
    const message = Buffer.from('From: a@b.example\r\nSubject: plain\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nhéllo wörld\r\n', 'utf8');
    const appended = await session.command('e', `APPEND INBOX ~{${message.length}+}\r\n`, message);
    expect(appended.toString('latin1')).toMatch(/^e OK \[APPENDUID \d+ 2\]/m);
    await session.command('f', 'NOOP');
    const reply = await session.command('g', 'UID FETCH 2 (BODY.PEEK[])');
    expect(literalAfter(reply, 'BODY[]').equals(message)).toBe(true);
  });
});
