/**
 * Suspension and password reset end a mailbox's open sessions on the mail node within seconds: the
 * real API (its own process, on the node's database and Redis) suspends or resets through HTTP;
 * imapflow, a POP3S session and nodemailer's SMTPConnection, signed in before, are closed. And a
 * session that missed the announcement cannot send as its suspended mailbox (MAIL FROM refused).
 */
import tls from 'node:tls';
import { ImapFlow } from 'imapflow';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImapRunningRole } from '../src/roles/imap.role';
import { startApiProcess, type ApiProcess } from './api-process';
import { startTestNode, TEST_MAILBOX_PASSWORD, TestNode } from './harness';
import { plainAuth, SmtpTalk } from './smtp-talk';

/** How soon a session must be gone after the API answered. */
const WITHIN_MS = 3000;

/** Resolves with the milliseconds until `emitter` fires `event`, or -1 after `limit` ms. */
const closedWithin = (on: (cb: () => void) => void, limit: number) =>
  new Promise<number>((done) => {
    const started = Date.now();
    const timer = setTimeout(() => done(-1), limit);
    on(() => {
      clearTimeout(timer);
      done(Date.now() - started);
    });
  });

describe('sessions end when the mailbox is suspended or its password reset', () => {
  let node: TestNode;
  let api: ApiProcess;
  let adminToken: string;
  let ports: { imap: number; pop3s: number; submissions: number };
  const address = (local: string) => `${local}@ends.test`;

  const http = (method: string, path: string, body?: unknown, token = adminToken) => api.request(method, path, { token, body });

  beforeAll(async () => {
    node = await startTestNode({ roles: ['smtp', 'imap', 'pop3'] });
    const tenant = await node.seed.tenant('Ends');
    const d = await node.seed.domain(tenant.id, 'ends.test');
    await node.seed.mailbox(d.id, 'boss', undefined, { role: 'tenant_admin' });
    for (const local of ['vic', 'val', 'vera']) await node.seed.mailbox(d.id, local);
    const imapRole = node.roles.find((r) => r.name === 'imap') as ImapRunningRole;
    const pop3Role = node.roles.find((r) => r.name === 'pop3') as unknown as { ports: { pop3s: number } };
    ports = { imap: imapRole.ports.imap, pop3s: pop3Role.ports.pop3s, submissions: node.ports.submissions };

    api = await startApiProcess(node);
    adminToken = await api.token(address('boss'), TEST_MAILBOX_PASSWORD);
  }, 180_000);

  afterAll(async () => {
    await api?.close();
    await node?.close();
  });

  /** One session per protocol, signed in as `local`, each with a way to learn when it is closed. */
  async function openSessions(local: string) {
    const imap = new ImapFlow({ host: '127.0.0.1', port: ports.imap, secure: false, auth: { user: address(local), pass: TEST_MAILBOX_PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
    imap.on('error', () => undefined);
    await imap.connect();
    await imap.mailboxOpen('INBOX');

    const pop3 = tls.connect({ host: '127.0.0.1', port: ports.pop3s, rejectUnauthorized: false });
    let pop3Said = '';
    pop3.on('data', (c: Buffer) => (pop3Said += c.toString('latin1')));
    pop3.on('error', () => undefined);
    const saw = async (re: RegExp) => {
      for (let i = 0; i < 200 && !re.test(pop3Said); i++) await new Promise((r) => setTimeout(r, 20));
      expect(pop3Said).toMatch(re);
    };
    await saw(/^\+OK/);
    pop3.write(`USER ${address(local)}\r\nPASS ${TEST_MAILBOX_PASSWORD}\r\n`);
    await saw(/\+OK[^\r]*\r\n\+OK/);

    const smtp = new SMTPConnection({ host: '127.0.0.1', port: ports.submissions, secure: true, tls: { rejectUnauthorized: false }, name: 'ends.client.test' });
    smtp.on('error', () => undefined);
    await new Promise<void>((ok, fail) => {
      smtp.once('error', fail);
      smtp.connect(() => ok());
    });
    await new Promise<void>((ok, fail) => smtp.login({ user: address(local), pass: TEST_MAILBOX_PASSWORD }, (err) => (err ? fail(err) : ok())));

    return {
      imap: closedWithin((cb) => imap.once('close', cb), WITHIN_MS + 2000),
      pop3: closedWithin((cb) => pop3.once('close', cb), WITHIN_MS + 2000),
      smtp: closedWithin((cb) => smtp.once('end', cb), WITHIN_MS + 2000),
      cleanup: () => {
        imap.close();
        pop3.destroy();
        smtp.close();
      },
    };
  }

  it('suspension closes the IMAP, POP3 and SMTP sessions within seconds', async () => {
    const s = await openSessions('vic');
    expect((await http('POST', `/api/mailboxes/${address('vic')}/suspend`)).status).toBe(200);
    const took = { imap: await s.imap, pop3: await s.pop3, smtp: await s.smtp };
    s.cleanup();
    expect(took.imap).toBeGreaterThanOrEqual(0);
    expect(took.pop3).toBeGreaterThanOrEqual(0);
    expect(took.smtp).toBeGreaterThanOrEqual(0);
    expect(Math.max(took.imap, took.pop3, took.smtp)).toBeLessThan(WITHIN_MS);
  });

  it('a password reset closes them too', async () => {
    const s = await openSessions('val');
    expect((await http('POST', `/api/mailboxes/${address('val')}/password/reset`)).status).toBe(200);
    const took = [await s.imap, await s.pop3, await s.smtp];
    s.cleanup();
    expect(took.every((ms) => ms >= 0 && ms < WITHIN_MS)).toBe(true);
  });

  it('a session that missed the announcement cannot send as its suspended mailbox', async () => {
    const t = await SmtpTalk.open(ports.submissions, { tls: true });
    expect((await t.cmd('EHLO ends.client.test')).code).toBe(250);
    expect((await t.cmd(`AUTH PLAIN ${plainAuth('', address('vera'), TEST_MAILBOX_PASSWORD)}`)).code).toBe(235);
    // Straight in the database: no announcement, as if this node had been cut off from Redis.
    await node.db.dataSource.query(`UPDATE mailbox SET status = 'suspended' WHERE address = $1`, [address('vera')]);
    await new Promise((r) => setTimeout(r, 1200)); // the sender lookup cache holds answers for 1 s
    const mail = await t.cmd(`MAIL FROM:<${address('vera')}>`);
    expect(mail.code).toBeGreaterThanOrEqual(500);
    t.destroy();
  });
});
