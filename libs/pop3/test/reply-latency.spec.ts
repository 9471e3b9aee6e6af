// POP3 replies as a real client waits for them: Python's poplib issuing RETR and TOP one after another. A reply that
// leaves in several small writes on a socket with Nagle's algorithm on waits for the client's delayed ACK (~40 ms
// per command on Linux); each command must instead come back at loopback speed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPop3Server, type TestPop3Server } from './test-server';

const run = promisify(execFile);
const ROUNDS = 25;

// Prints the median milliseconds of RETR and of TOP n 0, each over ROUNDS commands on one connection.
const CLIENT = `
import poplib, ssl, statistics, sys, time
port, tls, user = int(sys.argv[1]), sys.argv[2] == 'tls', sys.argv[3]
if tls:
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    p = poplib.POP3_SSL('127.0.0.1', port, context=ctx)
else:
    p = poplib.POP3('127.0.0.1', port)
p.user(user); p.pass_('secret pass')
def timed(f):
    out = []
    for i in range(${ROUNDS}):
        t = time.perf_counter(); f(i % 2 + 1); out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)
retr = timed(lambda n: p.retr(n))
top = timed(lambda n: p.top(n, 0))
stat = timed(lambda n: p.stat())
p.quit()
print(f'{retr:.2f} {top:.2f} {stat:.2f}')
`;

describe('pop3 reply latency with poplib', () => {
  let server: TestPop3Server;
  const user = 'latency@example.com';

  beforeAll(async () => {
    server = await startTestPop3Server({ allowInsecureAuth: true });
    const mailboxId = await server.addAccount(user, 'secret pass');
    const body = 'A line of ordinary text for the latency test.\r\n'.repeat(200);
    await server.deliver(mailboxId, `From: a@example.com\r\nSubject: one\r\n\r\n${body}`, 'Delivered-To: latency@example.com\r\n');
    await server.deliver(mailboxId, `From: b@example.com\r\nSubject: two\r\n\r\nshort\r\n`);
  });
  afterAll(() => server.close());

  for (const tls of [false, true]) {
    it(`answers RETR, TOP and STAT without a delayed-ACK stall (${tls ? 'implicit TLS' : 'plain'})`, async () => {
      const { stdout } = await run('/usr/bin/python3', ['-c', CLIENT, String(tls ? server.tlsPort : server.port), tls ? 'tls' : 'plain', user]);
      const [retr, top, stat] = stdout.trim().split(' ').map(Number);
      // A stall costs 40 ms or more; a loaded shared machine still answers these in a few.
      expect(retr).toBeLessThan(20);
      expect(top).toBeLessThan(20);
      expect(stat).toBeLessThan(20);
    });
  }
});
