/**
 * Local delivery and the sweeper on the memory adapters (spool, directory, message store, blobs): expansion, copies,
 * forwarding with SRS, auto-replies, bounces with DSNs, idempotent re-runs. No database, no Redis.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SMTP_SETTINGS, type SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import { MemoryBlobStore } from '@dizi/mail-store/adapters/memory-blob-store';
import { MemoryMessageStore } from '@dizi/mail-store/adapters/memory-message-store';
import { MemoryNotifier } from '@dizi/mail-store/adapters/memory-notifier';
import { INBOX } from '@dizi/mail-store/ports/message-store';
import { Srs } from '@dizi/smtp/srs/srs';
import { MemoryDirectoryStore } from '../adapters/memory/memory-directory-store';
import { MemorySpoolStore } from '../adapters/memory/memory-spool-store';
import { SpoolSweeper } from '../queue/sweeper';
import { LocalDelivery, type DeliveryEnqueuer, type MailboxNotices } from './local-delivery';

class RecordingQueues implements DeliveryEnqueuer {
  delivery: string[] = [];
  outbound: Array<{ id: string; domain: string; attempt?: number }> = [];
  async enqueueDelivery(id: string): Promise<void> {
    this.delivery.push(id);
  }
  async enqueueOutbound(id: string, domain: string, attempt?: number): Promise<void> {
    this.outbound.push({ id, domain, attempt });
  }
}

/** Quota warnings counted, not sent: the notices have their own PostgreSQL tests. */
class CountingNotices implements MailboxNotices {
  checked: string[] = [];
  async sendWelcome(): Promise<boolean> {
    return false;
  }
  async checkQuota(ids: string[]): Promise<void> {
    this.checked.push(...ids);
  }
}

function message(o: { from: string; to: string; subject?: string; headers?: string[]; body?: string }): Buffer {
  return Buffer.from([
    `From: ${o.from}`, `To: ${o.to}`, `Subject: ${o.subject ?? 'hello'}`, `Message-ID: <${Math.random().toString(36).slice(2)}@remote.test>`,
    'Date: Mon, 07 Dec 2026 10:00:00 +0000', ...(o.headers ?? []), '', o.body ?? 'Hi there.', '',
  ].join('\r\n'));
}

async function setup(settings: Partial<SmtpSettings> = {}, now: () => Date = () => new Date()) {
  const directory = new MemoryDirectoryStore().addDomain('a.test');
  const spool = new MemorySpoolStore(directory, { now });
  const blobs = new MemoryBlobStore();
  const store = new MemoryMessageStore({ blobs, notifier: new MemoryNotifier() });
  const queues = new RecordingQueues();
  const notices = new CountingNotices();
  const delivery = new LocalDelivery({
    spool, directory, notices, store, blobs, queues, hostname: 'mx.a.test',
    settings: () => ({ ...DEFAULT_SMTP_SETTINGS, ...settings }), srs: new Srs({ secrets: ['unit-secret'] }),
  });
  const mailbox = async (address: string, quota = 10_000_000, o: Parameters<MemoryDirectoryStore['addMailbox']>[1] = {}) => {
    const mb = directory.addMailbox(address, o);
    store.addMailbox(mb.id, quota);
    await store.createDefaultFolders(mb.id);
    return mb;
  };
  const inbox = async (mailboxId: string, folder = INBOX) => {
    const f = (await store.listFolders(mailboxId)).find((x) => x.name === folder)!;
    return store.listMessages(f.id, { withSource: true });
  };
  const send = async (raw: Buffer, mailFrom: string, recipients: Array<string | { address: string; dsnNotify?: string }>) => {
    const blob = await store.putBlob(raw);
    return spool.spool({ blob, mailFrom, recipients });
  };
  const textOf = async (blobHash: string) => {
    const chunks: Buffer[] = [];
    for await (const c of await blobs.get(blobHash)) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString();
  };
  return { directory, spool, blobs, store, queues, notices, delivery, mailbox, inbox, send, textOf };
}

describe('LocalDelivery on the memory adapters', () => {
  it('stores one copy per mailbox an alias reaches, spools its remote destination with an SRS sender, and never twice', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test');
    const bob = await t.mailbox('bob@a.test');
    t.directory.addAlias('team@a.test', ['alice@a.test', 'bob@a.test', 'friend@remote.test']);
    const id = await t.send(message({ from: 'x@sender.test', to: 'team@a.test' }), 'x@sender.test', ['team@a.test', 'alice@a.test']);

    expect(await t.delivery.deliverMessage(id)).toEqual({ due: 2, finished: 2 });
    const [a] = await t.inbox(alice.id);
    expect(await t.inbox(alice.id)).toHaveLength(1); // two recipients lead to alice: one copy
    expect(a.headerPrefix).toBe('Return-Path: <x@sender.test>\r\nDelivered-To: alice@a.test\r\n');
    expect(await t.inbox(bob.id)).toHaveLength(1);

    const rows = t.spool.recipientsOf(id);
    expect(rows.filter((r) => r.kind === 'local').map((r) => r.status)).toEqual(['delivered', 'delivered']);
    const remote = rows.find((r) => r.kind === 'remote')!;
    expect(remote).toMatchObject({ address: 'friend@remote.test', originalAddress: 'team@a.test', status: 'queued' });
    expect(remote.mailFrom).toMatch(/^SRS0=.+@a\.test$/i);
    expect(t.queues.outbound).toEqual([{ id, domain: 'remote.test', attempt: undefined }]);
    // The message stays open for its remote recipient.
    expect(t.spool.message(id)?.doneAt).toBeNull();
    expect(t.spool.mailLog.map((l) => [l.result, l.recipients])).toEqual([
      ['delivered', ['team@a.test', 'alice@a.test', 'bob@a.test']], ['delivered', ['alice@a.test']],
    ]);

    // A re-run (a duplicate job) finds nothing due and stores nothing more.
    expect(await t.delivery.deliverMessage(id)).toEqual({ due: 0, finished: 0 });
    expect(await t.inbox(alice.id)).toHaveLength(1);
    expect(t.notices.checked.sort()).toEqual([alice.id, bob.id].sort());
  });

  it('bounces unknown and over-quota recipients with one DSN to the sender, and delivers the rest', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test');
    const full = await t.mailbox('full@a.test', 10);
    const sender = await t.mailbox('me@a.test');
    const id = await t.send(message({ from: 'me@a.test', to: 'alice@a.test' }), 'me@a.test', ['alice@a.test', 'nobody@a.test', 'full@a.test']);

    expect(await t.delivery.deliverMessage(id)).toEqual({ due: 3, finished: 3 });
    expect(await t.inbox(alice.id)).toHaveLength(1);
    expect(await t.inbox(full.id)).toHaveLength(0);
    const states = Object.fromEntries(t.spool.recipientsOf(id).map((r) => [r.address, [r.status, r.lastError?.slice(0, 5) ?? null]]));
    expect(states).toEqual({ 'alice@a.test': ['delivered', null], 'nobody@a.test': ['bounced', '5.1.1'], 'full@a.test': ['bounced', '5.2.2'] });
    expect(t.spool.message(id)?.doneAt).not.toBeNull();

    // The DSN: spooled with the null sender to me@a.test, local, so a delivery job is due for it.
    const dsns = t.spool.messages().filter((m) => m.source === 'system');
    expect(dsns).toHaveLength(1);
    expect(dsns[0].mailFrom).toBe('');
    expect(t.queues.delivery).toEqual([dsns[0].id]);
    const text = await t.textOf(dsns[0].blobHash);
    expect(text).toMatch(/Final-Recipient: rfc822; ?nobody@a\.test/i);
    expect(text).toMatch(/Status: 5\.2\.2/);
    // Delivering the DSN puts it in the sender's INBOX.
    await t.delivery.deliverMessage(dsns[0].id);
    expect(await t.inbox(sender.id)).toHaveLength(1);
  });

  it('refuses a members-only group to an outsider (5.7.1) and sends no DSN to the null sender', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test');
    t.directory.addGroup('staff@a.test', ['alice@a.test'], { postingPolicy: 'members' });
    const id = await t.send(message({ from: 'x@sender.test', to: 'staff@a.test' }), '', ['staff@a.test']);
    await t.delivery.deliverMessage(id);
    expect(await t.inbox(alice.id)).toHaveLength(0);
    expect(t.spool.recipientsOf(id)[0]).toMatchObject({ status: 'bounced' });
    expect(t.spool.recipientsOf(id)[0].lastError).toMatch(/^5\.7\.1 /);
    expect(t.spool.messages().filter((m) => m.source === 'system')).toHaveLength(0);
  });

  it('auto-replies once per sender and period, never to a bulk message, a list delivery or the null sender', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test', 10_000_000, {
      displayName: 'Alice', settings: { autoReplyEnabled: true, autoReplySubject: 'Away', autoReplyBody: 'Back on Monday.' },
    });
    t.directory.addGroup('all@a.test', ['alice@a.test']);
    const first = await t.send(message({ from: 'x@sender.test', to: 'alice@a.test' }), 'x@sender.test', ['alice@a.test']);
    await t.delivery.deliverMessage(first);
    const replies = () => t.spool.messages().filter((m) => m.source === 'system');
    expect(replies()).toHaveLength(1);
    expect(t.spool.recipientsOf(replies()[0].id).map((r) => [r.address, r.kind])).toEqual([['x@sender.test', 'remote']]);
    const reply = await t.textOf(replies()[0].blobHash);
    expect(reply).toMatch(/^Auto-Submitted: auto-replied/m);
    expect(reply).toMatch(/^Subject: Away/m);
    expect(t.queues.outbound).toContainEqual({ id: replies()[0].id, domain: 'sender.test', attempt: undefined });

    const again = await t.send(message({ from: 'x@sender.test', to: 'alice@a.test' }), 'x@sender.test', ['alice@a.test']);
    const bulk = await t.send(message({ from: 'y@sender.test', to: 'alice@a.test', headers: ['Precedence: bulk'] }), 'y@sender.test', ['alice@a.test']);
    const viaList = await t.send(message({ from: 'z@sender.test', to: 'all@a.test' }), 'z@sender.test', ['all@a.test']);
    const bounce = await t.send(message({ from: 'mailer-daemon@sender.test', to: 'alice@a.test' }), '', ['alice@a.test']);
    for (const id of [again, bulk, viaList, bounce]) await t.delivery.deliverMessage(id);
    expect(await t.inbox(alice.id)).toHaveLength(5);
    expect(replies()).toHaveLength(1);
  });

  it('auto-replies again once the autoReplyPeriodDays setting has passed', async () => {
    let now = Date.parse('2026-12-07T10:00:00Z');
    const t = await setup({ autoReplyPeriodDays: 2 }, () => new Date(now));
    await t.mailbox('alice@a.test', 10_000_000, { settings: { autoReplyEnabled: true, autoReplyBody: 'Away.' } });
    const replies = () => t.spool.messages().filter((m) => m.source === 'system').length;
    const mail = () => t.send(message({ from: 'x@sender.test', to: 'alice@a.test' }), 'x@sender.test', ['alice@a.test']);
    await t.delivery.deliverMessage(await mail());
    now += 86_400_000;
    await t.delivery.deliverMessage(await mail());
    expect(replies()).toBe(1);
    now += 86_400_000 + 1000;
    await t.delivery.deliverMessage(await mail());
    expect(replies()).toBe(2);
  });

  it('forwards without a copy and keeps none; a Delivered-To naming the mailbox is a loop bounced with 5.4.6', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test', 10_000_000, { settings: { forwardTo: ['bob@a.test'], forwardKeepCopy: false } });
    const bob = await t.mailbox('bob@a.test');
    const id = await t.send(message({ from: 'x@sender.test', to: 'alice@a.test' }), 'x@sender.test', ['alice@a.test']);
    await t.delivery.deliverMessage(id);
    expect(await t.inbox(alice.id)).toHaveLength(0);
    expect(await t.inbox(bob.id)).toHaveLength(1);

    const looped = await t.send(message({ from: 'x@sender.test', to: 'bob@a.test', headers: ['Delivered-To: bob@a.test'] }), 'x@sender.test', ['bob@a.test']);
    await t.delivery.deliverMessage(looped);
    expect(await t.inbox(bob.id)).toHaveLength(1);
    expect(t.spool.recipientsOf(looped)[0].lastError).toMatch(/^5\.4\.6 mail loop/);
  });

  it('files a message the content filter marked into the Junk folder, with the filter headers', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test');
    const junk = (await t.store.listFolders(alice.id)).find((f) => f.specialUse === 'junk')!;
    t.directory.addSpecialUseFolder(alice.id, 'junk', junk.id);
    const blob = await t.store.putBlob(message({ from: 'x@sender.test', to: 'alice@a.test' }));
    const id = await t.spool.spool({ blob, mailFrom: 'x@sender.test', recipients: ['alice@a.test'], filterFolder: 'junk', filterHeaders: 'X-Spam-Flag: YES\r\n' });
    await t.delivery.deliverMessage(id);
    expect(await t.inbox(alice.id)).toHaveLength(0);
    const [copy] = await t.store.listMessages(junk.id, { withSource: true });
    expect(copy.headerPrefix).toContain('X-Spam-Flag: YES\r\n');
  });
});

describe('SpoolSweeper on the memory spool', () => {
  it('re-enqueues due work after the grace period, closes finished messages and purges old ones', async () => {
    let now = Date.parse('2026-12-07T10:00:00Z');
    const directory = new MemoryDirectoryStore().addDomain('a.test');
    directory.addMailbox('alice@a.test');
    const spool = new MemorySpoolStore(directory, { now: () => new Date(now) });
    const queues = new RecordingQueues();
    const sweeper = new SpoolSweeper({ spool, queues, graceSeconds: 5, retentionDays: 7 });
    const blob = { hash: 'a'.repeat(64), size: 10 };
    const id = await spool.spool({ blob, mailFrom: 'x@sender.test', recipients: ['alice@a.test', 'p@remote.test', 'q@remote.test'] });

    expect(await sweeper.sweep()).toEqual({ deliveryJobs: 0, outboundJobs: 0, closed: 0, purged: 0 });
    now += 6_000;
    expect(await sweeper.sweep()).toEqual({ deliveryJobs: 1, outboundJobs: 1, closed: 0, purged: 0 });
    expect(queues.delivery).toEqual([id]);
    expect(queues.outbound).toEqual([{ id, domain: 'remote.test', attempt: 0 }]);

    await spool.transaction(async (tx) => {
      await tx.markDelivered(spool.recipientsOf(id).map((r) => r.id));
    });
    expect(spool.message(id)?.doneAt).toBeNull();
    expect((await sweeper.sweep()).closed).toBe(1);
    now += 8 * 86_400_000;
    expect((await sweeper.sweep()).purged).toBe(1);
    expect(spool.message(id)).toBeUndefined();
  });

  it('rolls a failed transaction back whole', async () => {
    const directory = new MemoryDirectoryStore().addDomain('a.test');
    const spool = new MemorySpoolStore(directory);
    const id = await spool.spool({ blob: { hash: 'b'.repeat(64), size: 1 }, mailFrom: '', recipients: ['alice@a.test'] });
    await expect(spool.transaction(async (tx) => {
      await tx.bounce(spool.recipientsOf(id)[0].id, '5.1.1 no');
      await tx.spoolSystemMail({ hash: 'c'.repeat(64), size: 1 }, '', ['x@remote.test']);
      throw new Error('crash');
    })).rejects.toThrow('crash');
    expect(spool.recipientsOf(id)[0].status).toBe('queued');
    expect(spool.messages()).toHaveLength(1);
  });
});
