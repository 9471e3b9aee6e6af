/**
 * Quarantine through a whole node (smtp, delivery and scheduler roles) and the real API in its own process: spam at or
 * above the quarantine score (here from a DNS list served by a local unbound) and a virus (real clamd, EICAR) under
 * antivirusAction `quarantine` are answered 250 but held, listed to the recipient and the domain admin (never to
 * another user), previewed as text, released to INBOX or deleted, deleted after the retention period, and listed in a
 * daily digest mail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import { expireQuarantine } from '@dizi/delivery/adapters/postgres/quarantine-retention';
import { SystemNotices } from '@dizi/delivery/local/system-notices';
import { type Clamd, EICAR, EICAR_SIGNATURE, startClamd } from '@dizi/testing/scanner-daemons';
import { startUnbound, type Unbound } from '@dizi/testing/unbound';
import { until } from '@dizi/testing/until';
import { type ApiProcess, startApiProcess } from './api-process';
import { startTestNode, TEST_MAILBOX_PASSWORD, type TestNode } from './harness';
import { SmtpTalk } from './smtp-talk';

const ROOMY = { connectionsPerIpPerMinute: 100_000, concurrentConnectionsPerIp: 1000, mailAuthEnabled: false, greetingDelayMs: 0 };

let dns: Unbound;
let clamd: Clamd;
let node: TestNode;
let api: ApiProcess;
let tokens: { alice: string; bob: string; admin: string };
let counter = 0;
const sql = (text: string, params?: unknown[]) => node.db.dataSource.query(text, params);

async function settings(patch: Partial<SmtpSettings> = {}): Promise<void> {
  await sql(`UPDATE system_setting SET value = '{}'::jsonb WHERE key = 'smtp'`);
  await node.setSettings({ ...ROOMY, ...patch });
}

/** One message from the MX port; the final reply. */
async function send(o: { subject: string; body?: string; attachment?: string; to?: string }): Promise<string> {
  const talk = await SmtpTalk.open(node.ports.smtp);
  try {
    expect((await talk.cmd('EHLO mail.sender.test')).code).toBe(250);
    expect((await talk.cmd('MAIL FROM:<pat@sender.test>')).code).toBe(250);
    expect((await talk.cmd(`RCPT TO:<${o.to ?? 'alice@acme.test'}>`)).code).toBe(250);
    const boundary = `b${++counter}`;
    const lines = [
      'From: Pat <pat@sender.test>', `To: ${o.to ?? 'alice@acme.test'}`, `Subject: ${o.subject}`, `Message-ID: <q${counter}.${Date.now()}@sender.test>`,
      'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${boundary}"`, '',
      `--${boundary}`, 'Content-Type: text/plain; charset=utf-8', '', o.body ?? 'Cheap watches, 便宜的手表.', '',
      ...(o.attachment ? [`--${boundary}`, 'Content-Type: application/octet-stream; name="x.com"', 'Content-Disposition: attachment; filename="x.com"', '', o.attachment, ''] : []),
      `--${boundary}--`, '',
    ];
    return (await talk.data(lines.join('\r\n'))).line;
  } finally {
    await talk.quit();
  }
}

const spoolIdOf = (reply: string) => /queued as ([0-9a-f-]{36})/.exec(reply)?.[1] ?? null;

beforeAll(async () => {
  dns = await startUnbound([{ name: '1.0.0.127.bl.test', type: 'A', value: '127.0.0.2' }], ['bl.test']);
  clamd = await startClamd();
  node = await startTestNode({ roles: ['smtp', 'delivery', 'scheduler'], settings: ROOMY, env: { DNS_SERVERS: dns.server } });
  const acme = await node.seed.tenant('acme');
  const d = await node.seed.domain(acme.id, 'acme.test', { isDefault: true });
  await node.seed.mailbox(d.id, 'alice');
  await node.seed.mailbox(d.id, 'bob');
  await node.seed.mailbox(d.id, 'admin', TEST_MAILBOX_PASSWORD, { role: 'domain_admin' });
  api = await startApiProcess(node);
  tokens = {
    alice: await api.token('alice@acme.test', TEST_MAILBOX_PASSWORD),
    bob: await api.token('bob@acme.test', TEST_MAILBOX_PASSWORD),
    admin: await api.token('admin@acme.test', TEST_MAILBOX_PASSWORD),
  };
}, 120_000);

afterAll(async () => {
  await api?.close();
  await node?.close();
  await clamd?.stop();
  await dns?.stop();
});

describe('quarantine', () => {
  it('holds spam at or above the quarantine score: 250, recipient held, listed to alice and her domain admin, not to bob', async () => {
    await settings({ dnsLists: [{ zone: 'bl.test', type: 'ip', action: 'score', weight: 10, answers: [] }] });
    const reply = await send({ subject: 'Great offer' });
    expect(reply).toMatch(/^250 /);
    const spoolId = spoolIdOf(reply)!;
    const [held] = await sql(`SELECT held_at IS NOT NULL AS held, next_attempt_at = 'infinity' AS never, status FROM spool_recipient WHERE message_id = $1`, [spoolId]);
    expect(held).toEqual({ held: true, never: true, status: 'queued' });

    const mine = await api.request('GET', '/api/quarantine', { token: tokens.alice });
    expect(mine.status).toBe(200);
    expect(mine.body.total).toBe(1);
    expect(mine.body.items[0]).toMatchObject({ recipient: 'alice@acme.test', sender: 'pat@sender.test', subject: 'Great offer', reason: 'spam', detail: 'score 10.0', spamScore: 10 });
    const id = mine.body.items[0].id;
    expect((await api.request('GET', '/api/quarantine', { token: tokens.bob })).body.total).toBe(0);
    expect((await api.request('GET', `/api/quarantine/${id}`, { token: tokens.bob })).status).toBe(404);
    expect((await api.request('POST', `/api/quarantine/${id}/release`, { token: tokens.bob })).status).toBe(404);
    expect((await api.request('GET', '/api/quarantine', { token: tokens.admin })).body.items.map((e: { id: string }) => e.id)).toEqual([id]);

    const preview = await api.request('GET', `/api/quarantine/${id}`, { token: tokens.alice });
    expect(preview.status).toBe(200);
    expect(preview.body.header).toContain('Subject: Great offer');
    expect(preview.body.text).toContain('Cheap watches, 便宜的手表.');
    expect(preview.body.attachments).toEqual([]);
    // Nothing reached a folder while held.
    expect(await sql(`SELECT 1 FROM message WHERE delivery_key LIKE $1`, [`${spoolId}:%`])).toEqual([]);

    const released = await api.request('POST', `/api/quarantine/${id}/release`, { token: tokens.alice });
    expect(released.status, JSON.stringify(released.body)).toBe(200);
    const copy = await until('the released copy', async () =>
      (await sql(`SELECT f.special_use, m.header_prefix FROM message m JOIN folder f ON f.id = m.folder_id WHERE m.delivery_key LIKE $1`, [`${spoolId}:%`]))[0], { timeoutMs: 60_000 });
    expect(copy.special_use).toBe('inbox');
    expect(copy.header_prefix).toContain('X-Spam-Flag: YES\r\n');
    expect((await api.request('GET', '/api/quarantine', { token: tokens.alice })).body.total).toBe(0);
    expect((await api.request('POST', `/api/quarantine/${id}/release`, { token: tokens.alice })).status).toBe(404);
    const [audit] = await sql(`SELECT action FROM audit_event WHERE action = 'quarantine.release'`);
    expect(audit).toEqual({ action: 'quarantine.release' });
  });

  it('holds a virus under antivirusAction quarantine; only an admin may release it, its user may delete it', async () => {
    await settings({ antivirusEnabled: true, antivirusAddress: clamd.address, antivirusAction: 'quarantine' });
    const reply = await send({ subject: 'invoice', attachment: EICAR });
    expect(reply).toMatch(/^250 /);
    const spoolId = spoolIdOf(reply)!;
    const list = await api.request('GET', '/api/quarantine?reason=virus', { token: tokens.alice });
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ reason: 'virus', detail: EICAR_SIGNATURE, subject: 'invoice' });
    const id = list.body.items[0].id;
    expect((await api.request('GET', `/api/quarantine/${id}`, { token: tokens.alice })).body.attachments).toEqual(['x.com']);
    const refused = await api.request('POST', `/api/quarantine/${id}/release`, { token: tokens.alice });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('only an administrator may release a message held for a virus');
    expect((await api.request('DELETE', `/api/quarantine/${id}`, { token: tokens.alice })).status).toBe(204);
    const [row] = await sql(`SELECT r.status, m.done_at IS NOT NULL AS done FROM spool_recipient r JOIN spool_message m ON m.id = r.message_id WHERE r.message_id = $1`, [spoolId]);
    expect(row).toEqual({ status: 'deleted', done: true });
    expect((await api.request('GET', '/api/quarantine', { token: tokens.alice })).body.total).toBe(0);
  });

  it('deletes entries older than quarantineRetentionDays, and keeps newer ones', async () => {
    await settings({ dnsLists: [{ zone: 'bl.test', type: 'ip', action: 'score', weight: 10, answers: [] }] });
    const old = spoolIdOf(await send({ subject: 'old' }))!;
    const recent = spoolIdOf(await send({ subject: 'recent', to: 'bob@acme.test' }))!;
    await sql(`UPDATE quarantine SET created_at = now() - interval '3 days' WHERE message_id = $1`, [old]);
    expect(await expireQuarantine(node.ctx.pool, 2)).toBe(1);
    const states = await sql(`SELECT message_id, status FROM spool_recipient WHERE message_id = ANY($1::uuid[]) ORDER BY status`, [[old, recent]]);
    expect(states).toEqual([{ message_id: old, status: 'deleted' }, { message_id: recent, status: 'queued' }]);
    expect((await api.request('GET', '/api/quarantine', { token: tokens.admin })).body.items.map((e: { subject: string }) => e.subject)).toEqual(['recent']);
  });

  it('sends each user with newly held mail one digest a day, in both languages, listing it', async () => {
    const notices = new SystemNotices(node.ctx.pool, node.ctx.store, 'mx.dizi.test');
    // Bob's 'recent' entry (above) is held and in no digest yet; alice has none left.
    expect(await notices.sendQuarantineDigests(30, new Date('2026-12-01T08:00:00Z'))).toBe(1);
    const [digest] = await sql(
      `SELECT m.summary->>'subject' AS subject, m.blob_hash, mb.address FROM message m JOIN folder f ON f.id = m.folder_id JOIN mailbox mb ON mb.id = f.mailbox_id
        WHERE m.delivery_key LIKE 'quarantine-digest:%'`,
    );
    expect(digest.address).toBe('bob@acme.test');
    expect(digest.subject).toBe('隔离区中有 1 封新邮件 / 1 new messages in quarantine');
    const chunks: Buffer[] = [];
    for await (const c of await node.ctx.blobs.get(digest.blob_hash)) chunks.push(c as Buffer);
    const { simpleParser } = await import('mailparser');
    const text = (await simpleParser(Buffer.concat(chunks))).text ?? '';
    expect(text).toMatch(/pat@sender\.test {2}recent \(spam, score 10\.0\)/);
    expect(text).toContain('隔离的邮件 30 天后自动删除');
    expect(text).toContain('held messages are deleted after 30 days');
    // Listed once: the same day (or the next) brings no second digest for it.
    expect(await notices.sendQuarantineDigests(30, new Date('2026-12-01T09:00:00Z'))).toBe(0);
    expect(await notices.sendQuarantineDigests(30, new Date('2026-12-02T09:00:00Z'))).toBe(0);
  });
});
