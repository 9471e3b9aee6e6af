// SEARCH TEXT / BODY: substring matches over decoded text, served by the full-text index (prefilter and confirmation).
import { Readable } from 'node:stream';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchKeyList } from '@dizi/domain/search-key';
import { INCOMPLETE_INDEX_TOKEN } from '@dizi/mime/search-tokens';
import { summariseMessage } from '@dizi/mime/message-summary';
import { storedParts } from '../src/commands/append.command';
import { startTestImapServer, type TestImapServer } from './test-server';

const message = (subject: string, headers: string, body: string) =>
  `From: Ann <ann@example.test>\r\nTo: bob@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.test>\r\n${headers}\r\n${body}\r\n`;

const FILLER = 50;

describe('SEARCH TEXT and BODY', () => {
  let server: TestImapServer;
  let client: ImapFlow;
  let mailboxId: string;
  let reads = 0;
  const uid: Record<string, number> = {};

  beforeAll(async () => {
    server = await startTestImapServer();
    mailboxId = await server.addAccount('bob@example.test', 'pw');
    // Every read of a message body is counted: the index must spare the folder's other messages.
    const getSource = server.store.getMessageSource.bind(server.store);
    server.store.getMessageSource = async (...args) => {
      reads++;
      return getSource(...args);
    };
    client = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, doSTARTTLS: false, auth: { user: 'bob@example.test', pass: 'pw' }, logger: false });
    await client.connect();
    const add = async (name: string, raw: string) => {
      uid[name] = (await client.append('INBOX', raw) as { uid: number }).uid;
    };
    await add('plain', message('Quarterly figures', '', 'The asdfghjkl numbers are in.\r\nSee you in Zürich.'));
    await add('subjectOnly', message('qwertyuiop report', '', 'Nothing else here.'));
    await add('base64', message('Encoded', 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n',
      Buffer.from('Hidden treasure: zxcvbnmlkj is the word.\r\n').toString('base64')));
    await add('qp', message('Soft breaks', 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n',
      'The long word poiuytrewq=\r\nlkjhg ends here; caf=C3=A9 cr=C3=A8me.'));
    await add('gbk', message('Chinese', 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=gbk\r\nContent-Transfer-Encoding: base64\r\n',
      Buffer.from([0xb1, 0xb1, 0xbe, 0xa9, 0xca, 0xd0, 0xba, 0xa3, 0xb5, 0xed, 0xc7, 0xf8]).toString('base64'))); // 北京市海淀区
    for (let i = 0; i < FILLER; i++) await add(`filler${i}`, message(`Filler ${i}`, '', `Ordinary text number ${i} about quarterly budgets.`));
    await client.mailboxOpen('INBOX');
  });
  afterAll(async () => {
    await client.logout();
    await server.close();
  });

  const search = async (query: object) => {
    reads = 0;
    const found = await client.search(query, { uid: true });
    return { found: found === false ? [] : found, reads };
  };

  it('matches a substring inside a word, in headers for TEXT and in the body only for BODY', async () => {
    expect(await search({ text: 'sdfghjk' })).toEqual({ found: [uid.plain], reads: 1 });
    expect((await search({ body: 'SDFGHJK' })).found).toEqual([uid.plain]);
    expect((await search({ text: 'wertyuio' })).found).toEqual([uid.subjectOnly]);
    expect((await search({ body: 'wertyuio' })).found).toEqual([]);
    expect((await search({ text: 'rs are i' })).found).toEqual([uid.plain]);
    expect((await search({ body: 'ürich' })).found).toEqual([uid.plain]);
  });

  it('matches decoded text: base64, quoted-printable soft breaks, charsets', async () => {
    expect((await search({ body: 'bnmlk' })).found).toEqual([uid.base64]);
    expect((await search({ body: 'uytrewqlkj' })).found).toEqual([uid.qp]);
    expect((await search({ body: 'fé cr' })).found).toEqual([uid.qp]);
    expect((await search({ text: '海淀' })).found).toEqual([uid.gbk]);
    expect((await search({ body: '市海淀' })).found).toEqual([uid.gbk]);
    expect((await search({ body: '淀' })).found).toEqual([uid.gbk]);
    expect((await search({ body: '上海' })).found).toEqual([]);
  });

  it('reads no message for a whole word of TEXT, and only the index candidates otherwise', async () => {
    const quarterly = [uid.plain, ...Array.from({ length: FILLER }, (_, i) => uid[`filler${i}`])];
    expect(await search({ text: 'quarterly' })).toEqual({ found: quarterly, reads: 0 });
    expect(await search({ text: 'uarterl' })).toEqual({ found: quarterly, reads: quarterly.length });
    // a substring no message has: the index rules every message out
    expect(await search({ text: 'xyzzyq' })).toEqual({ found: [], reads: 0 });
    expect(await search({ body: 'asdfghjkl' })).toEqual({ found: [uid.plain], reads: 1 });
  });

  it('is exact under NOT and OR', async () => {
    const all = Object.values(uid).sort((a, b) => a - b);
    expect((await search({ not: { text: 'sdfghjk' } })).found).toEqual(all.filter((u) => u !== uid.plain));
    expect((await search({ or: [{ body: 'bnmlk' }, { text: 'wertyuio' }] })).found).toEqual([uid.subjectOnly, uid.base64]);
  });

  it('checks a message whose index is incomplete by reading it', async () => {
    const raw = Buffer.from(message('Huge', '', 'A message whose words went past the index budget: mnbvcxzlkj.'));
    const parts = storedParts(await summariseMessage(raw));
    const blob = await server.store.putBlob(Readable.from([raw]));
    const appended = await server.store.append(mailboxId, { name: 'INBOX' }, { blobHash: blob.hash, ...parts, searchKeys: searchKeyList([INCOMPLETE_INDEX_TOKEN, 'a']) }, { enforceQuota: true });
    await client.noop();
    expect(await search({ text: 'nbvcxzl' })).toEqual({ found: [appended.uid], reads: 1 });
  });
});
