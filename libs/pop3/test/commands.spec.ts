// Every POP3 command against the in-memory store, over real sockets (plain with STLS, and implicit TLS).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { INBOX } from '@dizi/mail-store/ports/message-store';
import { Pop3TestClient } from './pop3-client';
import { startTestPop3Server, type TestPop3Server } from './test-server';

const plainAuth = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`).toString('base64');

const MSG1 = 'From: a@example.com\r\nSubject: one\r\n\r\nfirst body line\r\n.starts with a dot\r\n..two dots\r\nlast line\r\n';
const MSG2 = 'From: b@example.com\r\nSubject: two\r\n\r\nhello\r\n';
const MSG3 = 'Subject: three\r\n\r\nno final newline';

describe('pop3 commands', () => {
  let server: TestPop3Server;
  let mailboxId: string;
  let n = 0;
  let user: string;

  beforeAll(async () => {
    server = await startTestPop3Server({ maxBadCommands: 3, maxLineBytes: 256 });
  });
  afterAll(() => server.close());

  beforeEach(async () => {
    user = `user${++n}@example.com`;
    mailboxId = await server.addAccount(user, 'secret pass');
    await server.deliver(mailboxId, MSG1, 'Delivered-To: x@example.com\r\n');
    await server.deliver(mailboxId, MSG2);
    await server.deliver(mailboxId, MSG3);
  });

  async function loggedIn(): Promise<Pop3TestClient> {
    const c = await Pop3TestClient.connect(server.tlsPort, { implicitTls: true });
    expect(await c.line()).toMatch(/^\+OK Dizi/);
    expect(await c.command(`USER ${user}`)).toMatch(/^\+OK/);
    expect(await c.command('PASS secret pass')).toBe(`+OK Logged in, 3 messages (${size(0) + size(1) + size(2)} octets)`);
    return c;
  }
  const sources = () => [`Delivered-To: x@example.com\r\n${MSG1}`, MSG2, MSG3];
  const size = (i: number) => Buffer.byteLength(sources()[i]);

  async function inboxUids(): Promise<number[]> {
    const folder = await server.store.getFolder(mailboxId, { name: INBOX });
    return (await server.store.listMessages(folder.id)).map((m) => m.uid);
  }

  describe('plain port and STLS', () => {
    it('hides USER and SASL before STLS, refuses them with [AUTH], and offers them after STLS', async () => {
      const c = await Pop3TestClient.connect(server.port);
      expect(await c.line()).toMatch(/^\+OK/);
      const before = await c.multi('CAPA');
      expect(before.lines).toContain('STLS');
      expect(before.lines).not.toContain('USER');
      expect(before.lines.some((l) => l.startsWith('SASL'))).toBe(false);
      expect(before.lines).toEqual(expect.arrayContaining(['CAPA', 'TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING']));
      expect(await c.command(`USER ${user}`)).toBe('-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.');
      expect(await c.command('PASS secret pass')).toMatch(/^-ERR \[AUTH\]/);
      expect(await c.command(`AUTH PLAIN ${plainAuth(user, 'secret pass')}`)).toMatch(/^-ERR \[AUTH\]/);
      await c.startTls();
      const after = await c.multi('CAPA');
      expect(after.lines).toEqual(expect.arrayContaining(['USER', 'SASL PLAIN']));
      expect(after.lines).not.toContain('STLS');
      expect(await c.command('STLS')).toMatch(/^-ERR/);
      expect(await c.command(`USER ${user}`)).toMatch(/^\+OK/);
      expect(await c.command('PASS secret pass')).toMatch(/^\+OK Logged in, 3 messages/);
      expect(await c.command('QUIT')).toMatch(/^\+OK/);
    });

    it('drops commands pipelined behind STLS in clear text', async () => {
      const c = await Pop3TestClient.connect(server.port);
      await c.line();
      c.send('STLS\r\nNOOP\r\n');
      expect(await c.line()).toBe('+OK Begin TLS negotiation');
      // Upgrade by hand (startTls() would send STLS again).
      const tls = await import('node:tls');
      const raw = (c as unknown as { socket: import('node:net').Socket }).socket;
      raw.removeAllListeners('data');
      const secure = await new Promise<import('node:net').Socket>((resolve, reject) => {
        const s = tls.connect({ socket: raw, rejectUnauthorized: false }, () => resolve(s));
        s.once('error', reject);
      });
      const got: Buffer[] = [];
      secure.on('data', (d: Buffer) => got.push(d));
      secure.write('CAPA\r\n');
      await new Promise((r) => setTimeout(r, 200));
      const text = Buffer.concat(got).toString();
      // The first answer over TLS is CAPA's; NOOP was never run (it would have answered -ERR needs a login first).
      expect(text.startsWith('+OK Capability list follows')).toBe(true);
      expect(text).not.toContain('needs a login');
      secure.destroy();
    });
  });

  describe('authorization state', () => {
    it('answers transaction commands with -ERR before login and counts no bad command for them', async () => {
      const c = await Pop3TestClient.connect(server.tlsPort, { implicitTls: true });
      await c.line();
      for (const cmd of ['STAT', 'LIST', 'UIDL', 'RETR 1', 'TOP 1 1', 'DELE 1', 'RSET', 'NOOP']) {
        expect(await c.command(cmd)).toMatch(/^-ERR \S+ needs a login first$/);
      }
      expect(await c.command('PASS x')).toBe('-ERR Send USER first');
      expect(await c.command('QUIT')).toBe('+OK Dizi signing off');
      await c.waitClosed();
    });

    it('refuses wrong passwords with [AUTH] and closes after the failure limit', async () => {
      const c = await Pop3TestClient.connect(server.tlsPort, { implicitTls: true });
      await c.line();
      await c.command(`USER ${user}`);
      expect(await c.command('PASS wrong')).toBe('-ERR [AUTH] Authentication failed');
      await c.command(`USER ${user}`);
      expect(await c.command('PASS wrong')).toBe('-ERR [AUTH] Authentication failed');
      await c.command(`USER ${user}`);
      expect(await c.command('PASS wrong')).toBe('-ERR [AUTH] Authentication failed');
      expect(await c.line()).toBe('-ERR [AUTH] Too many failed logins; disconnecting');
      await c.waitClosed();
    });

    it('logs in with AUTH PLAIN, with an initial response and with a continuation', async () => {
      const a = await Pop3TestClient.connect(server.tlsPort, { implicitTls: true });
      await a.line();
      expect((await a.multi('AUTH')).lines).toEqual(['PLAIN']);
      expect(await a.command('AUTH CRAM-MD5')).toMatch(/^-ERR .*not supported/);
      expect(await a.command(`AUTH PLAIN ${plainAuth(user, 'nope')}`)).toBe('-ERR [AUTH] Authentication failed');
      expect(await a.command('AUTH PLAIN !!!')).toBe('-ERR [AUTH] Malformed SASL PLAIN response');
      expect(await a.command(`AUTH PLAIN ${plainAuth(user, 'secret pass')}`)).toMatch(/^\+OK Logged in, 3 messages/);
      expect(await a.command('QUIT')).toMatch(/^\+OK/);

      const b = await Pop3TestClient.connect(server.tlsPort, { implicitTls: true });
      await b.line();
      expect(await b.command('AUTH PLAIN')).toBe('+ ');
      expect(await b.command('*')).toBe('-ERR Authentication cancelled');
      expect(await b.command('AUTH PLAIN')).toBe('+ ');
      expect(await b.command(plainAuth(user, 'secret pass'))).toMatch(/^\+OK Logged in/);
      expect(await b.command('STAT')).toBe(`+OK 3 ${size(0) + size(1) + size(2)}`);
      b.destroy();
    });

    it('gives a second session on the same mailbox -ERR [IN-USE] until the first one ends', async () => {
      const first = await loggedIn();
      const second = await Pop3TestClient.connect(server.tlsPort, { implicitTls: true });
      await second.line();
      await second.command(`USER ${user}`);
      expect(await second.command('PASS secret pass')).toBe('-ERR [IN-USE] Mailbox is in use by another POP3 session');
      expect(await first.command('QUIT')).toMatch(/^\+OK/);
      await first.waitClosed();
      await second.command(`USER ${user}`);
      expect(await second.command('PASS secret pass')).toMatch(/^\+OK Logged in/);
      second.destroy();
      await second.waitClosed();
      await waitFor(() => !server.lock.isHeld(mailboxId));
    });
  });

  describe('transaction state', () => {
    it('STAT, LIST and UIDL describe the maildrop with sizes as served and stable unique ids', async () => {
      const c = await loggedIn();
      const folder = await server.store.getFolder(mailboxId, { name: INBOX });
      const uids = await inboxUids();
      expect(await c.command('STAT')).toBe(`+OK 3 ${size(0) + size(1) + size(2)}`);
      const list = await c.multi('LIST');
      expect(list.status).toBe(`+OK 3 messages (${size(0) + size(1) + size(2)} octets)`);
      expect(list.lines).toEqual([`1 ${size(0)}`, `2 ${size(1)}`, `3 ${size(2)}`]);
      expect(await c.command('LIST 2')).toBe(`+OK 2 ${size(1)}`);
      expect(await c.command('LIST 4')).toBe('-ERR There is no message 4');
      expect(await c.command('LIST x')).toMatch(/^-ERR Expected a message number/);
      const uidl = await c.multi('UIDL');
      expect(uidl.lines).toEqual(uids.map((uid, i) => `${i + 1} ${folder.uidValidity}.${uid}`));
      expect(await c.command('UIDL 3')).toBe(`+OK 3 ${folder.uidValidity}.${uids[2]}`);
      expect(await c.command('NOOP')).toBe('+OK Nothing happened');
      expect(await c.command('USER again')).toBe('-ERR USER is not valid after login');
      await c.command('QUIT');
      const again = await loggedIn();
      expect((await again.multi('UIDL')).lines).toEqual(uidl.lines);
      again.destroy();
    });

    it('RETR serves the message byte-for-byte, byte-stuffed on the wire, and ends a message without a final CRLF', async () => {
      const c = await loggedIn();
      expect(await c.command('RETR 1')).toBe(`+OK ${size(0)} octets`);
      const wire = (await c.body()).toString();
      expect(wire).toBe(sources()[0].replace(/^\./gm, '..'));
      expect(wire).toContain('\r\n..starts with a dot\r\n...two dots\r\n');
      expect(wire.replace(/^\./gm, '')).toBe(sources()[0]);
      expect(await c.command('RETR 3')).toBe(`+OK ${size(2)} octets`);
      expect((await c.body()).toString()).toBe(`${MSG3}\r\n`);
      expect(await c.command('RETR 9')).toBe('-ERR There is no message 9');
      expect(await c.command('RETR')).toBe('-ERR Missing argument');
      // RETR marks the message seen at QUIT (and not before).
      const folder = await server.store.getFolder(mailboxId, { name: INBOX });
      expect((await server.store.listMessages(folder.id))[0].flags).not.toContain('\\Seen');
      await c.command('QUIT');
      const flags = (await server.store.listMessages(folder.id)).map((m) => m.flags.includes('\\Seen'));
      expect(flags).toEqual([true, false, true]);
    });

    it('TOP serves the header, the blank line and n body lines', async () => {
      const c = await loggedIn();
      expect(await c.command('TOP 1 0')).toBe('+OK Top of message follows');
      expect((await c.body()).toString()).toBe('Delivered-To: x@example.com\r\nFrom: a@example.com\r\nSubject: one\r\n\r\n');
      await c.command('TOP 1 2');
      expect((await c.body()).toString()).toBe('Delivered-To: x@example.com\r\nFrom: a@example.com\r\nSubject: one\r\n\r\nfirst body line\r\n..starts with a dot\r\n');
      await c.command('TOP 2 100');
      expect((await c.body()).toString()).toBe(MSG2);
      expect(await c.command('TOP 1')).toBe('-ERR Missing argument');
      expect(await c.command('TOP 1 -1')).toMatch(/^-ERR Expected a number/);
      c.destroy();
    });

    it('DELE only marks; RSET unmarks; QUIT removes the marked messages from the store', async () => {
      const c = await loggedIn();
      const uids = await inboxUids();
      expect(await c.command('DELE 1')).toBe('+OK Message 1 deleted');
      expect(await c.command('DELE 1')).toBe('-ERR Message 1 is already deleted');
      expect(await c.command('RETR 1')).toBe('-ERR Message 1 is already deleted');
      expect(await c.command('STAT')).toBe(`+OK 2 ${size(1) + size(2)}`);
      expect((await c.multi('LIST')).lines).toEqual([`2 ${size(1)}`, `3 ${size(2)}`]);
      expect(await inboxUids()).toEqual(uids);
      expect(await c.command('RSET')).toBe('+OK Maildrop has 3 messages (' + (size(0) + size(1) + size(2)) + ' octets)');
      expect(await c.command('DELE 2')).toMatch(/^\+OK/);
      expect(await c.command('DELE 3')).toMatch(/^\+OK/);
      const folder = await server.store.getFolder(mailboxId, { name: INBOX });
      expect((await server.store.listMessages(folder.id)).some((m) => m.flags.includes('\\Deleted'))).toBe(false);
      expect(await c.command('QUIT')).toBe('+OK Dizi signing off (1 messages left)');
      await c.waitClosed();
      expect(await inboxUids()).toEqual([uids[0]]);
      expect(server.lock.isHeld(mailboxId)).toBe(false);
    });

    it('a dropped connection deletes nothing and frees the mailbox', async () => {
      const c = await loggedIn();
      const uids = await inboxUids();
      await c.command('DELE 1');
      await c.command('DELE 2');
      c.destroy();
      await waitFor(() => !server.lock.isHeld(mailboxId));
      expect(await inboxUids()).toEqual(uids);
      const folder = await server.store.getFolder(mailboxId, { name: INBOX });
      expect((await server.store.listMessages(folder.id)).every((m) => m.flags.length === 0)).toBe(true);
    });

    it('answers pipelined commands in order', async () => {
      const c = await loggedIn();
      c.send('STAT\r\nLIST 1\r\nUIDL 1\r\nNOOP\r\n');
      expect(await c.line()).toMatch(/^\+OK 3 /);
      expect(await c.line()).toBe(`+OK 1 ${size(0)}`);
      expect(await c.line()).toMatch(/^\+OK 1 \d+\.\d+$/);
      expect(await c.line()).toBe('+OK Nothing happened');
      c.destroy();
    });

    it('reports a message expunged by another session with -ERR [SYS/PERM]', async () => {
      const c = await loggedIn();
      const folder = await server.store.getFolder(mailboxId, { name: INBOX });
      const [first] = await inboxUids();
      await server.store.setFlags(folder.id, [{ from: first, to: first }], 'add', ['\\Deleted']);
      await server.store.expunge(folder.id);
      expect(await c.command('RETR 1')).toBe('-ERR [SYS/PERM] Message was removed by another session');
      expect(await c.command('RETR 2')).toBe(`+OK ${size(1)} octets`);
      c.destroy();
    });
  });

  describe('limits', () => {
    it('answers an overlong line once and closes after too many bad commands', async () => {
      const c = await Pop3TestClient.connect(server.tlsPort, { implicitTls: true });
      await c.line();
      c.send(`NOOP ${'x'.repeat(300)}`);
      c.send(`${'y'.repeat(300)}\r\n`);
      expect(await c.line()).toBe('-ERR Line too long; the limit is 256 octets');
      expect(await c.command('CAPA')).toBe('+OK Capability list follows');
      await c.body();
      expect(await c.command('FOO')).toBe('-ERR Unknown command FOO');
      expect(await c.command('BAR')).toBe('-ERR Unknown command BAR');
      expect(await c.line()).toBe('-ERR Too many invalid commands; disconnecting');
      await c.waitClosed();
    });

    it('closes an idle session without entering UPDATE', async () => {
      const quick = await startTestPop3Server({ idleTimeoutMs: 150, preLoginTimeoutMs: 100 });
      try {
        const id = await quick.addAccount('idle@example.com', 'pw');
        await quick.deliver(id, MSG2);
        const pre = await Pop3TestClient.connect(quick.tlsPort, { implicitTls: true });
        await pre.line();
        expect(await pre.line()).toBe('-ERR Disconnected for inactivity');
        await pre.waitClosed();

        const c = await Pop3TestClient.connect(quick.tlsPort, { implicitTls: true });
        await c.line();
        await c.command('USER idle@example.com');
        await c.command('PASS pw');
        expect(await c.command('DELE 1')).toMatch(/^\+OK/);
        expect(await c.line()).toBe('-ERR Disconnected for inactivity');
        await c.waitClosed();
        await waitFor(() => !quick.lock.isHeld(id));
        const folder = await quick.store.getFolder(id, { name: INBOX });
        expect(await quick.store.listMessages(folder.id)).toHaveLength(1);
      } finally {
        await quick.close();
      }
    });
  });
});

async function waitFor(test: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}
