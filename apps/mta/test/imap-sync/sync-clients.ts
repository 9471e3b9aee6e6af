/**
 * The two Maildir sync clients of the tests, configured for one INBOX over implicit TLS to `localhost` (both check the
 * certificate's host name, and neither accepts an IP address there) with the test certificate as the trusted one.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SyncAccount {
  port: number;
  user: string;
  password: string;
  /** PEM file of the server's certificate */
  certFile: string;
}

export interface SyncClient {
  name: string;
  /** The Maildir that holds the synced INBOX. */
  inbox: string;
  sync(): Promise<{ ms: number; output: string }>;
}

async function timed(file: string, args: string[], timeoutMs: number): Promise<{ ms: number; output: string }> {
  const started = performance.now();
  try {
    const { stdout, stderr } = await run(file, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return { ms: performance.now() - started, output: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`.slice(0, 8000));
  }
}

/** isync's mbsync: one channel, far = Dizi's INBOX, near = a Maildir; every change and expunge both ways. */
export function mbsync(dir: string, account: SyncAccount): SyncClient {
  const maildir = join(dir, 'mail');
  mkdirSync(maildir, { recursive: true });
  const config = join(dir, 'mbsyncrc');
  writeFileSync(config, [
    // Durability of the test's own Maildir is not under test; fsyncs there would only slow the run down.
    'FSync no',
    '',
    'IMAPAccount dizi',
    'Host localhost',
    `Port ${account.port}`,
    `User ${account.user}`,
    `Pass ${account.password}`,
    'SSLType IMAPS',
    `CertificateFile ${account.certFile}`,
    'AuthMechs PLAIN',
    '',
    'IMAPStore dizi-far',
    'Account dizi',
    '',
    'MaildirStore dizi-near',
    `Path ${maildir}/`,
    `Inbox ${maildir}/INBOX`,
    '',
    'Channel dizi',
    'Far :dizi-far:',
    'Near :dizi-near:',
    'Patterns INBOX',
    'Create Near',
    'Sync All',
    'Expunge Both',
    'SyncState *',
    '',
  ].join('\n'));
  return {
    name: 'mbsync',
    inbox: join(maildir, 'INBOX'),
    sync: () => timed('/usr/bin/mbsync', ['-c', config, '-q', 'dizi'], 180_000),
  };
}

/** offlineimap3: one account, remote = Dizi's INBOX only, local = a Maildir tree; deletions go both ways. */
export function offlineimap(dir: string, account: SyncAccount): SyncClient {
  const maildir = join(dir, 'mail');
  const metadata = join(dir, 'metadata');
  mkdirSync(maildir, { recursive: true });
  mkdirSync(metadata, { recursive: true });
  const config = join(dir, 'offlineimaprc');
  writeFileSync(config, [
    '[general]',
    'accounts = dizi',
    `metadata = ${metadata}`,
    'fsync = false',
    '',
    '[Account dizi]',
    'localrepository = near',
    'remoterepository = far',
    '',
    '[Repository near]',
    'type = Maildir',
    `localfolders = ${maildir}`,
    '',
    '[Repository far]',
    'type = IMAP',
    'remotehost = localhost',
    `remoteport = ${account.port}`,
    'ssl = yes',
    `sslcacertfile = ${account.certFile}`,
    `remoteuser = ${account.user}`,
    `remotepass = ${account.password}`,
    "folderfilter = lambda name: name == 'INBOX'",
    'maxconnections = 1',
    '',
  ].join('\n'));
  return {
    name: 'offlineimap',
    inbox: join(maildir, 'INBOX'),
    sync: () => timed('/usr/bin/offlineimap', ['-c', config, '-o', '-u', 'basic'], 180_000),
  };
}
