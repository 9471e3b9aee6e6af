// Hostile and careless input over a raw socket: overlong lines, huge sequence sets, deep nesting, literals before login.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestImapServer, type TestImapServer } from './test-server';

/** A raw connection that records everything the server sends and whether it closed. */
class Raw {
  text = '';
  closed = false;
  private waiters: Array<() => void> = [];
  constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.text += c.toString('latin1');
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }
  private wake() {
    this.waiters.splice(0).forEach((w) => w());
  }
  static async open(port: number): Promise<Raw> {
    const raw = new Raw(net.connect(port, '127.0.0.1'));
    await raw.until(/\* OK .*\r\n/);
    return raw;
  }
  /** Waits for `re` in what arrived so far (consuming up to it); fails after `ms`. */
  async until(re: RegExp, ms = 1000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.text);
      if (m) {
        const out = this.text.slice(0, m.index + m[0].length);
        this.text = this.text.slice(m.index + m[0].length);
        return out;
      }
      if (Date.now() > deadline || this.closed) throw new Error(`no ${re} within ${ms} ms (closed: ${this.closed}); have ${JSON.stringify(this.text.slice(-300))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }
  async closes(ms = 1000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }
  write(s: string | Buffer) {
    this.socket.write(s);
  }
  async cmd(tag: string, line: string, ms = 1000): Promise<string> {
    this.write(`${tag} ${line}\r\n`);
    return this.until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`), ms);
  }
}

describe('IMAP hostile input', () => {
  let server: TestImapServer;
  beforeAll(async () => {
    server = await startTestImapServer();
    await server.addAccount('eve@example.test', 'pw');
  });
  afterAll(async () => {
    await server.close();
  });

  const loggedIn = async () => {
    const raw = await Raw.open(server.port);
    expect(await raw.cmd('l', 'LOGIN eve@example.test pw')).toMatch(/l OK/);
    return raw;
  };

  it('answers an overlong command line with a tagged BAD as soon as the limit is passed, and stays usable', async () => {
    const raw = await loggedIn();
    // 100 KB and no CRLF: the answer may not wait for a line end that never comes.
    raw.write(`a1 NOOP ${'x'.repeat(100 * 1024)}`);
    expect(await raw.until(/a1 BAD \[TOOBIG\][^\r]*\r\n/)).not.toMatch(/\* BAD/);
    raw.write(`${'y'.repeat(10_000)}\r\n`);
    expect(await raw.cmd('a2', 'NOOP')).toMatch(/a2 OK/);
    raw.socket.destroy();
  });

  it('answers a megabyte-long sequence set with a tagged BAD within a second', async () => {
    const raw = await loggedIn();
    expect(await raw.cmd('s', 'SELECT INBOX')).toMatch(/s OK/);
    const set = Array.from({ length: 160_000 }, (_, i) => String(2 * i + 1)).join(',');
    expect(set.length).toBeGreaterThan(1_000_000);
    const started = Date.now();
    raw.write(`f1 UID FETCH ${set} (FLAGS)\r\n`);
    await raw.until(/f1 BAD [^\r]*\r\n/);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await raw.cmd('f2', 'NOOP', 3000)).toMatch(/f2 OK/);
    raw.socket.destroy();
  });

  it('refuses a sequence set of more ranges than the limit even within the line limit', async () => {
    const raw = await loggedIn();
    expect(await raw.cmd('s', 'SELECT INBOX')).toMatch(/s OK/);
    const set = Array.from({ length: 10_001 }, (_, i) => String(2 * i + 1)).join(',');
    expect(await raw.cmd('f1', `UID FETCH ${set} (FLAGS)`)).toMatch(/f1 BAD Sequence set has more than 10000 ranges/);
    raw.socket.destroy();
  });

  it('refuses deeply nested parentheses and NOT/OR chains with a tagged BAD, and the session survives', async () => {
    const raw = await loggedIn();
    expect(await raw.cmd('s', 'SELECT INBOX')).toMatch(/s OK/);
    // Each answered (tagged) within a second: Raw.cmd waits no longer.
    expect(await raw.cmd('p1', `SEARCH ${'('.repeat(20_000)}ALL${')'.repeat(20_000)}`)).toMatch(/p1 BAD Parentheses nested deeper than 64/);
    expect(await raw.cmd('p2', `SEARCH ${'NOT '.repeat(15_000)}ALL`)).toMatch(/p2 BAD Search keys nested deeper than 64/);
    expect(await raw.cmd('p3', `SEARCH ${'OR ALL '.repeat(9_000)}ALL`)).toMatch(/p3 BAD Search keys nested deeper than 64/);
    expect(await raw.cmd('p4', `FETCH 1 ${'('.repeat(100)}FLAGS${')'.repeat(100)}`)).toMatch(/p4 BAD Parentheses nested deeper/);
    // Moderate nesting still works.
    expect(await raw.cmd('p5', 'SEARCH ((NOT (OR SEEN (FLAGGED))) ALL)')).toMatch(/p5 OK/);
    raw.socket.destroy();
  });

  it('answers 100 KB without CRLF and without a tag with BYE and closes', async () => {
    const raw = await Raw.open(server.port);
    raw.write('z'.repeat(100 * 1024));
    await raw.until(/\* BYE [^\r]*\r\n/);
    expect(await raw.closes()).toBe(true);
  });

  it('refuses a big non-synchronising literal before login without reading it, and closes', async () => {
    const raw = await Raw.open(server.port);
    raw.write('a LOGIN {100000000+}\r\n');
    raw.write('x'.repeat(64 * 1024));
    await raw.until(/a BAD \[TOOBIG\][^\r]*\r\n\* BYE[^\r]*\r\n/);
    expect(await raw.closes()).toBe(true);
  });

  it('refuses a synchronising or LITERAL- literal over the pre-login limit with BAD, no "+", and closes', async () => {
    for (const literal of ['{100000}', '{9000}', '{9000-}']) {
      const raw = await Raw.open(server.port);
      raw.write(`a LOGIN ${literal}\r\n`);
      const answer = await raw.until(/a BAD \[TOOBIG\][^\r]*\r\n\* BYE[^\r]*\r\n/);
      expect(answer).not.toMatch(/^\+/m);
      expect(await raw.closes()).toBe(true);
    }
  });

  it('refuses many small literals before login once their total passes the limit', async () => {
    const raw = await Raw.open(server.port);
    raw.write(`a LOGIN {5000+}\r\n${'u'.repeat(5000)} {5000+}\r\n${'p'.repeat(5000)}\r\n`);
    await raw.until(/a BAD \[TOOBIG\][^\r]*\r\n\* BYE/);
    expect(await raw.closes()).toBe(true);
  });

  it('still takes small literals before login and big ones after', async () => {
    const raw = await Raw.open(server.port);
    raw.write('a LOGIN {16}\r\n');
    await raw.until(/^\+[^\r]*\r\n/m);
    raw.write('eve@example.test {2+}\r\npw\r\n');
    await raw.until(/a OK[^\r]*\r\n/);
    const name = 'n'.repeat(20_000);
    raw.write(`b STATUS {${name.length}+}\r\n${name} (MESSAGES)\r\n`);
    await raw.until(/b NO [^\r]*\r\n/);
    raw.socket.destroy();
  });

  it('answers an overlong AUTHENTICATE response and IDLE line at once and drops their rest', async () => {
    const raw = await Raw.open(server.port);
    raw.write('a AUTHENTICATE PLAIN\r\n');
    await raw.until(/^\+ ?\r\n/m);
    raw.write('Q'.repeat(100 * 1024));
    await raw.until(/a BAD Authentication response too long\r\n/);
    raw.write('QQQ\r\n');
    expect(await raw.cmd('b', 'LOGIN eve@example.test pw')).toMatch(/b OK/);
    expect(await raw.cmd('c', 'SELECT INBOX')).toMatch(/c OK/);
    raw.write('d IDLE\r\n');
    await raw.until(/^\+ idling\r\n/m);
    raw.write('D'.repeat(100 * 1024));
    await raw.until(/d BAD Expected DONE\r\n/);
    raw.write('ONE\r\n');
    expect(await raw.cmd('e', 'NOOP')).toMatch(/e OK/);
    expect(raw.text).not.toMatch(/BAD/);
    raw.socket.destroy();
  });

  it('refuses a command whose literals held in memory pass 1 MB, though each is within the literal limit', async () => {
    const raw = await loggedIn();
    expect(await raw.cmd('s', 'SELECT INBOX')).toMatch(/s OK/);
    const piece = 'w'.repeat(60_000);
    // SEARCH OR TEXT {60000+} … : 18 × 60,000 octets = 1.08 MB would all be kept until the command runs.
    let command = 'h1 SEARCH';
    for (let i = 0; i < 17; i++) command += ` OR TEXT {${piece.length}+}\r\n${piece}`;
    command += ` TEXT {${piece.length}+}\r\n${piece} ALL\r\n`;
    raw.write(command);
    await raw.until(/h1 BAD \[TOOBIG\][^\r]*\r\n/, 3000);
    expect(await raw.cmd('h2', 'NOOP')).toMatch(/h2 OK/);
    raw.socket.destroy();
  });

  it('skips a non-synchronising literal announced by a malformed command instead of reading it as commands', async () => {
    const raw = await loggedIn();
    raw.write('m1 FETCH x) {20+}\r\nm9 LOGOUT\r\nXXXXXXXXX\r\nm2 NOOP\r\n');
    await raw.until(/m1 BAD[^\r]*\r\n/);
    expect(await raw.until(/m2 OK[^\r]*\r\n/)).not.toMatch(/BYE/);
    raw.socket.destroy();
  });
});
