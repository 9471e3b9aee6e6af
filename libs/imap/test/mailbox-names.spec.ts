// Mailbox names that would become paths outside the mail directory of a synchronising client: refused on the wire
// (Python imaplib), and what mbsync makes of the folders that remain.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestImapServer, type TestImapServer } from './test-server';

const run = promisify(execFile);

describe('IMAP mailbox names', () => {
  let server: TestImapServer;
  let dir: string;
  let certFile: string;
  let syncMailbox: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dizi-names-'));
    certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    // mbsync checks the host name and accepts no IP address in the certificate: localhost it is.
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost', '-keyout', keyFile, '-out', certFile]);
    server = await startTestImapServer({ maxMailboxNameBytes: 512 }, { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8') });
    await server.addAccount('mallory@example.test', 'pw');
    syncMailbox = await server.addAccount('sync@example.test', 'pw');
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses empty, "." and ".." levels, a leading "~" or separator, control characters and overlong names with NO [CANNOT] (imaplib)', async () => {
    const script = `
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('mallory@example.test', 'pw')
bad = ['../escape', 'a/../../x', '~/x', '~', '.', '..', 'a/./b', 'a//b', '/lead', 'INBOX/..', 'x' * 513]
for name in bad:
    typ, data = m.create('"%s"' % name)
    print('CREATE', typ, data[0].decode()[:40])
m.literal = b'bad\\x01name'
typ, data = m._simple_command('CREATE')
print('CREATE', typ, m._untagged_response(typ, data, 'CREATE')[1][0].decode()[:40])
for name in ['../Drafts', '~Drafts', 'Trash/../../x']:
    typ, data = m.rename('Drafts', '"%s"' % name)
    print('RENAME', typ, data[0].decode()[:40])
for name in ['Projects/2026', '.hidden', 'a..b', 'x~', 'l' * 200 + '/' + 'm' * 200 + '/' + 'n' * 110]:
    typ, data = m.create('"%s"' % name)
    print('CREATE-OK', typ)
typ, boxes = m.list()
print('LIST', b'\\n'.join(boxes).decode())
m.logout()
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, String(server.port)]);
    const lines = stdout.trim().split('\n');
    const refusals = lines.filter((l) => l.startsWith('CREATE ') || l.startsWith('RENAME '));
    expect(refusals).toHaveLength(15);
    for (const line of refusals) expect(line).toMatch(/^(CREATE|RENAME) NO \[CANNOT\]/);
    expect(lines.filter((l) => l.startsWith('CREATE-OK'))).toEqual(Array(5).fill('CREATE-OK OK'));
    const list = stdout.slice(stdout.indexOf('LIST'));
    expect(list).not.toMatch(/"\.\.?"|"~|\.\.\/|\/\.\.|\/\//);
  });

  it('leaves mbsync nothing to write outside its Maildir tree', async () => {
    // Every way a folder is made (IMAP, JMAP, the portal, Sieve's fileinto) goes through the store's rules.
    for (const name of ['../escape', 'a/../../x', '~/x', '..', 'b/.']) {
      await expect(server.store.createFolder(syncMailbox, name, { subscribed: true })).rejects.toMatchObject({ imapCode: 'CANNOT' });
    }
    for (const name of ['Projects/2026', '.hidden', 'a..b', 'x~', '工作']) await server.store.createFolder(syncMailbox, name, { subscribed: true });
    const maildir = join(dir, 'mbsync', 'mail');
    const config = join(dir, 'mbsyncrc');
    await mkdir(maildir, { recursive: true });
    await writeFile(config, [
      'FSync no', '',
      'IMAPAccount dizi', 'Host localhost', `Port ${server.port}`, 'User sync@example.test', 'Pass pw',
      'SSLType STARTTLS', `CertificateFile ${certFile}`, 'AuthMechs LOGIN', '',
      'IMAPStore far', 'Account dizi', '',
      'MaildirStore near', `Path ${maildir}/`, `Inbox ${maildir}/INBOX`, 'SubFolders Verbatim', '',
      'Channel all', 'Far :far:', 'Near :near:', 'Patterns *', 'Create Near', 'Sync Pull', 'SyncState *', '',
    ].join('\n'));
    await run('/usr/bin/mbsync', ['-c', config, '-q', 'all'], { timeout: 60_000 });
    // Everything mbsync made is under mail/, and nothing beside it.
    expect((await readdir(join(dir, 'mbsync'))).sort()).toEqual(['mail']);
    expect((await readdir(dir)).sort()).toEqual(['cert.pem', 'key.pem', 'mbsync', 'mbsyncrc']);
    const top = await readdir(maildir);
    // mbsync keeps modified UTF-7 on disk.
    expect(top).toEqual(expect.arrayContaining(['INBOX', 'Projects', '.hidden', 'a..b', 'x~', '&XeVPXA-']));
    expect(await readdir(join(maildir, 'Projects'))).toContain('2026');
  });
});
