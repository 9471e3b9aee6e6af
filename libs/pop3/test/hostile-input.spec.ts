// POP3 against hostile and careless input: overlong lines and garbage before login, over raw sockets and Python poplib.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pop3TestClient } from './pop3-client';
import { startTestPop3Server, type TestPop3Server } from './test-server';

const run = promisify(execFile);

/** Resolves with the line, or rejects after `ms`: a reply that never comes must fail the test, not hang it. */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))]);
}

describe('POP3 hostile input', () => {
  let server: TestPop3Server;
  beforeAll(async () => {
    server = await startTestPop3Server({ allowInsecureAuth: true });
    const mailboxId = await server.addAccount('pat@example.test', 'pw');
    await server.deliver(mailboxId, 'Subject: one\r\n\r\nbody\r\n');
  });
  afterAll(() => server.close());

  it('answers 100 KB without CRLF at once, keeps nothing of it, and stays usable', async () => {
    const c = await Pop3TestClient.connect(server.port);
    await c.line();
    c.send(`USER ${'x'.repeat(100 * 1024)}`);
    expect(await within(c.line(), 1000)).toBe('-ERR Line too long; the limit is 1024 octets');
    // The rest of the line, whenever it ends, is dropped without a second answer.
    c.send(`${'y'.repeat(50 * 1024)}\r\n`);
    expect(await within(c.command('USER pat@example.test'), 1000)).toMatch(/^\+OK/);
    expect(await within(c.command('PASS pw'), 3000)).toMatch(/^\+OK Logged in, 1 message/);
    c.destroy();
  });

  it('Python poplib gets an answer to an overlong command instead of waiting for ever', async () => {
    const { stdout } = await run('/usr/bin/python3', ['-c', `
import poplib, sys, socket
p = poplib.POP3('127.0.0.1', int(sys.argv[1]), timeout=2)
p._max_line = 1 << 20
try:
    p._shortcmd('USER ' + 'a' * 5000)
except poplib.error_proto as e:
    print('ERR', e.args[0].decode()[:29])
print('USER', p.user('pat@example.test').decode()[:3])
print('PASS', p.pass_('pw').decode()[:3])
print('STAT', p.stat())
p.quit()
`, String(server.port)]);
    expect(stdout.trim().split('\n')).toEqual(['ERR -ERR Line too long; the limit', 'USER +OK', 'PASS +OK', 'STAT (1, 22)']);
  });
});
