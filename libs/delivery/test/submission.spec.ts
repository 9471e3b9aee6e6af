/**
 * Submission as a library service (what JMAP EmailSubmission will call): the SMTP submission checks, the same spool
 * writer, then the real outbound path to a local smtp-sink, DKIM-signed by the sender's domain. Real PostgreSQL,
 * Redis and Postfix's smtp-sink; the DKIM key is looked up from the domain row, not from DNS.
 */
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadApiConfig } from '@dizi/config/api.config';
import { SmtpReplyError } from '@dizi/smtp/inbound/verdict';
import { freeTcpPort, smtpSinkMissing, startSmtpSink, type SmtpSink } from '@dizi/testing/smtp-sink';
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from '@dizi/testing/test-database';
import { until } from '@dizi/testing/until';
import { PgRecipientDirectory } from '../src/adapters/postgres/pg-recipient-directory';
import { PgSpoolWriter } from '../src/adapters/postgres/pg-spool-writer';
import { composeMailRuntime, type MailRuntime } from '../src/compose';
import { sendOutboundJob } from '../src/outbound/send-outbound.job';
import { Submission } from '../src/submission/submission.service';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const DKIM_PUBLIC = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const DKIM_PRIVATE = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const missing = smtpSinkMissing();
if (missing) console.warn(`submission.spec.ts skipped: missing ${missing}`);

describe.skipIf(missing !== null)('Submission', () => {
  let db: TestDatabase;
  let pool: Pool;
  let redis: Redis;
  let dir: string;
  let runtime: MailRuntime;
  let sink: SmtpSink;
  let submission: Submission;
  const outboundJobs: Array<{ id: string; domain: string }> = [];
  let alice: { mailboxId: string; address: string };
  const prefix = `dizi-test:submission-${process.pid}-${Date.now()}:`;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 8 });
    pool.on('error', () => undefined);
    redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: null });
    dir = await mkdtemp(join(tmpdir(), 'dizi-submission-'));
    await chmod(dir, 0o755); // smtp-sink writes its captures as nobody
    runtime = await composeMailRuntime({
      config: loadApiConfig({ DATABASE_URL: db.url, REDIS_PREFIX: prefix, DIZI_DATA_DIR: dir, SRS_SECRETS: 's' }),
      pool, redis, hostname: 'api.dizi.test', logger: silent,
    });
    sink = await startSmtpSink('127.0.0.1', await freeTcpPort(), { name: 'mx.remote.test', captureDir: join(dir, 'sink') });

    const { rows: [t] } = await pool.query(`INSERT INTO tenant (name) VALUES ('t') RETURNING id`);
    const { rows: [d] } = await pool.query(
      `INSERT INTO domain (tenant_id, name, unicode_name, helo_name, dkim_selector, dkim_private_key, dkim_public_key)
       VALUES ($1, 'sender.test', 'sender.test', 'out.sender.test', 'dizi', $2, $3) RETURNING id`,
      [t.id, DKIM_PRIVATE, DKIM_PUBLIC],
    );
    const { rows: [m] } = await pool.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes)
       VALUES ($1, $2, 'alice', 'alice@sender.test', 'x', 10000000) RETURNING id`,
      [t.id, d.id],
    );
    await pool.query(`INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes) VALUES ($1, $2, 'bob', 'bob@sender.test', 'x', 10000000)`, [t.id, d.id]);
    await pool.query(`INSERT INTO mailbox_send_as (tenant_id, mailbox_id, address, granted_by) VALUES ($1, $2, 'info@sender.test', 'admin')`, [t.id, m.id]);
    await pool.query(`INSERT INTO transport_route (domain, host, port, require_tls) VALUES ('remote.test', '127.0.0.1', $1, false)`, [sink.port]);
    alice = { mailboxId: m.id, address: 'alice@sender.test' };

    const spool = new PgSpoolWriter({
      pool, store: runtime.store, logger: silent,
      queues: { enqueueDelivery: async () => undefined, enqueueOutbound: async (id: string, domain: string) => void outboundJobs.push({ id, domain }) },
    });
    submission = new Submission({ directory: new PgRecipientDirectory(pool), spool, settings: () => runtime.settings.smtp });
  });

  afterAll(async () => {
    sink?.stop();
    await runtime?.close();
    redis?.disconnect();
    await pool?.end();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const message = (from: string, marker: string) =>
    Buffer.from(`From: ${from}\r\nTo: friend@remote.test\r\nSubject: hello\r\nMessage-ID: <${marker}@sender.test>\r\n\r\nHi, ${marker}.\r\n`);

  it('spools a send-as message of the user, which the outbound queue delivers DKIM-signed to the remote host', async () => {
    const { id } = await submission.submit({
      user: alice, envelope: { mailFrom: 'info@sender.test', rcptTo: ['friend@remote.test'] }, message: message('Info <info@sender.test>', 'sub-1'),
    });
    expect(outboundJobs).toContainEqual({ id, domain: 'remote.test' });
    const result = await sendOutboundJob({
      spool: runtime.spool, directory: runtime.directory, blobs: runtime.blobs, store: runtime.store, settings: () => runtime.settings.smtp,
      resolver: { resolveMx: async () => [], resolve4: async () => [], resolve6: async () => [] }, hostname: 'api.dizi.test', logger: silent,
    }, { spoolMessageId: id, domain: 'remote.test' });
    const { rows: states } = await pool.query(`SELECT status, last_error FROM spool_recipient WHERE message_id = $1`, [id]);
    expect(states).toEqual([{ status: 'delivered', last_error: null }]);
    expect(result).toMatchObject({ claimed: 1, delivered: 1 });

    const capture = await until('the smtp-sink capture', () => sink.captured('sub-1'));
    expect(capture.helo).toBe('out.sender.test');
    expect(capture.mailArgs).toMatch(/^<info@sender\.test>/);
    const raw = capture.message.toString();
    expect(raw).toMatch(/^DKIM-Signature: /);
    const verified = await dkimVerify(capture.message, {
      resolver: async (name: string, type: string) => {
        if (type === 'TXT' && name === 'dizi._domainkey.sender.test') return [[`v=DKIM1; k=rsa; p=${DKIM_PUBLIC}`]];
        throw Object.assign(new Error(`no ${type} for ${name}`), { code: 'ENOTFOUND' });
      },
    });
    expect(verified.results.map((r: { signingDomain: string; status: { result: string } }) => [r.signingDomain, r.status.result])).toEqual([['sender.test', 'pass']]);
    const { rows } = await pool.query(`SELECT messages FROM send_count WHERE mailbox_id = $1`, [alice.mailboxId]);
    expect(rows.map((r) => Number(r.messages))).toEqual([1]);
  });

  it('refuses a sender or a From: address the user does not own, the null sender, and an unknown local recipient, spooling nothing', async () => {
    const before = (await pool.query(`SELECT count(*)::int AS n FROM spool_message`)).rows[0].n;
    const attempt = (mailFrom: string, from: string, rcpt = 'friend@remote.test') =>
      submission.submit({ user: alice, envelope: { mailFrom, rcptTo: [rcpt] }, message: message(from, 'refused') });
    const codeOf = async (p: Promise<unknown>) => {
      try {
        await p;
        return 'accepted';
      } catch (e) {
        expect(e).toBeInstanceOf(SmtpReplyError);
        return (e as SmtpReplyError).message.slice(0, 5) + ' ' + (e as SmtpReplyError).responseCode;
      }
    };
    expect(await codeOf(attempt('bob@sender.test', 'alice@sender.test'))).toBe('5.7.1 553');
    expect(await codeOf(attempt('someone@elsewhere.test', 'alice@sender.test'))).toBe('5.7.1 553');
    expect(await codeOf(attempt('alice@sender.test', 'Bob <bob@sender.test>'))).toBe('5.7.1 553');
    expect(await codeOf(attempt('', 'alice@sender.test'))).toBe('5.7.1 553');
    expect(await codeOf(attempt('alice@sender.test', 'alice@sender.test', 'nobody@sender.test'))).toBe('5.1.1 550');
    expect((await pool.query(`SELECT count(*)::int AS n FROM spool_message`)).rows[0].n).toBe(before);
  });

  it('holds the daily send limit (450 4.7.1) and refuses a suspended mailbox', async () => {
    const submit = (user: { mailboxId: string; address: string }, marker: string) =>
      submission.submit({ user, envelope: { mailFrom: user.address, rcptTo: ['friend@remote.test'] }, message: message(user.address, marker) });
    await pool.query(`UPDATE mailbox SET daily_send_limit = 1 WHERE id = $1`, [alice.mailboxId]);
    await expect(submit(alice, 'limit')).rejects.toMatchObject({ responseCode: 450, message: expect.stringMatching(/^4\.7\.1 /) });
    await pool.query(`UPDATE mailbox SET daily_send_limit = NULL WHERE id = $1`, [alice.mailboxId]);
    const { rows: [carol] } = await pool.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes, status)
       SELECT tenant_id, domain_id, 'carol', 'carol@sender.test', 'x', 10000000, 'suspended' FROM mailbox WHERE id = $1 RETURNING id`,
      [alice.mailboxId],
    );
    await expect(submit({ mailboxId: carol.id, address: 'carol@sender.test' }, 'suspended')).rejects.toMatchObject({ responseCode: 553 });
  });
});
