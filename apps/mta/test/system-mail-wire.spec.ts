/**
 * The system's own mails end to end (issue 12 item 4): a mailbox created through the real API (one by one and by CSV
 * import) finds its welcome mail in its INBOX over IMAP, sent by the mail node's scheduler; the welcomeMailEnabled
 * setting turns it off; and the API's own default templates, saved through the API, make a quota warning whose
 * numbers are filled in after a real SMTP delivery.
 */
import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '@dizi/auth/password-hash';
import { startApiProcess, type ApiProcess } from './api-process';
import { startTestNode, TEST_MAILBOX_PASSWORD, TestNode } from './harness';

const PASSWORD = 'Welcome-password-1';
const OPERATOR_PASSWORD = 'Operator-password-1';

describe('system mails through the API and a real delivery', () => {
  let node: TestNode;
  let api: ApiProcess;
  let admin: string;
  let operator: string;
  let imapPort: number;

  beforeAll(async () => {
    node = await startTestNode({
      roles: ['smtp', 'imap', 'delivery', 'scheduler'],
      settings: { connectionsPerIpPerMinute: 100_000, concurrentConnectionsPerIp: 1000, greetingDelayMs: 0 },
    });
    const tenant = await node.seed.tenant('Welcome');
    const d = await node.seed.domain(tenant.id, 'welcome.test');
    await node.seed.mailbox(d.id, 'boss', undefined, { role: 'tenant_admin' });
    await node.db.dataSource.query(`INSERT INTO operator_account (username, password_hash) VALUES ('op', $1)`, [await hashPassword(OPERATOR_PASSWORD)]);
    imapPort = (node.roles.find((r) => r.name === 'imap') as unknown as { ports: { imap: number } }).ports.imap;
    api = await startApiProcess(node);
    admin = await api.token('boss@welcome.test', TEST_MAILBOX_PASSWORD);
    operator = await api.token('op', OPERATOR_PASSWORD, true);
  }, 180_000);

  afterAll(async () => {
    await api?.close();
    await node?.close();
  });

  /** The INBOX of `address` over IMAP: each message's subject and text, waiting until `count` are there. */
  async function inbox(address: string, count: number, waitMs = 20_000) {
    const imap = new ImapFlow({ host: '127.0.0.1', port: imapPort, secure: false, auth: { user: address, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
    imap.on('error', () => undefined);
    await imap.connect();
    try {
      const until = Date.now() + waitMs;
      for (;;) {
        const box = await imap.mailboxOpen('INBOX');
        if (box.exists >= count || Date.now() > until) break;
        await imap.mailboxClose();
        await new Promise((r) => setTimeout(r, 250));
      }
      const out: { subject: string; text: string; autoSubmitted: string }[] = [];
      if (imap.mailbox && (imap.mailbox as { exists: number }).exists > 0) {
        for await (const m of imap.fetch('1:*', { source: true })) {
          const parsed = await simpleParser(m.source!);
          out.push({ subject: parsed.subject ?? '', text: parsed.text ?? '', autoSubmitted: String(parsed.headers.get('auto-submitted') ?? '') });
        }
      }
      return out;
    } finally {
      await imap.logout().catch(() => undefined);
    }
  }

  const create = async (local: string, quotaBytes?: number) => {
    const r = await api.request('POST', '/api/mailboxes', {
      token: admin,
      body: { address: `${local}@welcome.test`, password: PASSWORD, displayName: `${local} 用户`, ...(quotaBytes ? { quotaBytes } : {}) },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };

  it('puts the welcome mail, in Chinese and English with every placeholder filled, into a mailbox created through the API', async () => {
    await create('new1', 2 * 1024 ** 3);
    const [welcome, ...more] = await inbox('new1@welcome.test', 1);
    expect(more).toEqual([]);
    expect(welcome.subject).toBe('欢迎使用您的新邮箱 new1@welcome.test / Welcome to your new mailbox new1@welcome.test');
    expect(welcome.text).toContain('new1 用户，您好');
    expect(welcome.text).toContain('您的邮箱 new1@welcome.test 已经开通，存储空间为 2 GB。');
    expect(welcome.text).toContain('your mailbox new1@welcome.test is ready, with 2 GB of storage.');
    expect(welcome.text).toContain('The welcome.test mail service');
    expect(welcome.text).not.toContain('{{');
    expect(welcome.autoSubmitted).toBe('auto-generated');
    // The request is done and forgotten; the mail is not sent twice.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await node.db.dataSource.query(`SELECT * FROM mailbox_welcome`)).toEqual([]);
    expect(await inbox('new1@welcome.test', 2, 0)).toHaveLength(1);
  });

  it('welcomes every mailbox a CSV import creates', async () => {
    const r = await api.request('POST', '/api/domains/welcome.test/mailboxes/import', {
      token: admin,
      csv: ['address,display name,quota,password', `csv1@welcome.test,CSV One,10M,${PASSWORD}`, `csv2@welcome.test,CSV Two,1G,${PASSWORD}`].join('\n'),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    for (let i = 0; ; i++) {
      const job = await api.request('GET', `/api/imports/${r.body.jobId}`, { token: admin });
      if (job.body.status !== 'running') {
        expect(job.body).toMatchObject({ status: 'done', created: 2 });
        break;
      }
      if (i > 400) throw new Error('the import did not finish');
      await new Promise((ok) => setTimeout(ok, 50));
    }
    for (const [address, quota] of [['csv1@welcome.test', '10 MB'], ['csv2@welcome.test', '1 GB']]) {
      const mails = await inbox(address, 1);
      expect(mails).toHaveLength(1);
      expect(mails[0].text).toContain(`your mailbox ${address} is ready, with ${quota} of storage.`);
    }
  });

  it('sends none while welcomeMailEnabled is off', async () => {
    const off = await api.request('PATCH', '/api/settings/smtp', { token: operator, body: { welcomeMailEnabled: false } });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body.values.welcomeMailEnabled).toBe(false);
    const quiet = await create('quiet');
    expect(await node.db.dataSource.query(`SELECT * FROM mailbox_welcome WHERE mailbox_id = $1`, [quiet.id])).toEqual([]);
    // Back on: the next mailbox is welcomed, and by then the scheduler has run over the quiet one too.
    expect((await api.request('PATCH', '/api/settings/smtp', { token: operator, body: { welcomeMailEnabled: null } })).status).toBe(200);
    await create('loud');
    expect(await inbox('loud@welcome.test', 1)).toHaveLength(1);
    expect(await inbox('quiet@welcome.test', 1, 0)).toEqual([]);
  });

  it("fills the quota warning's numbers after the API's own default templates are saved", async () => {
    const got = await api.request('GET', '/api/settings/templates', { token: operator });
    const saved = await api.request('PUT', '/api/settings/templates', { token: operator, body: got.body.defaults });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body.updatedAt).not.toBeNull();

    await create('full', 100_000);
    await inbox('full@welcome.test', 1); // the welcome mail, then a delivery that crosses 90 % of the quota
    const raw = ['From: pat@remote.test', 'To: full@welcome.test', 'Subject: big', 'Message-ID: <big@remote.test>', '', 'x'.repeat(76).concat('\r\n').repeat(1150)].join('\r\n');
    const conn = new SMTPConnection({ host: '127.0.0.1', port: node.ports.smtp, ignoreTLS: true, name: 'client.remote.test' });
    await new Promise<void>((ok, fail) => {
      conn.once('error', fail);
      conn.connect(() => ok());
    });
    await new Promise((ok, fail) => conn.send({ from: 'pat@remote.test', to: ['full@welcome.test'] }, raw, (err, info) => (err ? fail(err) : ok(info))));
    conn.quit();

    const mails = await inbox('full@welcome.test', 3);
    const warning = mails.find((m) => m.subject.includes('邮箱空间即将用完'));
    expect(warning, JSON.stringify(mails.map((m) => m.subject))).toBeDefined();
    // Usage when the warning was written: everything stored but the warning itself.
    const [{ used }] = await node.db.dataSource.query(
      `SELECT m.used_bytes - w.size AS used FROM mailbox m JOIN message w ON w.mailbox_id = m.id AND w.delivery_key LIKE 'quota-warning:%'
        WHERE m.address = 'full@welcome.test'`,
    );
    const percent = Math.round((Number(used) * 100) / 100_000);
    expect(percent).toBeGreaterThanOrEqual(90);
    expect(warning!.subject).toBe(`邮箱空间即将用完（已用 ${percent}%） / Your mailbox is almost full (${percent}% used)`);
    const kb = (Number(used) / 1024).toFixed(1).replace(/\.0$/, '');
    expect(warning!.text).toContain(`您的邮箱 full@welcome.test 已使用 ${kb} KB，共 97.7 KB（${percent}%）。`);
    expect(warning!.text).toContain(`your mailbox full@welcome.test uses ${kb} KB of 97.7 KB (${percent}%).`);
    expect(warning!.text).not.toContain('{{');
  });
});
