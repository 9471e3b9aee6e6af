// Keywords are announced by FLAGS and PERMANENTFLAGS before the first FETCH that shows them (RFC 9051 §7.3.5, §7.5.2),
// whichever session added them; deterministic companion of apps/mta/test/imap-stress.spec.ts.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestImapServer, type TestImapServer } from './test-server';

class Client {
  private text = '';
  private waiters: Array<() => void> = [];
  constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.text += c.toString('utf8');
      this.waiters.splice(0).forEach((w) => w());
    });
  }
  static async open(port: number): Promise<Client> {
    const c = new Client(net.connect(port, '127.0.0.1'));
    await c.reply(/\* OK [^\r]*\r\n/);
    expect(await c.cmd('l', 'LOGIN kw@example.test pw')).toMatch(/l OK/);
    return c;
  }
  async reply(re: RegExp): Promise<string> {
    const deadline = Date.now() + 2000;
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
  async cmd(tag: string, line: string, literal?: string): Promise<string> {
    this.socket.write(literal === undefined ? `${tag} ${line}\r\n` : `${tag} ${line} {${Buffer.byteLength(literal)}+}\r\n${literal}\r\n`);
    return this.reply(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`));
  }
}

/** Index of the first line matching `re`, -1 when none. */
const lineOf = (text: string, re: RegExp) => text.split('\r\n').findIndex((l) => re.test(l));

describe('keyword announcement', () => {
  let server: TestImapServer;
  beforeAll(async () => {
    server = await startTestImapServer();
    await server.addAccount('kw@example.test', 'pw');
  });
  afterAll(() => server.close());

  it('another session\'s STORE, APPEND and COPY, and the session\'s own STORE, announce new keywords before the FETCH showing them', async () => {
    const a = await Client.open(server.port);
    const b = await Client.open(server.port);
    expect(await b.cmd('b1', 'APPEND INBOX ($Old)', 'Subject: one\r\n\r\nx\r\n')).toMatch(/b1 OK/);
    const selected = await a.cmd('a1', 'SELECT INBOX');
    expect(selected).toMatch(/\* FLAGS \([^)]*\$Old\)/);

    // Another session's STORE: FLAGS, PERMANENTFLAGS, then the FETCH.
    expect(await b.cmd('b2', 'SELECT INBOX')).toMatch(/b2 OK/);
    expect(await b.cmd('b3', 'STORE 1 +FLAGS.SILENT ($Fresh)')).toMatch(/b3 OK/);
    const noop = await a.cmd('a2', 'NOOP');
    const flagsAt = lineOf(noop, /^\* FLAGS \(.*\$Fresh/);
    expect(flagsAt, noop).toBeGreaterThanOrEqual(0);
    expect(lineOf(noop, /^\* OK \[PERMANENTFLAGS \(.*\$Fresh.*\\\*\)\]/)).toBe(flagsAt + 1);
    expect(lineOf(noop, /^\* 1 FETCH \(FLAGS \(.*\$Fresh/)).toBeGreaterThan(flagsAt + 1);

    // Another session's APPEND with a new keyword: announced with the EXISTS, before a FETCH can show it.
    expect(await b.cmd('b4', 'APPEND INBOX ($Appended)', 'Subject: two\r\n\r\ny\r\n')).toMatch(/b4 OK/);
    const exists = await a.cmd('a3', 'NOOP');
    expect(lineOf(exists, /^\* FLAGS \(.*\$Appended/), exists).toBeGreaterThanOrEqual(0);
    expect(lineOf(exists, /^\* FLAGS \(.*\$Appended/)).toBeLessThan(lineOf(exists, /^\* 2 EXISTS/));

    // COPY from another folder brings its keywords along.
    expect(await b.cmd('b5', 'CREATE Other')).toMatch(/b5 OK/);
    expect(await b.cmd('b6', 'APPEND Other ($Copied)', 'Subject: three\r\n\r\nz\r\n')).toMatch(/b6 OK/);
    expect(await b.cmd('b7', 'SELECT Other')).toMatch(/b7 OK/);
    expect(await b.cmd('b8', 'COPY 1 INBOX')).toMatch(/b8 OK/);
    const copied = await a.cmd('a4', 'FETCH 1:* (FLAGS)');
    const copiedFlags = lineOf(copied, /^\* FLAGS \(.*\$Copied/);
    expect(copiedFlags, copied).toBeGreaterThanOrEqual(0);
    expect(copiedFlags).toBeLessThan(lineOf(copied, /^\* 3 EXISTS/));
    expect(await a.cmd('a4b', 'FETCH 3 (FLAGS)')).toMatch(/^\* 3 FETCH \(FLAGS \(\$Copied/);

    // The session's own STORE.
    const own = await a.cmd('a5', 'STORE 1 +FLAGS ($Mine)');
    const ownFlags = lineOf(own, /^\* FLAGS \(.*\$Mine/);
    expect(ownFlags, own).toBeGreaterThanOrEqual(0);
    expect(ownFlags).toBeLessThan(lineOf(own, /^\* 1 FETCH \(FLAGS \(.*\$Mine/));
    // Announced once: the same keyword again brings no new FLAGS.
    expect(await a.cmd('a6', 'STORE 2 +FLAGS ($Mine)')).not.toMatch(/\* FLAGS/);
    a.socket.destroy();
    b.socket.destroy();
  });
});
