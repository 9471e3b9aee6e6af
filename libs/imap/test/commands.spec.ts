// Commands over a real socket against the in-memory store: states, limits, wire codes and cross-session updates.
import net from 'node:net';
import { createDeflateRaw, createInflateRaw, constants } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestImapServer, type TestImapServer } from './test-server';

class Wire {
  private text = '';
  private waiters: Array<() => void> = [];
  constructor(readonly socket: net.Socket, source: NodeJS.ReadableStream = socket) {
    source.on('data', (c: Buffer) => this.onData(c));
  }
  onData(c: Buffer) {
    this.text += c.toString('utf8');
    this.waiters.splice(0).forEach((w) => w());
  }
  static async open(port: number): Promise<Wire> {
    const s = net.connect(port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    const w = new Wire(s);
    await w.until(/\* OK .*\r\n/);
    return w;
  }
  async until(re: RegExp, ms = 3000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.text);
      if (m) {
        const out = this.text.slice(0, m.index + m[0].length);
        this.text = this.text.slice(m.index + m[0].length);
        return out;
      }
      if (Date.now() > deadline) throw new Error(`timeout waiting for ${re}; have ${JSON.stringify(this.text)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }
  write(s: string) {
    this.socket.write(s);
  }
  async cmd(tag: string, line: string): Promise<string> {
    this.write(`${tag} ${line}\r\n`);
    return this.until(new RegExp(`(^|\\r\\n)${tag.replace('.', '\\.')} (OK|NO|BAD)[^\\r]*\\r\\n`));
  }
}

describe('IMAP commands', () => {
  let server: TestImapServer;
  let strict: TestImapServer;
  beforeAll(async () => {
    server = await startTestImapServer({ maxAppendBytes: 2000, maxBadCommands: 4 });
    await server.addAccount('carol@example.test', 'pw');
    await server.addAccount('small@example.test', 'pw', 300);
    strict = await startTestImapServer({ allowInsecureAuth: false });
    await strict.addAccount('carol@example.test', 'pw');
  });
  afterAll(async () => {
    await server.close();
    await strict.close();
  });

  it('announces LOGINDISABLED before TLS and refuses LOGIN there', async () => {
    const w = await Wire.open(strict.port);
    expect(await w.cmd('a', 'CAPABILITY')).toMatch(/LOGINDISABLED/);
    expect(await w.cmd('b', 'LOGIN carol@example.test pw')).toMatch(/b NO \[PRIVACYREQUIRED\]/);
    w.socket.destroy();
  });

  it('checks the state and the arguments before running a command', async () => {
    const w = await Wire.open(server.port);
    expect(await w.cmd('a', 'SELECT INBOX')).toMatch(/a BAD Log in first/);
    expect(await w.cmd('b', 'LOGIN carol@example.test wrong')).toMatch(/b NO \[AUTHENTICATIONFAILED\]/);
    expect(await w.cmd('c', `AUTHENTICATE PLAIN ${Buffer.from('\0carol@example.test\0pw').toString('base64')}`)).toMatch(/c OK \[CAPABILITY [^\]]*COMPRESS=DEFLATE/);
    expect(await w.cmd('d', 'FETCH 1 FLAGS')).toMatch(/d BAD Select a mailbox first/);
    expect(await w.cmd('e', 'STATUS INBOX')).toMatch(/e BAD Missing arguments/);
    expect(await w.cmd('f', 'SELECT Nowhere')).toMatch(/f NO \[NONEXISTENT\]/);
    expect(await w.cmd('g', 'CREATE Sent')).toMatch(/g NO \[ALREADYEXISTS\]/);
    expect(await w.cmd('h', 'DELETE INBOX')).toMatch(/h NO \[CANNOT\]/);
    expect(await w.cmd('i', 'APPEND Nowhere {3+}\r\nx\r\n')).toMatch(/i NO \[TRYCREATE\]/);
    expect(await w.cmd('j', 'GETQUOTAROOT INBOX')).toMatch(/\* QUOTAROOT "INBOX" ""\r\n\* QUOTA "" \(STORAGE 0 1048576\)\r\nj OK/);
    w.socket.destroy();
  });

  it('refuses an APPEND over APPENDLIMIT without a continuation and enforces quota as [OVERQUOTA]', async () => {
    const w = await Wire.open(server.port);
    await w.cmd('a', 'LOGIN small@example.test pw');
    w.write('b APPEND INBOX {5000}\r\n');
    expect(await w.until(/b .*\r\n/)).toMatch(/^b NO \[TOOBIG\]/);
    const msg = `Subject: big\r\n\r\n${'x'.repeat(400)}\r\n`;
    expect(await w.cmd('c', `APPEND INBOX {${msg.length}+}\r\n${msg}`)).toMatch(/c NO \[OVERQUOTA\]/);
    expect(await w.cmd('d', 'STATUS INBOX (MESSAGES UIDNEXT)')).toMatch(/\* STATUS "INBOX" \(MESSAGES 0 UIDNEXT 1\)/);
    w.socket.destroy();
  });

  it('closes the connection after too many bad commands', async () => {
    const w = await Wire.open(server.port);
    await w.cmd('a', 'BOGUS');
    await w.cmd('b', 'BOGUS');
    await w.cmd('c', 'BOGUS');
    w.write('d BOGUS\r\n');
    expect(await w.until(/\* BYE .*\r\n/)).toMatch(/Too many invalid commands/);
    await new Promise((r) => w.socket.once('close', r));
  });

  it('reports another session\'s expunge only when allowed, and MODIFIED for a conditional STORE', async () => {
    const a = await Wire.open(server.port);
    const b = await Wire.open(server.port);
    await a.cmd('a1', 'LOGIN carol@example.test pw');
    await b.cmd('b1', 'LOGIN carol@example.test pw');
    await a.cmd('a2', 'CREATE Shared');
    for (const s of ['one', 'two']) await a.cmd('a3', `APPEND Shared {${13 + s.length}+}\r\nSubject: ${s}\r\n\r\n`);
    await a.cmd('a4', 'SELECT Shared (CONDSTORE)');
    await b.cmd('b2', 'SELECT Shared');
    await a.cmd('a5', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
    await a.cmd('a6', 'EXPUNGE');
    // FETCH must not announce the expunge (RFC 3501 §7.4.1); NOOP does.
    const fetch = await b.cmd('b3', 'FETCH 1:2 (FLAGS)');
    expect(fetch).not.toMatch(/EXPUNGE/);
    expect(await b.cmd('b4', 'NOOP')).toMatch(/\* 1 EXPUNGE\r\n/);
    const status = await a.cmd('a7', 'FETCH 1 (MODSEQ)');
    const modseq = Number(/MODSEQ \((\d+)\)/.exec(status)![1]);
    await b.cmd('b5', 'STORE 1 +FLAGS (\\Flagged)');
    expect(await a.cmd('a8', `STORE 1 (UNCHANGEDSINCE ${modseq}) +FLAGS (\\Answered)`)).toMatch(/a8 OK \[MODIFIED 1\]/);
    a.socket.destroy();
    b.socket.destroy();
  });

  it('pushes new mail, flag changes and expunges of other sessions to IDLE clients, and never repeats a session\'s own', async () => {
    await server.addAccount('idle@example.test', 'pw');
    const login = async () => {
      const w = await Wire.open(server.port);
      await w.cmd('l', 'LOGIN idle@example.test pw');
      return w;
    };
    const writer = await login();
    for (const s of ['one', 'two', 'three']) await writer.cmd('w1', `APPEND INBOX {${13 + s.length}+}\r\nSubject: ${s}\r\n\r\n`);
    await writer.cmd('w2', 'SELECT INBOX');
    const idlers = await Promise.all([1, 2, 3].map(async () => {
      const w = await login();
      expect(await w.cmd('s', 'SELECT INBOX')).toMatch(/\* 3 EXISTS\r\n/);
      w.write('i IDLE\r\n');
      await w.until(/\+ idling\r\n/);
      return w;
    }));
    await writer.cmd('w3', 'STORE 2 +FLAGS (\\Flagged)');
    for (const w of idlers) expect(await w.until(/\* 2 FETCH \(FLAGS \([^)]*\)\)\r\n/)).toMatch(/\\Flagged/);
    await writer.cmd('w4', 'APPEND INBOX {17+}\r\nSubject: four\r\n\r\n');
    for (const w of idlers) await w.until(/\* 4 EXISTS\r\n/);
    await writer.cmd('w5', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
    await writer.cmd('w6', 'EXPUNGE');
    for (const w of idlers) expect(await w.until(/\* 1 EXPUNGE\r\n/)).toMatch(/\* 1 FETCH \(FLAGS \(\\Deleted\)\)\r\n\* 1 EXPUNGE\r\n$/);
    // The writer was told its own changes by its commands; NOOP finds nothing new to say.
    expect(await writer.cmd('w7', 'NOOP')).toMatch(/^w7 OK/);
    for (const w of idlers) {
      w.write('DONE\r\n');
      expect(await w.until(/i OK [^\r]*\r\n/)).toMatch(/^i OK/);
      // Nothing is told twice after IDLE either. (\Recent of UID 4 went to whichever session saw it first.)
      expect(await w.cmd('n', 'NOOP')).toMatch(/^n OK/);
      expect(await w.cmd('f', 'FETCH 1:* (UID FLAGS)')).toMatch(/^\* 1 FETCH \(UID 2 FLAGS \(\\Flagged\)\)\r\n\* 2 FETCH \(UID 3 FLAGS \(\)\)\r\n\* 3 FETCH \(UID 4 FLAGS \((\\Recent)?\)\)\r\nf OK/);
      w.socket.destroy();
    }
    writer.socket.destroy();
  });

  it('re-reads the folder when the notifier says it may have missed events (resync)', async () => {
    const mailboxId = await server.addAccount('lost@example.test', 'pw');
    const login = async () => {
      const w = await Wire.open(server.port);
      await w.cmd('l', 'LOGIN lost@example.test pw');
      return w;
    };
    const writer = await login();
    await writer.cmd('w1', 'APPEND INBOX {16+}\r\nSubject: one\r\n\r\n');
    const idler = await login();
    expect(await idler.cmd('s', 'SELECT INBOX')).toMatch(/\* 1 EXISTS\r\n/);
    idler.write('i IDLE\r\n');
    await idler.until(/\+ idling\r\n/);
    // A change whose notification is lost (the bus was down) ...
    const publish = server.notifier.publish.bind(server.notifier);
    server.notifier.publish = async () => undefined;
    try {
      await writer.cmd('w2', 'APPEND INBOX {16+}\r\nSubject: two\r\n\r\n');
    } finally {
      server.notifier.publish = publish;
    }
    await expect(idler.until(/\* 2 EXISTS\r\n/, 300)).rejects.toThrow(/timeout/);
    // ... reaches the IDLE client once the notifier reconnects and tells its listeners to re-read.
    await server.notifier.publish(mailboxId, { type: 'resync', folderId: null, uids: [], modseq: null });
    await idler.until(/\* 2 EXISTS\r\n/);
    idler.write('DONE\r\n');
    await idler.until(/i OK [^\r]*\r\n/);
    idler.socket.destroy();
    writer.socket.destroy();
  });

  it('brings a session up to date from detailed notifications without asking the store, and asks it after a gap', async () => {
    await server.addAccount('chain@example.test', 'pw');
    const login = async () => {
      const w = await Wire.open(server.port);
      await w.cmd('l', 'LOGIN chain@example.test pw');
      return w;
    };
    const writer = await login();
    for (const n of [1, 2, 3]) await writer.cmd(`a${n}`, `APPEND INBOX {16+}\r\nSubject: m${n}\r\n\r\n`);
    const reader = await login();
    expect(await reader.cmd('s', 'SELECT INBOX')).toMatch(/\* 3 EXISTS\r\n/);
    expect(await writer.cmd('ws', 'SELECT INBOX')).toMatch(/ws OK/);
    const changesSince = server.store.changesSince.bind(server.store);
    let queries = 0;
    server.store.changesSince = (...args) => {
      queries++;
      return changesSince(...args);
    };
    try {
      // Flags, a new message and an expunge by another session, each notified with its detail.
      await writer.cmd('w1', 'STORE 2 +FLAGS.SILENT (\\Flagged $Work)');
      await writer.cmd('w2', 'APPEND INBOX (\\Seen) {16+}\r\nSubject: m4\r\n\r\n');
      await writer.cmd('w3', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
      await writer.cmd('w4', 'EXPUNGE');
      const told = await reader.cmd('r1', 'UID SEARCH ALL');
      // $Work is announced in FLAGS before the FETCH that shows it; EXPUNGE, FETCH and EXISTS as a query would give them.
      expect(told).toMatch(new RegExp([
        '^\\* SEARCH 2 3', '\\* 1 EXPUNGE', '\\* FLAGS \\([^)]*\\$Work[^)]*\\)', '\\* OK \\[PERMANENTFLAGS [^\\r]*',
        '\\* 1 FETCH \\(FLAGS \\(\\\\Flagged \\$Work( \\\\Recent)?\\)\\)', '\\* 3 EXISTS', '\\* \\d+ RECENT', 'r1 OK[^\\r]*\\r\\n$',
      ].join('\\r\\n')));
      expect(queries).toBe(0);
      expect(await reader.cmd('r2', 'UID FETCH 4 (FLAGS)')).toMatch(/^\* 3 FETCH \(UID 4 FLAGS \(\\Seen( \\Recent)?\)\)\r\nr2 OK/);
      // A change notified without detail (as a large one is) breaks the chain: the next sync asks the store.
      const publish = server.notifier.publish.bind(server.notifier);
      server.notifier.publish = (mailboxId, event) => publish(mailboxId, { ...event, prevModseq: undefined, flags: undefined });
      try {
        await writer.cmd('w5', 'UID STORE 3 +FLAGS.SILENT (\\Answered)');
      } finally {
        server.notifier.publish = publish;
      }
      await writer.cmd('w6', 'UID STORE 2 -FLAGS.SILENT ($Work)');
      await new Promise((r) => setTimeout(r, 50));
      expect(await reader.cmd('r3', 'UID SEARCH ALL')).toMatch(new RegExp([
        '^\\* SEARCH 2 3 4', '\\* 1 FETCH \\(FLAGS \\(\\\\Flagged( \\\\Recent)?\\)\\)', '\\* 2 FETCH \\(FLAGS \\(\\\\Answered( \\\\Recent)?\\)\\)',
        'r3 OK[^\\r]*\\r\\n$',
      ].join('\\r\\n')));
      expect(queries).toBe(1);
    } finally {
      server.store.changesSince = changesSince;
    }
    reader.socket.destroy();
    writer.socket.destroy();
  });

  it('speaks DEFLATE after COMPRESS', async () => {
    const s = net.connect(server.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    const plain = new Wire(s);
    await plain.until(/\* OK .*\r\n/);
    await plain.cmd('a', 'LOGIN carol@example.test pw');
    expect(await plain.cmd('b', 'COMPRESS DEFLATE')).toMatch(/b OK/);
    s.removeAllListeners('data');
    const inflate = createInflateRaw();
    s.pipe(inflate);
    const w = new Wire(s, inflate);
    const deflate = createDeflateRaw();
    deflate.pipe(s);
    deflate.write('c NAMESPACE\r\n');
    deflate.flush(constants.Z_SYNC_FLUSH);
    expect(await w.until(/c OK.*\r\n/)).toMatch(/\* NAMESPACE \(\("" "\/"\)\) NIL NIL/);
    s.destroy();
  });
  it('ends a compressed session whose client vanishes (closing the server waits for no one)', async () => {
    const own = await startTestImapServer();
    await own.addAccount('carol@example.test', 'pw');
    const s = net.connect(own.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    const w = new Wire(s);
    await w.until(/\* OK .*\r\n/);
    await w.cmd('a', 'LOGIN carol@example.test pw');
    expect(await w.cmd('b', 'COMPRESS DEFLATE')).toMatch(/b OK/);
    s.resetAndDestroy();
    // close() waits for every session to finish; before the fix the inflater outlived the socket and this never settled.
    const closed = await Promise.race([own.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open'), 3000))]);
    expect(closed).toBe('closed');
  });
});
