import type { AddressInfo } from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { SMTPServer } from 'smtp-server';
import { SMTPStream } from 'smtp-server/lib/smtp-stream';
import { describe, expect, it } from 'vitest';
import { fastFeedDataStream, installFastDataFeed } from './fast-data-feed';

type Feed = SMTPStream['_feedDataStream'];
/** smtp-server's own feed, taken before anything here installs ours. */
const originalFeed: Feed = SMTPStream.prototype._feedDataStream;

const latin1 = (b: Buffer | false | string) => (typeof b === 'string' ? b : b ? b.toString('latin1') : 'false');
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Reading {
  take(): void;
  parts: Buffer[];
  ds: NonNullable<SMTPStream['_dataStream']>;
}

interface DriveOptions {
  /** Read the message stream only when the parser stalls on it (backpressure), instead of as it flows. */
  lazyReader?: boolean;
  maxBytes?: number;
}

/**
 * Drives a parser that starts in data mode (as right after DATA) with `chunks`, one write at a time, and logs
 * everything that can be seen from outside, in order: each message with its byte counts when its stream ends, each
 * command line after it (a pipelined DATA starts another message), each remainder handed back to command mode, the
 * parser's state after every write's callback, and where the writer had to wait for the reader.
 */
async function drive(feed: Feed, chunks: Buffer[], opts: DriveOptions = {}): Promise<string[]> {
  const log: string[] = [];
  const s = new SMTPStream();
  s._feedDataStream = feed;
  const endDataMode = s._endDataMode;
  s._endDataMode = function (this: SMTPStream, chunk, remainder, cb) {
    log.push(`remainder ${latin1(remainder)}`);
    endDataMode.call(this, chunk, remainder, cb);
  };
  let reading: Reading | null = null;
  const startData = () => {
    const ds = s.startDataMode(opts.maxBytes);
    const parts: Buffer[] = [];
    const take = () => {
      for (let b = ds.read() as Buffer | null; b !== null; b = ds.read() as Buffer | null) parts.push(b);
    };
    if (!opts.lazyReader) ds.on('data', (b: Buffer) => parts.push(b));
    ds.on('end', () => {
      log.push(`message ${latin1(Buffer.concat(parts))} counted=${s.dataBytes} byteLength=${ds.byteLength} exceeded=${ds.sizeExceeded}`);
      reading = null;
      s.continue();
    });
    reading = { take, parts, ds };
  };
  s.oncommand = (cmd, cb) => {
    const line = cmd.toString('latin1');
    log.push(`command ${line}`);
    if (line.toUpperCase() !== 'DATA') return cb?.();
    startData();
    // Answered on a later turn, as smtp-server's DATA is after asynchronous MAIL and RCPT hooks: an answer that comes
    // synchronously from inside continue() makes smtp-server itself lose the next message's continuation.
    setImmediate(() => cb?.());
  };
  s.on('error', (err) => log.push(`error ${err.message}`));
  startData();

  for (let k = 0; k < chunks.length; k++) {
    let called = false;
    s.write(chunks[k], () => (called = true));
    let idle = 0;
    let seen = '';
    while (!called) {
      await turn();
      if (called) break;
      const r = reading as Reading | null;
      const now = `${s.dataBytes}/${s._dataMode}/${log.length}/${r?.parts.length}`;
      idle = now === seen ? idle + 1 : 0;
      seen = now;
      if (idle < 3) continue;
      if (!opts.lazyReader || !r) throw new Error(`parser stalled at chunk ${k}`);
      // Either the writer waits for drain, or the message is complete and its 'end' waits for the reader.
      log.push(`reader needed at chunk ${k}: ${r.ds.writableEnded ? 'message ended' : `needDrain=${r.ds.writableNeedDrain}`}`);
      r.take();
      idle = 0;
    }
    log.push(`chunk ${k} done: dataMode=${s._dataMode} counted=${s.dataBytes} atStart=${s._atDataStart} kept=${latin1(s._lastBytes)} pending=${latin1(s._remainder)}`);
  }
  for (let i = 0; i < 3; i++) await turn();
  const r = reading as Reading | null;
  if (r) {
    r.take();
    log.push(`unfinished message ${latin1(Buffer.concat(r.parts))}`);
  }
  return log;
}

/** Deterministic generator, so that a failure can be replayed by its seed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)];
  return { next, int, pick };
}
type Random = ReturnType<typeof random>;

/** Byte soup from the pieces the parser cares about: dots, CR, LF, terminators, pipelined DATA. */
const PIECES = ['.', '..', '...', '\r', '\n', '\r\n', 'a', 'xy', '.\r\n', '..\r\n', '\r\n.\r\n', '\r\n..\r\n', '\n.\n', '\n.\r\n', '\r\n.\n', 'DATA\r\n', '\r\n.\r\nDATA\r\n'];
function soup(rnd: Random): string {
  let s = '';
  for (let n = rnd.int(1, 40); n > 0; n--) s += rnd.pick(PIECES);
  return s;
}

/** A message as a client puts it on the wire: dot-stuffed lines, mostly CRLF, a terminator, maybe pipelined commands. */
const LINES = ['', '.', '..', '...', '.x', '..x', ' .', 'hello world.', 'a.b', 'Subject: x', '.\r', '\r', 'x\r'];
function wire(rnd: Random, depth = 0): string {
  let body = '';
  const lines = rnd.pick([0, 0, 1, 2, 5, 20, 200]);
  for (let i = 0; i < lines; i++) {
    const line = rnd.next() < 0.7 ? rnd.pick(LINES) : 'x'.repeat(rnd.int(1, 100));
    body += (line.startsWith('.') ? '.' : '') + line + (rnd.next() < 0.9 ? '\r\n' : '\n');
  }
  let s = body + '.\r\n';
  const after = rnd.next();
  if (after < 0.3 && depth < 2) s += `MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n${wire(rnd, depth + 1)}`;
  else if (after < 0.5) s += 'QUIT\r\n';
  else if (after < 0.6) s += 'RSE';
  else if (after < 0.7) s += '\r\n.\r\n..\r\n';
  return s;
}

function cutRandomly(rnd: Random, data: Buffer, sizes = [1, 2, 3, 4, 5, 7, 16, 64, 1000, 70_000]): Buffer[] {
  const max = rnd.pick(sizes);
  const chunks: Buffer[] = [];
  for (let pos = 0; pos < data.length; ) {
    const n = rnd.int(1, max);
    chunks.push(data.subarray(pos, pos + n));
    pos += n;
  }
  return chunks;
}

function cutAt(data: Buffer, ...cuts: number[]): Buffer[] {
  const points = [0, ...cuts.filter((c) => c > 0 && c < data.length).sort((x, y) => x - y), data.length];
  const chunks: Buffer[] = [];
  for (let i = 1; i < points.length; i++) if (points[i] > points[i - 1]) chunks.push(data.subarray(points[i - 1], points[i]));
  return chunks;
}

async function same(chunks: Buffer[], opts?: DriveOptions): Promise<string[]> {
  const theirs = await drive(originalFeed, chunks, opts);
  const ours = await drive(fastFeedDataStream, chunks, opts);
  expect(ours).toEqual(theirs);
  return ours;
}

describe('fastFeedDataStream', () => {
  it('compares with smtp-server own feed, and the comparison can fail', async () => {
    expect(originalFeed).toBeTypeOf('function');
    expect(originalFeed).not.toBe(fastFeedDataStream);
    // The differential harness sees a difference when there is one: a feed that drops escape dots is caught.
    const careless: Feed = function (this: SMTPStream, chunk, done) {
      originalFeed.call(this, Buffer.from(latin1(chunk).replace(/\n\.\./g, '\n.!'), 'latin1'), done);
    };
    const chunks = [Buffer.from('a\r\n..b\r\n.\r\n')];
    expect(await drive(careless, chunks)).not.toEqual(await drive(originalFeed, chunks));
  });

  it.each([
    ['hello\r\n.\r\nQUIT\r\n', 'hello\r\n', ['QUIT']],
    ['.\r\nQUIT\r\n', '', ['QUIT']],
    ['..\r\n.\r\n', '.\r\n', []],
    ['a\r\n..b\r\n...\r\n.\r\n', 'a\r\n.b\r\n..\r\n', []],
    ['a\n.\nb\r\n.\r\nNOOP\r\n', 'a\n.\nb\r\n', ['NOOP']],
    ['a\r\n.\r\nDATA\r\nb\r\n.\r\nQUIT\r\n', 'a\r\n', ['DATA', 'QUIT']],
  ])('reads %j as the message %j, then the commands %j, however it is cut', async (input, body, commands) => {
    const data = Buffer.from(input, 'latin1');
    for (let a = 0; a <= data.length; a++) {
      for (let b = a; b <= data.length; b++) {
        const log = await same(cutAt(data, a, b));
        expect(log.find((l) => l.startsWith('message '))).toBe(`message ${body} counted=${body.length} byteLength=${body.length} exceeded=false`);
        expect(log.filter((l) => l.startsWith('command ')).map((l) => l.slice(8))).toEqual(commands);
      }
    }
  });

  it('keeps a first line "." sent as ".." as content when the escape dot arrives alone (no early end of DATA)', async () => {
    for (const chunks of [['..', '\r\nRSET\r\n', '.\r\n'], ['.', '.', '\r', '\nRSET\r\n.\r\n'], ['..\r', '\n', 'RSET\r\n.\r\n']]) {
      const log = await same(chunks.map((c) => Buffer.from(c, 'latin1')));
      expect(log.find((l) => l.startsWith('message '))).toBe('message .\r\nRSET\r\n counted=9 byteLength=9 exceeded=false');
      expect(log.some((l) => l === 'command RSET')).toBe(false);
    }
  });

  it('matches the original on byte soup cut at every point and every pair of points', async () => {
    const rnd = random(1);
    for (let n = 0; n < 150; n++) {
      const data = Buffer.from(soup(rnd).slice(0, 24), 'latin1');
      for (let a = 0; a <= data.length; a++) for (let b = a; b <= data.length; b += 3) await same(cutAt(data, a, b));
    }
  });

  it('matches the original on thousands of generated DATA streams cut at random', async () => {
    const rnd = random(2);
    for (let n = 0; n < 3000; n++) {
      const data = Buffer.from(n % 3 === 0 ? soup(rnd) : wire(rnd), 'latin1');
      await same(cutRandomly(rnd, data), { maxBytes: rnd.pick([undefined, 10, 100, 1000]) });
    }
  });

  it('matches the original with the terminator split at every offset across chunk boundaries', async () => {
    const rnd = random(3);
    for (let n = 0; n < 200; n++) {
      const text = wire(rnd);
      const data = Buffer.from(text, 'latin1');
      const end = text.indexOf('\r\n.\r\n');
      const at = end === -1 ? rnd.int(0, data.length) : end;
      for (let c = at - 4; c <= at + 6; c++) {
        await same(cutAt(data, c));
        await same(cutAt(data, c, c + 1, c + 2));
        await same([...cutAt(data.subarray(0, Math.max(0, c)), 1000), ...cutAt(data.subarray(Math.max(0, c)), 1, 2, 3, 4, 5)]);
      }
    }
  });

  it('makes the writer wait for a slow reader only through drain, with the same bytes and counts as the original', async () => {
    // The kept-back bytes go out as a write of their own, so a reader that lets the stream fill up sees drain asked
    // for at slightly different chunks than with the original's single write of a copy: compared apart.
    const waits = (log: string[]) => log.filter((l) => l.startsWith('reader needed'));
    const rest = (log: string[]) => log.filter((l) => !l.startsWith('reader needed'));
    const rnd = random(4);
    for (let n = 0; n < 30; n++) {
      let text = '';
      while (text.length < 80_000) text += rnd.next() < 0.1 ? '..dot-stuffed\r\n' : `${'y'.repeat(rnd.int(0, 200))}\r\n`;
      const chunks = cutRandomly(rnd, Buffer.from(`${text}.\r\nQUIT\r\n`, 'latin1'), [7, 100, 1000, 16_384, 70_000]);
      const theirs = await drive(originalFeed, chunks, { lazyReader: true, maxBytes: 50_000 });
      const ours = await drive(fastFeedDataStream, chunks, { lazyReader: true, maxBytes: 50_000 });
      expect(rest(ours)).toEqual(rest(theirs));
      expect(waits(ours).length).toBeGreaterThan(0);
      for (const w of waits(ours)) expect(w).toMatch(/(needDrain=true|message ended)$/);
      expect(Math.abs(waits(ours).length - waits(theirs).length)).toBeLessThanOrEqual(Math.ceil(waits(theirs).length / 10) + 1);
    }
  });

  it('matches the original on a 300 KB message in 64 KB chunks', async () => {
    const rnd = random(5);
    let text = '';
    while (text.length < 300_000) text += `${rnd.pick(['..', '', 'x', '.'.repeat(3)])}${'z'.repeat(rnd.int(0, 90))}\r\n`;
    const data = Buffer.from(`${text}.\r\n`, 'latin1');
    for (const size of [65_536, 65_535, 16_384]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < data.length; i += size) chunks.push(data.subarray(i, i + size));
      await same(chunks);
    }
  });
});

describe('installFastDataFeed', () => {
  it('replaces the prototype method once and refuses when smtp-server no longer has it', () => {
    installFastDataFeed();
    installFastDataFeed();
    expect(SMTPStream.prototype._feedDataStream).toBe(fastFeedDataStream);

    const proto = SMTPStream.prototype as unknown as Record<string, unknown>;
    const installed = proto._feedDataStream;
    delete proto._feedDataStream;
    try {
      expect(() => installFastDataFeed()).toThrow(/no longer has _feedDataStream/);
    } finally {
      proto._feedDataStream = installed;
    }
  });

  it('receives a message from nodemailer through a real SMTPServer byte for byte', async () => {
    installFastDataFeed();
    const lines = ['.', '..', '.leading dot', '...', '', 'plain line', ' .', '.\t', '....'];
    let body = '';
    for (let i = 0; body.length < 300_000; i++) body += `${lines[i % lines.length]}${i % 7 === 0 ? 'x'.repeat(i % 300) : ''}\r\n`;
    const raw = Buffer.from(`From: a@remote.test\r\nTo: b@local.test\r\nSubject: dots\r\n\r\n.\r\n${body}.\r\n`, 'latin1');

    const received: Buffer[] = [];
    const feeds: unknown[] = [];
    const server: SMTPServer = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, cb) {
        // The parser of this very connection runs our feed: the build smtp-server loads is the one we patched.
        for (const c of server.connections) feeds.push((c as unknown as { _parser: SMTPStream })._parser._feedDataStream);
        const parts: Buffer[] = [];
        stream.on('data', (b: Buffer) => parts.push(b));
        stream.on('end', () => {
          received.push(Buffer.concat(parts));
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.server.address() as AddressInfo;
      for (let i = 0; i < 2; i++) {
        const conn = new SMTPConnection({ port, host: '127.0.0.1', ignoreTLS: true, name: 'nm.client.test' });
        await new Promise<void>((resolve, reject) => {
          conn.once('error', reject);
          conn.connect(() => resolve());
        });
        const info = await new Promise<{ response: string }>((resolve, reject) =>
          conn.send({ from: 'a@remote.test', to: ['b@local.test'] }, raw, (err, inf) => (err ? reject(err) : resolve(inf as never))),
        );
        conn.quit();
        expect(info.response).toMatch(/^250 /);
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(received).toHaveLength(2);
    for (const r of received) expect(r.equals(raw)).toBe(true);
    expect(feeds.length).toBeGreaterThan(0);
    for (const f of feeds) expect(f).toBe(fastFeedDataStream);
  });
});
