/**
 * The ManageSieve server on a memory store, over a raw socket: greeting and capabilities, SASL PLAIN (TLS required
 * unless allowed; initial response and continuation; cancel), every command's replies and response codes, limits,
 * state checks, pipelined literals, and a hostile peer (garbage, a huge literal).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManageSieveServer, type ManageSieveServer } from '../src/server';
import { MemoryScriptStore } from './memory-script-store';
import { WireClient } from '@dizi/testing/managesieve-client';

const plain = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');
const literal = (s: string) => `{${Buffer.byteLength(s)}+}\r\n${s}`;

describe('ManageSieve server', () => {
  const store = new MemoryScriptStore();
  let server: ManageSieveServer;
  let strict: ManageSieveServer;
  let port = 0;
  let strictPort = 0;
  const limits = { maxScriptSize: 200, maxScripts: 3, maxRedirects: 4 };
  const clients: WireClient[] = [];

  beforeAll(async () => {
    const authenticator = {
      login: async ({ username, password }: { username: string; password: string }) =>
        username === 'alice@a.test' && password === 'secret'
          ? { ok: true as const, mailboxId: 'mb-alice', username }
          : { ok: false as const, tryLater: username === 'throttled@a.test', text: 'Authentication failed.' },
    };
    server = createManageSieveServer({ store, authenticator, limits: () => limits, allowPlaintextAuth: true, settings: { maxBadCommands: 3 } });
    port = await server.listen(0);
    strict = createManageSieveServer({ store, authenticator, limits: () => limits });
    strictPort = await strict.listen(0);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server.close();
    await strict.close();
  });

  const connect = async (p = port) => {
    const c = await WireClient.connect(p);
    clients.push(c);
    const greeting = await c.reply();
    return { c, greeting };
  };
  const signedIn = async () => {
    const { c } = await connect();
    expect((await c.send(`AUTHENTICATE "PLAIN" "${plain('alice@a.test', 'secret')}"\r\n`)).status).toBe('OK "Logged in."');
    return c;
  };

  it('greets with its capabilities; refuses PLAIN without TLS on a strict listener', async () => {
    const { greeting } = await connect();
    expect(greeting.data).toContain('"SASL" "PLAIN"');
    expect(greeting.data).toMatch(/"SIEVE" "fileinto reject ereject envelope body imap4flags copy vacation/);
    expect(greeting.data).toContain('"MAXREDIRECTS" "4"');
    expect(greeting.data).toContain('"VERSION" "1.0"');
    expect(greeting.data).not.toContain('editheader');
    expect(greeting.status).toMatch(/^OK /);
    const s = await connect(strictPort);
    expect(s.greeting.data).toContain('"SASL" ""');
    expect((await s.c.send(`AUTHENTICATE "PLAIN" "${plain('alice@a.test', 'secret')}"\r\n`)).status).toMatch(/^NO \(ENCRYPT-NEEDED\)/);
    // No TLS configured: STARTTLS is neither offered nor possible.
    expect(s.greeting.data).not.toContain('STARTTLS');
    expect((await s.c.send('STARTTLS\r\n')).status).toMatch(/^NO /);
  });

  it('signs in with a continuation, refuses bad credentials, honours a cancel, and says TRYLATER when throttled', async () => {
    const { c } = await connect();
    expect((await c.send('LISTSCRIPTS\r\n')).status).toMatch(/^NO .*authenticate first/);
    expect((await c.send(`AUTHENTICATE "PLAIN" "${plain('alice@a.test', 'wrong')}"\r\n`)).status).toBe('NO "Authentication failed."');
    expect((await c.send(`AUTHENTICATE "PLAIN" "${plain('throttled@a.test', 'x')}"\r\n`)).status).toMatch(/^NO \(TRYLATER\)/);
    c.socket.write('AUTHENTICATE "PLAIN"\r\n');
    await new Promise((r) => setTimeout(r, 50));
    expect((await c.send('"*"\r\n')).status).toBe('NO "Authentication cancelled."');
    c.socket.write('AUTHENTICATE "PLAIN"\r\n');
    expect((await c.send(`${literal(plain('alice@a.test', 'secret'))}\r\n`)).status).toBe('OK "Logged in."');
    expect((await c.send('LISTSCRIPTS\r\n')).status).toBe('OK "Listscripts completed."');
    expect((await c.send('UNAUTHENTICATE\r\n')).status).toMatch(/^OK/);
    expect((await c.send('LISTSCRIPTS\r\n')).status).toMatch(/^NO /);
  });

  it('puts, lists, activates, gets, renames, checks and deletes scripts with the RFC response codes', async () => {
    const c = await signedIn();
    expect((await c.send(`PUTSCRIPT "vacation" ${literal('require "vacation";\r\nvacation "away";\r\n')}\r\n`)).status).toBe('OK "PUTSCRIPT completed."');
    expect((await c.send(`PUTSCRIPT "broken" ${literal('if true {')}\r\n`)).status).toMatch(/^NO "line 1:\d+: /);
    expect((await c.send(`PUTSCRIPT "edit" ${literal('require "editheader"; addheader "X" "y";')}\r\n`)).status).toMatch(/^NO .*editheader/);
    expect((await c.send('SETACTIVE "vacation"\r\n')).status).toBe('OK "Setactive completed."');
    expect((await c.send('LISTSCRIPTS\r\n')).data).toBe('"vacation" ACTIVE');
    const got = await c.send('GETSCRIPT "vacation"\r\n');
    expect(got.data).toBe('{39}\r\nrequire "vacation";\r\nvacation "away";\r\n\r\n');
    expect((await c.send('GETSCRIPT "nothing"\r\n')).status).toMatch(/^NO \(NONEXISTENT\)/);
    expect((await c.send('DELETESCRIPT "vacation"\r\n')).status).toMatch(/^NO \(ACTIVE\)/);
    expect((await c.send(`PUTSCRIPT "other" ${literal('keep;')}\r\n`)).status).toMatch(/^OK/);
    expect((await c.send('RENAMESCRIPT "other" "vacation"\r\n')).status).toMatch(/^NO \(ALREADYEXISTS\)/);
    expect((await c.send('RENAMESCRIPT "none" "x"\r\n')).status).toMatch(/^NO \(NONEXISTENT\)/);
    expect((await c.send('RENAMESCRIPT "other" "spare"\r\n')).status).toBe('OK "Renamescript completed."');
    expect((await c.send(`CHECKSCRIPT ${literal('discard;')}\r\n`)).status).toBe('OK "Script checked successfully."');
    expect((await c.send(`CHECKSCRIPT ${literal('discard')}\r\n`)).status).toMatch(/^NO "line 1:/);
    expect((await c.send('SETACTIVE "nothing"\r\n')).status).toMatch(/^NO \(NONEXISTENT\)/);
    expect((await c.send('SETACTIVE ""\r\n')).status).toMatch(/^OK/);
    expect((await c.send('DELETESCRIPT "vacation"\r\n')).status).toBe('OK "Deletescript completed."');
    expect((await c.send('LISTSCRIPTS\r\n')).data).toBe('"spare"');
    expect((await c.send('NOOP "tag-1"\r\n')).status).toBe('OK (TAG "tag-1") "Done"');
    expect((await c.send('LOGOUT\r\n')).status).toBe('OK "Logout completed."');
  });

  it('enforces the size and count limits (PUTSCRIPT and HAVESPACE) and refuses bad names', async () => {
    const c = await signedIn();
    for (const n of ['a', 'b']) await c.send(`PUTSCRIPT "${n}" ${literal('keep;')}\r\n`);
    expect((await c.send('HAVESPACE "x" 201\r\n')).status).toMatch(/^NO \(QUOTA\/MAXSIZE\)/);
    expect((await c.send('HAVESPACE "x" 100\r\n')).status).toMatch(/^NO \(QUOTA\/MAXSCRIPTS\)/);
    expect((await c.send('HAVESPACE "a" 100\r\n')).status).toBe('OK "Putscript would succeed."');
    expect((await c.send(`PUTSCRIPT "x" ${literal('keep;')}\r\n`)).status).toMatch(/^NO \(QUOTA\/MAXSCRIPTS\)/);
    expect((await c.send(`PUTSCRIPT "a" ${literal(`# ${'x'.repeat(250)}\r\nkeep;`)}\r\n`)).status).toMatch(/^NO \(QUOTA\/MAXSIZE\)/);
    expect((await c.send(`PUTSCRIPT "bad\u0007" ${literal('keep;')}\r\n`)).status).toBe('NO "Invalid script name."');
    expect((await c.send('HAVESPACE "a" lots\r\n')).status).toMatch(/^NO .*Invalid arguments/);
  });

  it('answers pipelined commands in order, and closes on garbage or an oversized literal', async () => {
    const c = await signedIn();
    c.socket.write(`NOOP "1"\r\nCHECKSCRIPT ${literal('keep;')}\r\nNOOP "2"\r\n`);
    expect((await c.reply()).status).toBe('OK (TAG "1") "Done"');
    expect((await c.reply()).status).toMatch(/^OK "Script checked/);
    expect((await c.reply()).status).toBe('OK (TAG "2") "Done"');

    const { c: junk } = await connect();
    for (let i = 0; i < 2; i++) expect((await junk.send('FROB\r\n')).status).toMatch(/^NO .*Unknown command/);
    expect((await junk.send('FROB\r\n')).status).toMatch(/^BYE/);

    const { c: huge } = await connect();
    expect((await huge.send('PUTSCRIPT "x" {999999999+}\r\n')).status).toMatch(/^BYE .*too big/);
  });
});
