/**
 * RETR and TOP over a whole maildrop ask the store for header prefixes in batches, not once per message, and still
 * serve every message exactly as stored (its own header prefix included); a message expunged by another session
 * meanwhile still gets -ERR.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { INBOX } from '@dizi/mail-store/ports/message-store';
import { Pop3TestClient } from './pop3-client';
import { startTestPop3Server, type TestPop3Server } from './test-server';

let server: TestPop3Server;
const calls = { list: 0, source: 0 };

beforeAll(async () => {
  server = await startTestPop3Server();
  // Counted, not replaced: the memory store still answers.
  const list = server.store.listMessages.bind(server.store);
  server.store.listMessages = (...args) => (calls.list++, list(...args));
  const source = server.store.getMessageSource.bind(server.store);
  server.store.getMessageSource = (...args) => (calls.source++, source(...args));
});
afterAll(() => server.close());

it('serves 450 messages with RETR then TOP in a few listings, each with its own header prefix and body', async () => {
  const mailboxId = await server.addAccount('many@example.com', 'secret pass');
  const expected: string[] = [];
  for (let i = 1; i <= 450; i++) {
    const raw = `Subject: number ${i}\r\n\r\nbody ${i}\r\n`;
    const prefix = i % 3 === 0 ? `Delivered-To: many+${i}@example.com\r\n` : '';
    await server.deliver(mailboxId, raw, prefix);
    expected.push(prefix + raw);
  }
  const c = await Pop3TestClient.connect(server.tlsPort, { implicitTls: true });
  await c.line();
  await c.command('USER many@example.com');
  expect(await c.command('PASS secret pass')).toMatch(/^\+OK Logged in, 450 messages/);
  calls.list = 0;
  calls.source = 0;
  for (let i = 1; i <= 450; i++) {
    const r = await c.multi(`RETR ${i}`);
    expect(r.status).toBe(`+OK ${Buffer.byteLength(expected[i - 1])} octets`);
    expect(r.lines.join('\r\n') + '\r\n').toBe(expected[i - 1]);
  }
  // 450 messages in batches of 200: 3 listings, no per-message source query.
  expect(calls.list).toBe(3);
  expect(calls.source).toBe(0);
  for (let i = 1; i <= 450; i++) {
    const r = await c.multi(`TOP ${i} 0`);
    expect(r.lines[0]).toBe(expected[i - 1].split('\r\n')[0]);
  }
  expect(calls.list).toBe(6);
  expect(calls.source).toBe(0);

  // Expunged by another session before the listing that would hold it: -ERR, and the session goes on.
  const folder = await server.store.getFolder(mailboxId, { name: INBOX });
  expect((await c.multi('RETR 1')).status).toMatch(/^\+OK/);
  const gone = (await server.store.listMessages(folder.id))[299];
  await server.store.setFlags(folder.id, [{ from: gone.uid, to: gone.uid }], 'add', ['\\Deleted']);
  await server.store.expunge(folder.id);
  expect(await c.command('RETR 300')).toBe('-ERR [SYS/PERM] Message was removed by another session');
  const next = await c.multi('RETR 301');
  expect(next.lines.join('\r\n') + '\r\n').toBe(expected[300]);
  c.destroy();
});
