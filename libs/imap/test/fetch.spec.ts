// FETCH over a real socket on a mailbox larger than one listing batch: every byte as before, \Seen, backpressure, DEFLATE.
import net from 'node:net';
import { Readable } from 'node:stream';
import { createDeflateRaw, createInflateRaw, constants } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '@dizi/mail-store/adapters/memory-blob-store';
import { MemoryMessageStore } from '@dizi/mail-store/adapters/memory-message-store';
import { MemoryNotifier } from '@dizi/mail-store/adapters/memory-notifier';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import { formatBodyStructure, formatEnvelope } from '@dizi/mime/imap-format';
import { summariseMessage } from '@dizi/mime/message-summary';
import type { Authenticator } from '../src/authenticator';
import { storedParts } from '../src/commands/append.command';
import { createImapServer, type ImapServer } from '../src/server';

/** More than two listing batches (500 rows each). */
const COUNT = 1_234;
const MAILBOX = 'mailbox-fetch';
const BIG_COUNT = 192;

interface Stored {
  uid: number;
  served: Buffer;
  envelope: string;
  bodyStructure: string;
}

function rawMessage(i: number): Buffer {
  const subject = i % 3 === 0 ? `=?UTF-8?B?${Buffer.from(`周报 ${i}`).toString('base64')}?=` : `Update "${i}" \\ notes`;
  const head = `From: Sender ${i % 7} <s${i % 7}@example.org>\r\nTo: dan@example.test\r\nSubject: ${subject}\r\n`
    + `Date: Mon, 1 Dec 2025 10:00:00 +0800\r\nMessage-ID: <m${i}@example.org>\r\nMIME-Version: 1.0\r\n`;
  const text = Array.from({ length: 20 + (i % 40) }, (_, l) => `line ${l} of message ${i}: 你好 the quick brown fox`).join('\r\n');
  if (i % 4 !== 0) return Buffer.from(`${head}Content-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n`);
  return Buffer.from(`${head}Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`
    + `Content-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n--b${i}\r\nContent-Type: application/octet-stream\r\n`
    + `Content-Transfer-Encoding: base64\r\n\r\n${Buffer.from(`attachment ${i}\0\x01`).toString('base64')}\r\n--b${i}--\r\n`);
}

/** Splits untagged responses, literals included, so each can be compared as bytes. */
class Client {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private seq = 0;

  constructor(readonly socket: net.Socket, source: NodeJS.ReadableStream = socket, private send: (s: string) => void = (s) => socket.write(s)) {
    source.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  static async open(port: number): Promise<Client> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const c = new Client(socket);
    await c.response();
    return c;
  }

  /** One whole response: a line, and when it ends in a literal the literal and the rest of the response. */
  async response(ms = 20_000): Promise<Buffer> {
    const deadline = Date.now() + ms;
    for (;;) {
      const end = this.complete();
      if (end > 0) {
        const out = this.buf.subarray(0, end);
        this.buf = this.buf.subarray(end);
        return out;
      }
      if (Date.now() > deadline) throw new Error(`timeout; have ${JSON.stringify(this.buf.subarray(0, 200).toString('latin1'))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async command(line: string): Promise<{ untagged: Buffer[]; tagged: string }> {
    const tag = `t${++this.seq}`;
    this.send(`${tag} ${line}\r\n`);
    const untagged: Buffer[] = [];
    for (;;) {
      const r = await this.response();
      const text = r.toString('latin1');
      if (text.startsWith(`${tag} `)) return { untagged, tagged: text.trimEnd() };
      untagged.push(r);
    }
  }

  private complete(): number {
    let pos = 0;
    for (;;) {
      const lf = this.buf.indexOf('\r\n', pos);
      if (lf < 0) return 0;
      const m = /~?\{(\d+)\}$/.exec(this.buf.toString('latin1', Math.max(pos, lf - 20), lf));
      if (!m) return lf + 2;
      pos = lf + 2 + Number(m[1]);
      if (pos > this.buf.length) return 0;
    }
  }
}

function literal(bytes: Buffer | string): Buffer {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1');
  return Buffer.concat([Buffer.from(`{${b.length}}\r\n`), b]);
}

describe('FETCH of a large mailbox', () => {
  const notifier = new MemoryNotifier();
  const store = new MemoryMessageStore({ blobs: new MemoryBlobStore(), notifier });
  /** The same store as rows stored before ENVELOPE/BODYSTRUCTURE were rendered at delivery look. */
  const unrendered: MessageStore = Object.assign(Object.create(store) as MessageStore, {
    listMessages: async (...args: Parameters<MessageStore['listMessages']>) =>
      (await store.listMessages(...args)).map((r) => ({ ...r, imapFormat: r.imapFormat === undefined ? undefined : null })),
  });
  const authenticator: Authenticator = {
    async login({ password }) {
      return password === 'pw' ? { ok: true, mailboxId: MAILBOX, username: 'dan@example.test' } : { ok: false, code: 'AUTHENTICATIONFAILED', text: 'no' };
    },
  };
  const servers: ImapServer[] = [];
  let port = 0;
  let unrenderedPort = 0;
  const messages: Stored[] = [];
  let mixed: { uid: number; served: Buffer; raw: Buffer };
  let bigSize = 0;

  beforeAll(async () => {
    store.addMailbox(MAILBOX, 1024 ** 4);
    const folders = await store.createDefaultFolders(MAILBOX);
    const inbox = folders.find((f) => f.name === 'INBOX')!.id;
    for (let i = 0; i < COUNT; i++) {
      const raw = rawMessage(i);
      const parts = storedParts(await summariseMessage(raw));
      const headerPrefix = i % 3 === 1 ? `Delivered-To: dan+${i}@example.test\r\n` : undefined;
      const blob = await store.putBlob(Readable.from([raw]));
      const r = await store.append(MAILBOX, { id: inbox }, { blobHash: blob.hash, headerPrefix, ...parts }, { enforceQuota: true });
      messages.push({
        uid: r.uid,
        served: Buffer.concat([Buffer.from(headerPrefix ?? ''), raw]),
        envelope: formatEnvelope(parts.summary.envelope),
        bodyStructure: formatBodyStructure(parts.summary.bodyStructure, true),
      });
    }
    const drafts = folders.find((f) => f.name === 'Drafts')!.id;
    const raw = Buffer.from('Subject: parts\r\nFrom: a@example.org\r\nX-Skip: me\r\nMIME-Version: 1.0\r\n'
      + 'Content-Type: multipart/mixed; boundary=zz\r\n\r\npreamble\r\n--zz\r\nContent-Type: text/plain\r\n\r\nfirst part text\r\n'
      + '--zz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--zz--\r\n');
    const blob = await store.putBlob(Readable.from([raw]));
    const prefix = 'Delivered-To: dan@example.test\r\n';
    const r = await store.append(MAILBOX, { id: drafts }, { blobHash: blob.hash, headerPrefix: prefix, ...storedParts(await summariseMessage(raw)) }, { enforceQuota: true });
    mixed = { uid: r.uid, raw, served: Buffer.concat([Buffer.from(prefix), raw]) };

    // 24 MB in Junk: more than the kernel's socket buffers take from a reader that does not read.
    const junk = folders.find((f) => f.name === 'Junk')!.id;
    const bigRaw = Buffer.from(`Subject: big\r\n\r\n${'0123456789abcdef'.repeat(4).concat('\r\n').repeat(2000)}`);
    const { searchText: _searchText, ...bigSummary } = await summariseMessage(bigRaw);
    const big = { blobHash: (await store.putBlob(Readable.from([bigRaw]))).hash, summary: bigSummary };
    for (let i = 0; i < BIG_COUNT; i++) await store.append(MAILBOX, { id: junk }, big, { enforceQuota: true });
    bigSize = bigRaw.length;

    // Trash: a message stored without a summary between two with one.
    const trash = folders.find((f) => f.name === 'Trash')!.id;
    for (const summary of [true, true, false, true]) {
      const raw = Buffer.from(`Subject: ${summary ? 'with' : 'without'} summary\r\n\r\nbody\r\n`);
      const blobHash = (await store.putBlob(Readable.from([raw]))).hash;
      await store.append(MAILBOX, { id: trash }, summary ? { blobHash, ...storedParts(await summariseMessage(raw)) } : { blobHash, summary: null }, { enforceQuota: true });
    }

    for (const s of [store, unrendered]) {
      const server = createImapServer({ store: s, notifier, authenticator, settings: { allowInsecureAuth: true } });
      servers.push(server);
      const p = await server.listen(0);
      if (s === store) port = p;
      else unrenderedPort = p;
    }
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  async function session(p = port, select = 'SELECT INBOX'): Promise<Client> {
    const c = await Client.open(p);
    expect((await c.command('LOGIN dan pw')).tagged).toMatch(/OK/);
    expect((await c.command(select)).tagged).toMatch(/OK/);
    return c;
  }

  it('prints ENVELOPE and BODYSTRUCTURE as stored at delivery, byte for byte what rendering the summary gives', async () => {
    const c = await session();
    const old = await session(unrenderedPort);
    const fetched = await c.command('FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)');
    expect(fetched.tagged).toMatch(/OK/);
    expect(fetched.untagged).toHaveLength(COUNT);
    fetched.untagged.forEach((r, i) => {
      const m = messages[i];
      expect(r.toString('latin1')).toBe(`* ${i + 1} FETCH (UID ${m.uid} FLAGS (\\Recent) ENVELOPE ${m.envelope} BODYSTRUCTURE ${m.bodyStructure})\r\n`);
    });
    const rendered = await old.command('FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)');
    expect(Buffer.concat(rendered.untagged).equals(Buffer.concat(fetched.untagged))).toBe(true);
    // A summary is needed anyway for BODY: the stored text and the summary agree there too.
    const full = await c.command('UID FETCH 1:* FULL');
    expect(Buffer.concat(full.untagged).equals(Buffer.concat((await old.command('UID FETCH 1:* FULL')).untagged))).toBe(true);
    c.socket.destroy();
    old.socket.destroy();
  }, 60_000);

  it('sends BODY.PEEK[] of every message in order, each literal the served bytes', async () => {
    const c = await session();
    const fetched = await c.command('UID FETCH 1:* (BODY.PEEK[] RFC822.SIZE)');
    expect(fetched.untagged).toHaveLength(COUNT);
    fetched.untagged.forEach((r, i) => {
      const m = messages[i];
      const expected = Buffer.concat([Buffer.from(`* ${i + 1} FETCH (UID ${m.uid} RFC822.SIZE ${m.served.length} BODY[] `), literal(m.served), Buffer.from(')\r\n')]);
      expect(r.equals(expected)).toBe(true);
    });
    const ranged = await c.command('FETCH 2:1000 (BODY.PEEK[]<7.100> BODY.PEEK[TEXT]<2.5> BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    expect(ranged.untagged).toHaveLength(999);
    ranged.untagged.forEach((r, i) => {
      const m = messages[i + 1];
      const text = m.served.subarray(m.served.indexOf('\r\n\r\n') + 4);
      const subject = /^Subject: .*\r\n/m.exec(m.served.toString('latin1'))![0];
      const expected = Buffer.concat([
        Buffer.from(`* ${i + 2} FETCH (BODY[]<7> `), literal(m.served.subarray(7, 107)),
        Buffer.from(' BODY[TEXT]<2> '), literal(text.subarray(2, 7)),
        Buffer.from(' BODY[HEADER.FIELDS (SUBJECT)] '), literal(`${subject}\r\n`), Buffer.from(')\r\n'),
      ]);
      expect(r.toString('latin1')).toBe(expected.toString('latin1'));
    });
    c.socket.destroy();
  }, 60_000);

  it('cuts sections, MIME headers, partial ranges and decoded BINARY out of one message', async () => {
    for (const p of [port, unrenderedPort]) {
      const c = await session(p, 'SELECT Drafts');
      const { untagged } = await c.command(
        `UID FETCH ${mixed.uid} (BODY.PEEK[HEADER.FIELDS.NOT (X-SKIP MIME-VERSION CONTENT-TYPE)] BODY.PEEK[1.MIME] BODY.PEEK[1]<6.4> `
        + 'BINARY.PEEK[2] BINARY.SIZE[2] BODY.PEEK[2] BODY.PEEK[3] RFC822.HEADER BINARY.PEEK[]<0.12>)',
      );
      const header = mixed.served.subarray(0, mixed.served.indexOf('\r\n\r\n') + 4);
      expect(untagged).toHaveLength(1);
      // RFC822.* items come before BODY[...] and BINARY[...] ones, whatever the order asked.
      expect(untagged[0].toString('latin1')).toBe(Buffer.concat([
        Buffer.from(`* 1 FETCH (UID ${mixed.uid} RFC822.HEADER `), literal(header),
        Buffer.from(' BODY[HEADER.FIELDS.NOT (X-SKIP MIME-VERSION CONTENT-TYPE)] '),
        literal('Delivered-To: dan@example.test\r\nSubject: parts\r\nFrom: a@example.org\r\n\r\n'),
        Buffer.from(' BODY[1.MIME] '), literal('Content-Type: text/plain\r\n\r\n'),
        Buffer.from(' BODY[1]<6> '), literal('part'),
        Buffer.from(' BINARY[2] ~'), literal(Buffer.from([0, 1, 2, 3, 4, 5])),
        Buffer.from(' BINARY.SIZE[2] 6 BODY[2] '), literal('AAECAwQF'),
        Buffer.from(' BODY[3] NIL BINARY[]<0> '), literal(mixed.served.subarray(0, 12)), Buffer.from(')\r\n'),
      ]).toString('latin1'));
      c.socket.destroy();
    }
  }, 30_000);

  it('sets \\Seen for BODY[] across listing batches, shows the new FLAGS, and leaves an EXAMINEd mailbox alone', async () => {
    const examined = await session(port, 'EXAMINE INBOX');
    const peeked = await examined.command('FETCH 1:700 BODY[]');
    expect(peeked.untagged).toHaveLength(700);
    expect(peeked.untagged.some((r) => r.includes('FLAGS'))).toBe(false);
    expect((await examined.command('FETCH 1:* FLAGS')).untagged.filter((r) => r.includes('\\Seen'))).toHaveLength(0);
    examined.socket.destroy();

    const c = await session();
    const read = await c.command('FETCH 1:700 (BODY[])');
    expect(read.untagged).toHaveLength(700);
    read.untagged.forEach((r, i) => {
      expect(r.toString('latin1').startsWith(`* ${i + 1} FETCH (FLAGS (\\Seen) BODY[] {${messages[i].served.length}}\r\n`)).toBe(true);
    });
    const flags = (await c.command('FETCH 1:* FLAGS')).untagged.map((r) => r.toString('latin1'));
    expect(flags.filter((f) => f.includes('\\Seen'))).toHaveLength(700);
    expect(flags[699]).toContain('\\Seen');
    expect(flags[700]).not.toContain('\\Seen');
    // Already seen: asked again, nothing changes and FLAGS are not volunteered.
    expect((await c.command('FETCH 1:3 BODY[]')).untagged.some((r) => r.includes('FLAGS'))).toBe(false);
    await store.setFlags((await store.getFolder(MAILBOX, { name: 'INBOX' })).id, [{ from: 1, to: 2 ** 31 - 1 }], 'remove', ['\\Seen']);
    c.socket.destroy();
  }, 60_000);

  it('sends the messages before one it cannot serve, then answers NO [SERVERBUG]', async () => {
    const c = await session(port, 'EXAMINE Trash');
    const { untagged, tagged } = await c.command('FETCH 1:* (BODY.PEEK[HEADER])');
    expect(untagged.map((r) => r.toString('latin1'))).toEqual([1, 2].map((n) => `* ${n} FETCH (BODY[HEADER] ${literal('Subject: with summary\r\n\r\n').toString('latin1')})\r\n`));
    expect(tagged).toMatch(/NO \[SERVERBUG\]/);
    const envelopes = await c.command('FETCH 1:* (UID ENVELOPE)');
    expect(envelopes.untagged.map((r) => r.toString('latin1').slice(0, 30))).toEqual(['* 1 FETCH (UID 1 ENVELOPE (NIL', '* 2 FETCH (UID 2 ENVELOPE (NIL']);
    expect(envelopes.tagged).toMatch(/NO \[SERVERBUG\]/);
    // The whole message needs no structure.
    expect((await c.command('FETCH 3 BODY.PEEK[]')).untagged[0].toString('latin1')).toContain('without summary');
    c.socket.destroy();
  }, 30_000);

  it('waits for a slow reader instead of queueing the whole response in memory', async () => {
    let serverSide: net.Socket | undefined;
    servers[0].server.once('connection', (s: net.Socket) => {
      serverSide = s;
    });
    const c = await session(port, 'EXAMINE Junk');
    c.socket.pause();
    c.socket.write('big UID FETCH 1:* BODY.PEEK[]\r\n');
    await new Promise((r) => setTimeout(r, 1_500));
    const total = BIG_COUNT * bigSize;
    // Node holds about one output chunk for the socket, not the rest of the 24 MB response; the kernel holds some.
    expect(serverSide!.writableLength).toBeLessThan(1024 * 1024);
    expect(serverSide!.bytesWritten).toBeLessThan(total / 2);
    c.socket.resume();
    let literals = 0;
    for (;;) {
      const r = await c.response();
      if (r.toString('latin1').startsWith('big ')) {
        expect(r.toString('latin1')).toMatch(/^big OK/);
        break;
      }
      literals += Number(/\{(\d+)\}\r\n/.exec(r.toString('latin1'))![1]);
    }
    expect(literals).toBe(total);
    c.socket.destroy();
  }, 60_000);

  it('streams a large FETCH through DEFLATE after COMPRESS', async () => {
    const s = net.connect(port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    const plain = new Client(s);
    await plain.response();
    await plain.command('LOGIN dan pw');
    expect((await plain.command('COMPRESS DEFLATE')).tagged).toMatch(/OK/);
    s.removeAllListeners('data');
    const inflate = createInflateRaw();
    s.pipe(inflate);
    const deflate = createDeflateRaw();
    deflate.pipe(s);
    const c = new Client(s, inflate, (line) => {
      deflate.write(line);
      deflate.flush(constants.Z_SYNC_FLUSH);
    });
    expect((await c.command('SELECT INBOX')).tagged).toMatch(/OK/);
    const fetched = await c.command('FETCH 1:* (UID BODY.PEEK[])');
    expect(fetched.tagged).toMatch(/OK/);
    expect(fetched.untagged).toHaveLength(COUNT);
    fetched.untagged.forEach((r, i) => {
      const m = messages[i];
      expect(r.equals(Buffer.concat([Buffer.from(`* ${i + 1} FETCH (UID ${m.uid} BODY[] `), literal(m.served), Buffer.from(')\r\n')]))).toBe(true);
    });
    s.destroy();
  }, 60_000);
});
