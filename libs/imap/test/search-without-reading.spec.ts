// SEARCH by header, SORT and THREAD are answered from what the store keeps per message: no message is read, and no
// summary is listed (the cost that made them take seconds at 5,000 messages), seen through a real client.
import net from 'node:net';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestImapServer, type TestImapServer } from './test-server';

const COUNT = 40;

describe('SEARCH, SORT and THREAD without reading messages', () => {
  let server: TestImapServer;
  let client: ImapFlow;
  let reads = 0;
  let summaries = 0;

  beforeAll(async () => {
    server = await startTestImapServer();
    await server.addAccount('eve@example.test', 'pw');
    client = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, doSTARTTLS: false, auth: { user: 'eve@example.test', pass: 'pw' }, logger: false });
    await client.connect();
    for (let i = 0; i < COUNT; i++) {
      await client.append('INBOX', `From: =?UTF-8?B?${Buffer.from(`发件人${i % 4}`).toString('base64')}?= <sender${i % 4}@example.test>\r\n`
        + `To: rcpt${i % 3}@example.test\r\nSubject: ${i % 2 ? 'Re: ' : ''}topic ${i % 5}\r\nMessage-ID: <m${i}@example.test>\r\n`
        + `${i ? `In-Reply-To: <m${i - 1}@example.test>\r\n` : ''}${i % 5 === 0 ? 'List-Id: Weekly =?UTF-8?B?5ZGo5oql?= <weekly.lists.example>\r\n' : ''}Date: ${1 + (i % 28)} Nov 2026 10:00:00 +0000\r\n\r\nbody ${i}\r\n`);
    }
    const store = server.store;
    const getSource = store.getMessageSource.bind(store);
    store.getMessageSource = async (...args) => {
      reads++;
      return getSource(...args);
    };
    const readMessage = store.readMessage.bind(store);
    store.readMessage = async (...args) => {
      reads++;
      return readMessage(...args);
    };
    const list = store.listMessages.bind(store);
    store.listMessages = async (folderId, query = {}) => {
      const found = await list(folderId, query);
      if (query.withSummary !== false) summaries += found.length;
      return found;
    };
    await client.mailboxOpen('INBOX');
  });
  afterAll(async () => {
    await client.logout();
    await server.close();
  });

  // imapflow has no SORT/THREAD: a raw connection sends the commands.
  let raw: net.Socket;
  let buffered = '';
  let waiting: (() => void) | null = null;
  const tagged = async (tag: string): Promise<string[]> => {
    for (;;) {
      const end = buffered.indexOf(`${tag} `);
      const eol = end >= 0 ? buffered.indexOf('\r\n', end) : -1;
      if (eol >= 0) {
        const lines = buffered.slice(0, eol).split('\r\n');
        buffered = buffered.slice(eol + 2);
        return lines;
      }
      await new Promise<void>((resolve) => (waiting = resolve));
    }
  };
  let n = 0;
  const send = async (command: string) => {
    const tag = `t${++n}`;
    raw.write(`${tag} ${command}\r\n`);
    const lines = await tagged(tag);
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^${tag} OK`));
    return lines.slice(0, -1);
  };
  beforeAll(async () => {
    raw = net.connect(server.port, '127.0.0.1');
    raw.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      waiting?.();
    });
    await send('LOGIN eve@example.test pw');
    await send('SELECT INBOX');
  });
  afterAll(() => raw.destroy());

  const run = async (command: string) => {
    reads = 0;
    summaries = 0;
    const lines = (await send(command)).filter((l) => /^\* (SEARCH|SORT|THREAD)/.test(l));
    return { lines, reads, summaries };
  };

  for (const command of [
    'UID SEARCH FROM sender1', 'UID SEARCH FROM 发件人2', 'UID SEARCH TO rcpt2', 'UID SEARCH SUBJECT topic', 'UID SEARCH HEADER Message-ID <m7@example.test>',
    'UID SEARCH HEADER In-Reply-To m3', 'UID SEARCH NOT CC x', 'UID SEARCH SENTON 3-Nov-2026', 'UID SORT (SUBJECT) UTF-8 ALL',
    'UID SORT (REVERSE DATE) UTF-8 ALL', 'UID SORT (FROM) UTF-8 ALL', 'UID SORT (DISPLAYFROM) UTF-8 ALL', 'UID THREAD REFERENCES UTF-8 ALL',
    'UID THREAD ORDEREDSUBJECT UTF-8 ALL', 'UID SEARCH HEADER List-Id weekly.lists', 'UID SEARCH CHARSET UTF-8 HEADER List-Id 周报',
    'UID SEARCH HEADER List-Id ""', 'UID SEARCH NOT HEADER List-Id weekly',
  ]) {
    it(`${command} reads no message and lists no summary`, async () => {
      const { lines, reads: r, summaries: s } = await run(command);
      expect(lines.length).toBe(1);
      expect(lines[0].split(' ').length).toBeGreaterThan(2);
      expect({ reads: r, summaries: s }).toEqual({ reads: 0, summaries: 0 });
    });
  }

  it('finds exactly the messages with a List-Id from the kept fields', async () => {
    const lists = Array.from({ length: COUNT }, (_, i) => i + 1).filter((uid) => (uid - 1) % 5 === 0);
    expect((await run('UID SEARCH HEADER List-Id WEEKLY.lists.example')).lines).toEqual([`* SEARCH ${lists.join(' ')}`]);
    expect((await run('UID SEARCH HEADER List-Id nothing-like-it')).lines).toEqual(['* SEARCH']);
  });
});
