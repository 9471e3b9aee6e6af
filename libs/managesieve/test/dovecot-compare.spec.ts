/**
 * The same ManageSieve session through Dovecot Pigeonhole's managesieve (Debian dovecot-managesieved, run
 * pre-authenticated on stdio) and through ours: each command gets the same status (OK/NO), the same response code
 * ((NONEXISTENT), (ACTIVE), (ALREADYEXISTS), (TAG ...)) and the same data (LISTSCRIPTS entries, GETSCRIPT literal).
 * Reply texts differ by design (ours give line:column for script errors).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManageSieveServer, type ManageSieveServer } from '../src/server';
import { MemoryScriptStore } from './memory-script-store';
import { WireClient, type Reply } from '@dizi/testing/managesieve-client';

const MANAGESIEVE = '/usr/lib/dovecot/managesieve';
const available = existsSync(MANAGESIEVE);
const literal = (s: string) => `{${Buffer.byteLength(s)}+}\r\n${s}`;

const SESSION: string[] = [
  'LISTSCRIPTS',
  `PUTSCRIPT "a" ${literal('keep;\r\n')}`,
  `PUTSCRIPT "b" ${literal('fileinto "x";\r\n')}`,
  `PUTSCRIPT "c" ${literal('require ["fileinto", "imap4flags"];\r\nif header :contains "subject" "x" { addflag "\\\\Seen"; fileinto "X"; }\r\n')}`,
  `PUTSCRIPT "v" ${literal('require "vacation";\r\nvacation :days 3 :subject "away" "I am away.";\r\n')}`,
  `PUTSCRIPT "e" ${literal('require "editheader";\r\naddheader "X-A" "b";\r\n')}`,
  'SETACTIVE "a"',
  'LISTSCRIPTS',
  'GETSCRIPT "a"',
  'GETSCRIPT "zz"',
  'DELETESCRIPT "a"',
  'DELETESCRIPT "zz"',
  'RENAMESCRIPT "c" "a"',
  'RENAMESCRIPT "c" "d"',
  'RENAMESCRIPT "zz" "y"',
  'SETACTIVE "zz"',
  `CHECKSCRIPT ${literal('require "body"; if body :contains "x" { discard; }\r\n')}`,
  `CHECKSCRIPT ${literal('if true {\r\n')}`,
  'HAVESPACE "x" 1000',
  'NOOP "t1"',
  'NOOP',
  'SETACTIVE ""',
  'LISTSCRIPTS',
  'DELETESCRIPT "a"',
  'LISTSCRIPTS',
  'GETSCRIPT "d"',
];

/** What must agree: the status word, the response code, and the data lines. */
function shape(r: Reply): { status: string; code: string | null; data: string } {
  const m = /^(OK|NO|BYE)(?: \(([^)]*)\))?/.exec(r.status)!;
  return { status: m[1], code: m[2] ?? null, data: r.data };
}

async function runAll(client: WireClient): Promise<Array<ReturnType<typeof shape>>> {
  const out: Array<ReturnType<typeof shape>> = [];
  for (const command of SESSION) out.push(shape(await client.send(`${command}\r\n`)));
  return out;
}

describe.skipIf(!available)('ManageSieve replies against Dovecot Pigeonhole (managesieve)', () => {
  let dir: string;
  let dovecot: ChildProcess;
  let ours: ManageSieveServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dizi-managesieve-'));
    mkdirSync(join(dir, 'run'));
    mkdirSync(join(dir, 'home'));
    // Dovecot refuses to run as root: as root, the session drops to nobody, who must own the directory.
    const root = process.getuid?.() === 0;
    const uid = root ? 65534 : process.getuid!();
    const gid = root ? 65534 : process.getgid!();
    writeFileSync(join(dir, 'dovecot.conf'), [
      `base_dir = ${dir}/run`, `mail_location = maildir:${dir}/mail`, 'protocols = sieve', `mail_uid = ${uid}`, `mail_gid = ${gid}`,
      'first_valid_uid = 0', 'first_valid_gid = 0', 'plugin {', `  sieve = file:${dir}/sieve;active=${dir}/home/.dovecot.sieve`, '}', '',
    ].join('\n'));
    if (root) for (const p of [dir, join(dir, 'run'), join(dir, 'home')]) chownSync(p, uid, gid);
    // Node's stdio pipes are socket pairs, which managesieve takes for inetd and refuses: put real pipes between.
    dovecot = spawn('/bin/sh', ['-c', `cat | ${MANAGESIEVE} -c ${join(dir, 'dovecot.conf')} | cat`], {
      env: { USER: 'tester', HOME: join(dir, 'home'), PATH: '/usr/bin:/bin' }, stdio: ['pipe', 'pipe', 'ignore'],
    });
    ours = createManageSieveServer({
      store: new MemoryScriptStore(),
      authenticator: { login: async ({ username }) => ({ ok: true, mailboxId: 'mb', username }) },
      limits: () => ({ maxScriptSize: 64 * 1024, maxScripts: 16, maxRedirects: 4 }),
      allowPlaintextAuth: true,
    });
  });
  afterAll(async () => {
    dovecot?.kill();
    await ours?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives every command of a session the same status, response code and data', async () => {
    const reference = await runAll(WireClient.overStreams(dovecot.stdout!, dovecot.stdin!));
    const client = await WireClient.connect(await ours.listen(0));
    await client.reply();
    expect((await client.send(`AUTHENTICATE "PLAIN" "${Buffer.from('\0alice@a.test\0x').toString('base64')}"\r\n`)).status).toMatch(/^OK/);
    const mine = await runAll(client);
    client.close();
    expect(mine.map((r, i) => ({ command: SESSION[i].split('\r\n')[0], ...r }))).toEqual(reference.map((r, i) => ({ command: SESSION[i].split('\r\n')[0], ...r })));
    // The reference did what this test thinks it did.
    expect(reference.filter((r) => r.status === 'NO').map((r) => r.code)).toEqual([null, null, 'NONEXISTENT', 'ACTIVE', 'NONEXISTENT', 'ALREADYEXISTS', 'NONEXISTENT', 'NONEXISTENT', null]);
  });
});
