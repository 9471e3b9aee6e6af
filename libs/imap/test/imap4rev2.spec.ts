// What an IMAP4rev2 client is told (RFC 9051 removed RECENT and \Recent) and which folder it may take for spam.
import { execFile } from 'node:child_process';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestImapServer, type TestImapServer } from './test-server';

const run = promisify(execFile);
const MESSAGE = 'From: a@example.test\r\nSubject: hi\r\n\r\nbody\r\n';

describe('IMAP4rev2 and special-use', () => {
  let server: TestImapServer;
  let mailboxId: string;
  beforeAll(async () => {
    server = await startTestImapServer();
    mailboxId = await server.addAccount('rev2@example.test', 'pw');
    const blob = await server.store.putBlob(Readable.from([Buffer.from(MESSAGE)]));
    await server.store.append(mailboxId, { name: 'INBOX' }, { blobHash: blob.hash, summary: null }, { enforceQuota: true });
  });
  afterAll(async () => {
    await server.close();
  });

  // One imaplib session per flavour; a second one appends while the first has INBOX selected.
  const script = `
import imaplib, sys
rev2 = sys.argv[2] == 'rev2'
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('rev2@example.test', 'pw')
if rev2:
    print('ENABLE', m._simple_command('ENABLE', 'IMAP4rev2')[0])
typ, data = m.select('INBOX')
print('SELECT', typ, 'RECENT' in m.untagged_responses)
m.untagged_responses.clear()
other = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
other.login('rev2@example.test', 'pw')
other.append('INBOX', None, None, b'From: b@example.test\\r\\nSubject: new\\r\\n\\r\\nnew\\r\\n')
other.logout()
typ, data = m.noop()
print('NOOP', typ, 'EXISTS' in m.untagged_responses, 'RECENT' in m.untagged_responses)
typ, data = m.fetch('1:*', '(FLAGS)')
print('FETCH', typ, b'\\\\Recent' in b' '.join(d for d in data if isinstance(d, bytes)))
m.logout()
`;

  it('sends no RECENT response and no \\Recent flag after ENABLE IMAP4rev2 (Python imaplib)', async () => {
    const { stdout } = await run('/usr/bin/python3', ['-c', script, String(server.port), 'rev2']);
    expect(stdout.trim().split('\n')).toEqual(['ENABLE OK', 'SELECT OK False', 'NOOP OK True False', 'FETCH OK False']);
  });

  it('still sends them to an IMAP4rev1 client', async () => {
    const { stdout } = await run('/usr/bin/python3', ['-c', script, String(server.port), 'rev1']);
    expect(stdout.trim().split('\n')).toEqual(['SELECT OK True', 'NOOP OK True True', 'FETCH OK True']);
  });

  it('advertises only Junk as \\Junk, never Virus, also to LIST (SPECIAL-USE)', async () => {
    const { stdout } = await run('/usr/bin/python3', ['-c', `
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('rev2@example.test', 'pw')
for line in m.list()[1]: print('ALL', line.decode())
for line in m._simple_command('LIST', '(SPECIAL-USE)', '""', '*') and m._untagged_response('OK', [None], 'LIST')[1]: print('SU', line.decode())
m.logout()
`, String(server.port)]);
    const lines = stdout.trim().split('\n');
    const all = lines.filter((l) => l.startsWith('ALL '));
    expect(all.filter((l) => l.includes('\\Junk'))).toEqual(['ALL (\\HasNoChildren \\Junk) "/" "Junk"']);
    expect(all.find((l) => l.endsWith('"Virus"'))).toBe('ALL (\\HasNoChildren) "/" "Virus"');
    const special = lines.filter((l) => l.startsWith('SU ')).map((l) => l.slice(l.lastIndexOf(' ') + 1));
    expect(special.sort()).toEqual(['"Drafts"', '"Junk"', '"Sent"', '"Trash"']);
  });
});
