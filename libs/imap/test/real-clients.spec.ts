// Wire-level tests with real client libraries: imapflow (Node) and Python's imaplib.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestImapServer, type TestImapServer } from './test-server';

const run = promisify(execFile);
const MESSAGE = 'From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: Quarterly report\r\nMessage-ID: <q1@example.test>\r\n\r\nThe numbers are in.\r\n';

describe('real IMAP clients', () => {
  let server: TestImapServer;
  let mailboxId: string;
  beforeAll(async () => {
    server = await startTestImapServer();
    mailboxId = await server.addAccount('bob@example.test', 'pw-bob');
  });
  afterAll(async () => {
    await server.close();
  });

  it('imapflow: login, list, append, select, fetch, search, store, IDLE push, Chinese folder', async () => {
    const client = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, doSTARTTLS: false, auth: { user: 'bob@example.test', pass: 'pw-bob' }, logger: false });
    await client.connect();
    const list = await client.list();
    expect(list.map((f) => f.path)).toEqual(expect.arrayContaining(['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk']));
    expect(list.find((f) => f.path === 'Sent')?.specialUse).toBe('\\Sent');

    await client.mailboxCreate('工作/项目');
    const after = await client.list();
    expect(after.map((f) => f.path)).toEqual(expect.arrayContaining(['工作', '工作/项目']));

    const appended = await client.append('INBOX', MESSAGE, ['\\Flagged']);
    expect(appended).toMatchObject({ uid: 1 });
    const lock = await client.getMailboxLock('INBOX');
    try {
      const msg = await client.fetchOne('1', { uid: true, flags: true, envelope: true, bodyStructure: true, source: true });
      expect(msg).toBeTruthy();
      if (!msg) return;
      expect(msg.uid).toBe(1);
      expect(msg.envelope?.subject).toBe('Quarterly report');
      expect(msg.envelope?.from?.[0]).toMatchObject({ name: 'Alice', address: 'alice@example.test' });
      expect(msg.bodyStructure?.type).toBe('text/plain');
      expect(msg.source?.toString()).toBe(MESSAGE);
      expect([...(msg.flags ?? [])]).toContain('\\Flagged');

      expect(await client.search({ subject: 'quarterly' }, { uid: true })).toEqual([1]);
      expect(await client.search({ body: 'numbers' }, { uid: true })).toEqual([1]);
      expect(await client.search({ body: 'absent' }, { uid: true })).toEqual([]);

      await client.messageFlagsAdd('1', ['\\Seen']);
      const flags = await client.fetchOne('1', { flags: true });
      // imapflow ENABLEs IMAP4rev2, which has no \Recent (RFC 9051; issue 11 item 14).
      expect(flags && [...(flags.flags ?? [])].sort()).toEqual(['\\Flagged', '\\Seen']);

      // A message delivered by someone else reaches the idling client as EXISTS.
      const exists = new Promise<number>((resolve) => client.on('exists', (e: { count: number }) => resolve(e.count)));
      const idle = client.idle();
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      const blob = await server.store.putBlob((await import('node:stream')).Readable.from([Buffer.from(MESSAGE)]));
      await server.store.append(mailboxId, { name: 'INBOX' }, { blobHash: blob.hash, summary: null }, { enforceQuota: true });
      expect(await exists).toBe(2);
      expect(Date.now() - started).toBeLessThan(1000);
      void idle;
    } finally {
      lock.release();
    }
    await client.logout();
  });

  it('Python imaplib: login, list, select, fetch, store, search, append, idle', async () => {
    const script = `
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('bob@example.test', 'pw-bob')
typ, boxes = m.list()
print('LIST', typ, b'"INBOX"' in b' '.join(boxes))
typ, data = m.append('Drafts', '(\\\\Draft)', None, b'From: x@example.test\\r\\nSubject: draft one\\r\\n\\r\\nhello\\r\\n')
print('APPEND', typ, data[0].decode())
typ, data = m.select('Drafts')
print('SELECT', typ, data[0].decode())
typ, data = m.fetch('1', '(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
print('FETCH', typ, data[0][1].decode().strip())
typ, data = m.store('1', '+FLAGS', '(\\\\Seen)')
print('STORE', typ, data[0].decode())
typ, data = m.search(None, 'SUBJECT', '"draft"')
print('SEARCH', typ, data[0].decode())
typ, data = m.uid('SEARCH', None, 'UNSEEN')
print('UNSEEN', typ, repr(data[0].decode()))
tag = m._new_tag().decode()
m.send(('%s IDLE\\r\\n' % tag).encode())
print('IDLE', m.readline().decode().strip())
m.send(b'DONE\\r\\n')
print('DONE', m.readline().decode().strip().split(' ', 1)[1])
m.logout()
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, String(server.port)], { timeout: 20_000 });
    const lines = stdout.trim().split('\n');
    expect(lines).toEqual([
      'LIST OK True',
      expect.stringMatching(/^APPEND OK \[APPENDUID \d+ 1\] Append completed$/),
      'SELECT OK 1',
      'FETCH OK Subject: draft one',
      expect.stringMatching(/^STORE OK 1 \(FLAGS \((\\Draft \\Seen|\\Seen \\Draft)/),
      'SEARCH OK 1',
      "UNSEEN OK ''",
      'IDLE + idling',
      'DONE OK Idle completed',
    ]);
  });
  it('Python imaplib: under CONDSTORE, STORE +FLAGS.SILENT still reports each changed message with its MODSEQ (RFC 7162 §3.1.3)', async () => {
    await server.addAccount('carol@example.test', 'pw-carol');
    const script = `
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('carol@example.test', 'pw-carol')
for i in range(3):
    m.append('INBOX', None, None, b'From: x@example.test\\r\\nSubject: m%d\\r\\n\\r\\nbody\\r\\n' % i)
typ, data = m.select('INBOX')
typ, data = m.store('1:3', '+FLAGS.SILENT', '(\\\\Seen)')
print('PLAIN', typ, repr(data))
m.close()
typ, data = m.enable('CONDSTORE')
typ, data = m.select('INBOX')
typ, data = m.uid('STORE', '1:3', '+FLAGS.SILENT', '(\\\\Flagged)')
print('CONDSTORE', typ, ' | '.join(d.decode() for d in data if d))
typ, data = m.uid('STORE', '2', '+FLAGS.SILENT', '(\\\\Flagged)')
print('NOCHANGE', typ, repr(data))
typ, data = m.uid('FETCH', '1:3', '(MODSEQ)')
print('FETCH', typ, ' | '.join(d.decode() for d in data))
m.logout()
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, String(server.port)], { timeout: 20_000 });
    const lines = stdout.trim().split('\n');
    // Without CONDSTORE, .SILENT means silent.
    expect(lines[0]).toBe('PLAIN OK [None]');
    const stored = /^CONDSTORE OK (.*)$/.exec(lines[1])?.[1].split(' | ') ?? [];
    expect(stored).toHaveLength(3);
    const modseqs = new Map<number, number>();
    for (const item of stored) {
      const m = /^(\d) \(UID (\d) MODSEQ \((\d+)\)\)$/.exec(item);
      expect(m, item).toBeTruthy();
      if (!m) continue;
      expect(m[1]).toBe(m[2]);
      modseqs.set(Number(m[2]), Number(m[3]));
    }
    expect([...modseqs.keys()].sort()).toEqual([1, 2, 3]);
    // A STORE that changes nothing reports nothing.
    expect(lines[2]).toBe('NOCHANGE OK [None]');
    // The MODSEQs reported are the messages' current ones.
    const fetched = /^FETCH OK (.*)$/.exec(lines[3])?.[1].split(' | ') ?? [];
    expect(fetched).toHaveLength(3);
    for (const item of fetched) {
      const m = /UID (\d) MODSEQ \((\d+)\)|MODSEQ \((\d+)\) UID (\d)/.exec(item);
      expect(m, item).toBeTruthy();
      if (!m) continue;
      const uid = Number(m[1] ?? m[4]);
      expect(Number(m[2] ?? m[3])).toBe(modseqs.get(uid));
    }
  });
  it('Python imaplib: LIST marks parents \\HasChildren by hierarchy, not by name prefix, and LIST-STATUS matches STATUS', async () => {
    await server.addAccount('dave@example.test', 'pw-dave');
    const script = `
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('dave@example.test', 'pw-dave')
for name in ['a/b/c', 'a/b2', 'ab', 'a/b/c/d/e']:
    m.create(name)
m.append('a/b', None, None, b'Subject: one\\r\\n\\r\\nx\\r\\n')
m.append('a/b', None, None, b'Subject: two\\r\\n\\r\\nx\\r\\n')
typ, boxes = m.list('""', '"a*"')
for b in sorted(boxes):
    print('LIST', b.decode())
typ, data = m._simple_command('LIST', '""', '"a/*"', 'RETURN', '(STATUS (MESSAGES UIDNEXT))')
for line in sorted(m.untagged_responses.pop('STATUS', [])):
    print('LIST-STATUS', line.decode())
for name in ['a/b', 'a/b/c']:
    typ, data = m.status(name, '(MESSAGES UIDNEXT)')
    print('STATUS', data[0].decode())
m.logout()
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, String(server.port)], { timeout: 20_000 });
    const lines = stdout.trim().split('\n');
    const flagsOf = (name: string) => lines.find((l) => l.startsWith('LIST ') && l.endsWith(` "${name}"`))?.match(/^LIST \(([^)]*)\)/)?.[1].split(' ').sort();
    expect(flagsOf('a')).toEqual(['\\HasChildren']);
    expect(flagsOf('a/b')).toEqual(['\\HasChildren']);
    expect(flagsOf('a/b/c')).toEqual(['\\HasChildren']);
    expect(flagsOf('a/b/c/d')).toEqual(['\\HasChildren']);
    expect(flagsOf('a/b/c/d/e')).toEqual(['\\HasNoChildren']);
    expect(flagsOf('a/b2')).toEqual(['\\HasNoChildren']);
    // "ab" starts with "a" but is no child of it, nor has it any.
    expect(flagsOf('ab')).toEqual(['\\HasNoChildren']);
    const listStatus = lines.filter((l) => l.startsWith('LIST-STATUS ')).map((l) => l.slice('LIST-STATUS '.length));
    expect(listStatus).toHaveLength(5);
    for (const status of lines.filter((l) => l.startsWith('STATUS ')).map((l) => l.slice('STATUS '.length))) {
      expect(listStatus).toContain(status);
    }
    expect(listStatus.find((l) => l.startsWith('"a/b" '))).toMatch(/MESSAGES 2 UIDNEXT 3/);
  });
});
