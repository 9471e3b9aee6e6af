/**
 * The sieve role (ManageSieve, RFC 5804) with Debian's sieve-connect, a real client: STARTTLS, SASL PLAIN, upload,
 * list, activate, download, check, delete; then the script it uploaded filters a message that arrives over SMTP and
 * is delivered by the delivery role (PostgreSQL, Redis, a blob directory: the real stores).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, TEST_MAILBOX_PASSWORD, type TestNode } from './harness';
import { startSieveRole, type SieveRunningRole } from '../src/roles/sieve.role';
import { WireClient } from '@dizi/testing/managesieve-client';

const SIEVE_CONNECT = '/usr/bin/sieve-connect';
const SWAKS = '/usr/bin/swaks';

interface Run {
  code: number;
  out: string;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

describe.skipIf(!existsSync(SIEVE_CONNECT))('ManageSieve with sieve-connect', () => {
  let node: TestNode;
  let port = 0;
  let dir: string;
  let mailboxId = '';

  /** sieve-connect over STARTTLS (the node's self-signed certificate), the password on fd 3. */
  const sieve = (args: string[], password = TEST_MAILBOX_PASSWORD) => run('/bin/bash', [
    '-c', `exec ${SIEVE_CONNECT} --server 127.0.0.1 --port ${port} --user alice@sieve.test --authmech PLAIN --notlsverify --noclearauth --passwordfd 3 "$@" 3<<<"$SIEVE_PW"`,
    'sieve-connect', ...args,
  ], { SIEVE_PW: password });

  beforeAll(async () => {
    node = await startTestNode({ roles: ['smtp', 'delivery', 'sieve'] });
    port = (node.roles.find((r) => r.name === 'sieve') as SieveRunningRole).port;
    const tenant = await node.seed.tenant('Sieve');
    const domain = await node.seed.domain(tenant.id, 'sieve.test');
    mailboxId = (await node.seed.mailbox(domain.id, 'alice')).id;
    await node.ctx.store.createFolder(mailboxId, 'Reports');
    dir = mkdtempSync(join(tmpdir(), 'dizi-sieve-connect-'));
  }, 120_000);
  afterAll(async () => {
    await node?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('uploads, lists, activates, downloads, checks and deletes scripts', async () => {
    const script = join(dir, 'filters.sieve');
    writeFileSync(script, 'require ["fileinto", "imap4flags"];\r\nif header :contains "subject" "report" {\r\n  addflag "$Report";\r\n  fileinto "Reports";\r\n}\r\n');
    const up = await sieve(['--upload', '--localsieve', script, '--remotesieve', 'filters']);
    expect(up.code, up.out).toBe(0);
    const spare = join(dir, 'spare.sieve');
    writeFileSync(spare, 'keep;\r\n');
    expect((await sieve(['--upload', '--localsieve', spare, '--remotesieve', 'spare'])).code).toBe(0);
    expect((await sieve(['--activate', '--remotesieve', 'filters'])).code).toBe(0);

    const listed = await sieve(['--list']);
    expect(listed.code, listed.out).toBe(0);
    expect(listed.out).toBe('"filters" ACTIVE\n"spare"\n');

    const copy = join(dir, 'copy.sieve');
    expect((await sieve(['--download', '--remotesieve', 'filters', '--localsieve', copy])).code).toBe(0);
    expect(readFileSync(copy, 'utf8')).toBe(readFileSync(script, 'utf8'));

    // An invalid script is refused with line:column, and nothing is stored.
    const bad = join(dir, 'bad.sieve');
    writeFileSync(bad, 'require "fileinto";\r\nfileinto "A"\r\n');
    const refused = await sieve(['--upload', '--localsieve', bad, '--remotesieve', 'bad']);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/line \d+:\d+/);
    const checked = await sieve(['--checkscript', '--localsieve', bad]);
    expect(checked.code).not.toBe(0);
    expect((await sieve(['--checkscript', '--localsieve', script])).code).toBe(0);

    // The active script cannot be deleted; the spare one can.
    expect((await sieve(['--delete', '--remotesieve', 'filters'])).code).not.toBe(0);
    expect((await sieve(['--delete', '--remotesieve', 'spare'])).code).toBe(0);
    const rows = await node.db.dataSource.query(`SELECT name, active FROM sieve_script WHERE mailbox_id = $1 ORDER BY name`, [mailboxId]);
    expect(rows).toEqual([{ name: 'filters', active: true }]);

    // A wrong password signs nobody in.
    const wrong = await sieve(['--list'], 'not-the-password');
    expect(wrong.code).not.toBe(0);
  }, 180_000);

  it('admits a client address only so many connections at once, across the node (Redis counters)', async () => {
    const limited = await startSieveRole(node.ctx, { maxConnectionsPerIp: 2, maxConnectionsPerIpPerMinute: 1000 });
    const open: WireClient[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const c = await WireClient.connect(limited.port);
        open.push(c);
        expect((await c.reply()).status).toMatch(/^OK /);
      }
      const third = await WireClient.connect(limited.port);
      open.push(third);
      expect((await third.reply()).status).toMatch(/^BYE \(TRYLATER\) "Too many concurrent connections/);
      open.shift()!.close();
      // The slot comes back once a connection ends.
      let admitted = false;
      for (let i = 0; i < 50 && !admitted; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const again = await WireClient.connect(limited.port);
        open.push(again);
        admitted = (await again.reply()).status.startsWith('OK');
        if (!admitted) again.close();
      }
      expect(admitted).toBe(true);
    } finally {
      for (const c of open) c.close();
      await limited.stop();
    }
  }, 60_000);

  it('the script it uploaded files mail arriving over SMTP', async () => {
    const sent = await run(SWAKS, ['--server', `127.0.0.1:${node.ports.smtp}`, '--helo', 'client.example.org', '--from', 'boss@example.org',
      '--to', 'alice@sieve.test', '--header', 'Subject: weekly report', '--body', 'numbers']);
    expect(sent.code, sent.out).toBe(0);
    const folder = (await node.ctx.store.listFolders(mailboxId)).find((f) => f.name === 'Reports')!;
    let messages: Awaited<ReturnType<typeof node.ctx.store.listMessages>> = [];
    for (let i = 0; i < 600 && messages.length === 0; i++) {
      messages = await node.ctx.store.listMessages(folder.id);
      if (messages.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(messages).toHaveLength(1);
    expect(messages[0].flags).toContain('$Report');
  }, 120_000);
});
