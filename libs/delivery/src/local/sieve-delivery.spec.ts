/**
 * Sieve at delivery on the memory adapters: the three levels in order (global, domain, mailbox) with implicit keep,
 * stop and final; fileinto with and without :create, flags, discard, reject as a DSN, redirect with loop detection
 * and exactly-once spooling, vacation through the auto-reply memory, editheader for admin scripts only, limits, and
 * a script error that keeps the message.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SMTP_SETTINGS, type SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import { MemoryBlobStore } from '@dizi/mail-store/adapters/memory-blob-store';
import { MemoryMessageStore } from '@dizi/mail-store/adapters/memory-message-store';
import { MemoryNotifier } from '@dizi/mail-store/adapters/memory-notifier';
import { INBOX } from '@dizi/mail-store/ports/message-store';
import { Srs } from '@dizi/smtp/srs/srs';
import { MemoryDirectoryStore } from '../adapters/memory/memory-directory-store';
import { MemorySieveScriptStore } from '../adapters/memory/memory-sieve-script-store';
import { MemorySpoolStore } from '../adapters/memory/memory-spool-store';
import type { SieveOwner } from '../ports/sieve-script-store';
import { LocalDelivery, type DeliveryEnqueuer, type MailboxNotices } from './local-delivery';

class Queues implements DeliveryEnqueuer {
  delivery: string[] = [];
  outbound: Array<{ id: string; domain: string }> = [];
  async enqueueDelivery(id: string): Promise<void> {
    this.delivery.push(id);
  }
  async enqueueOutbound(id: string, domain: string): Promise<void> {
    this.outbound.push({ id, domain });
  }
}

const notices: MailboxNotices = { sendWelcome: async () => false, checkQuota: async () => undefined };

function message(o: { from?: string; to?: string; subject?: string; headers?: string[]; body?: string } = {}): Buffer {
  return Buffer.from([
    `From: ${o.from ?? 'x@sender.test'}`, `To: ${o.to ?? 'alice@a.test'}`, `Subject: ${o.subject ?? 'hello'}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}@sender.test>`, 'Date: Mon, 07 Dec 2026 10:00:00 +0000',
    ...(o.headers ?? []), '', o.body ?? 'Hi there.', '',
  ].join('\r\n'));
}

async function setup(settings: Partial<SmtpSettings> = {}) {
  const directory = new MemoryDirectoryStore().addDomain('a.test').addDomain('b.test');
  const domainOfMailbox = new Map<string, string>();
  const scripts = new MemorySieveScriptStore((id) => domainOfMailbox.get(id) ?? null);
  const spool = new MemorySpoolStore(directory);
  const blobs = new MemoryBlobStore();
  const store = new MemoryMessageStore({ blobs, notifier: new MemoryNotifier() });
  const queues = new Queues();
  const warnings: object[] = [];
  const delivery = new LocalDelivery({
    spool, directory, notices, store, blobs, queues, hostname: 'mx.a.test', sieveScripts: scripts,
    settings: () => ({ ...DEFAULT_SMTP_SETTINGS, ...settings }), srs: new Srs({ secrets: ['unit-secret'] }),
    logger: { info: () => undefined, warn: (o) => warnings.push(o), error: () => undefined },
  });
  const mailbox = async (address: string, folders: string[] = []) => {
    const mb = directory.addMailbox(address, { displayName: address.split('@')[0] });
    domainOfMailbox.set(mb.id, address.split('@')[1]);
    store.addMailbox(mb.id, 10_000_000);
    await store.createDefaultFolders(mb.id);
    for (const f of folders) await store.createFolder(mb.id, f);
    return mb;
  };
  const folder = async (mailboxId: string, name = INBOX) => {
    const f = (await store.listFolders(mailboxId)).find((x) => x.name === name);
    return f ? store.listMessages(f.id, { withSource: true }) : null;
  };
  const send = async (raw: Buffer, recipients: string[], mailFrom = 'x@sender.test') => spool.spool({ blob: await store.putBlob(raw), mailFrom, recipients });
  const textOf = async (blobHash: string) => {
    const chunks: Buffer[] = [];
    for await (const c of await blobs.get(blobHash)) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString();
  };
  const script = async (owner: SieveOwner, content: string, o: { final?: boolean; name?: string } = {}) => {
    await scripts.put(owner, o.name ?? 'rules', content, { final: o.final });
    await scripts.setActive(owner, o.name ?? 'rules');
  };
  const system = () => spool.messages().filter((m) => m.source === 'system');
  return { directory, scripts, spool, store, queues, delivery, mailbox, folder, send, textOf, script, system, warnings };
}

const user = (mailboxId: string): SieveOwner => ({ level: 'mailbox', mailboxId });
const domain = (name: string): SieveOwner => ({ level: 'domain', domainId: name });
const GLOBAL: SieveOwner = { level: 'global' };

describe('Sieve at delivery', () => {
  it('files into an existing folder with imap4flags, and keeps the rest in INBOX', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test', ['Work']);
    await t.script(user(alice.id), `require ["fileinto", "imap4flags"];
      if header :contains "subject" "report" { addflag "\\\\Flagged"; addflag "$Urgent"; fileinto "Work"; }`);
    const filed = await t.send(message({ subject: 'Weekly report' }), ['alice@a.test']);
    const kept = await t.send(message({ subject: 'lunch?' }), ['alice@a.test']);
    expect(await t.delivery.deliverMessage(filed)).toEqual({ due: 1, finished: 1 });
    await t.delivery.deliverMessage(kept);

    const work = (await t.folder(alice.id, 'Work'))!;
    expect(work).toHaveLength(1);
    expect(work[0].flags.sort()).toEqual(['$Urgent', '\\Flagged']);
    expect((await t.folder(alice.id))!).toHaveLength(1);
    expect(t.spool.recipientsOf(filed)[0].status).toBe('delivered');
    expect(t.spool.mailLog[0].reason).toContain('alice@a.test: sieve mailbox:rules');
  });

  it('creates a missing folder only for fileinto :create; without it the copy lands in INBOX and the log says why', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test');
    await t.script(user(alice.id), `require ["fileinto", "mailbox"];
      if header :is "subject" "a" { fileinto :create "Lists/Dev"; } else { fileinto "Nowhere"; }`);
    await t.delivery.deliverMessage(await t.send(message({ subject: 'a' }), ['alice@a.test']));
    const id = await t.send(message({ subject: 'b' }), ['alice@a.test']);
    await t.delivery.deliverMessage(id);

    expect(await t.folder(alice.id, 'Lists/Dev')).toHaveLength(1);
    expect(await t.folder(alice.id, 'Nowhere')).toBeNull();
    expect(await t.folder(alice.id)).toHaveLength(1);
    expect(t.spool.recipientsOf(id)[0].status).toBe('delivered');
    expect(t.spool.mailLog.at(-1)!.reason).toMatch(/fileinto "Nowhere": no such folder \(use :create\), kept in INBOX/);
  });

  it('runs global, then domain, then the user script; a level that disposed of the message ends the sequence', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test', ['Personal']);
    const carol = await t.mailbox('carol@b.test', ['Personal']);
    await t.script(GLOBAL, `require "fileinto"; if header :contains "subject" "casino" { fileinto "Junk"; }`);
    await t.script(domain('a.test'), `require ["imap4flags"]; if header :contains "subject" "family" { addflag "$Family"; }`);
    await t.script(user(alice.id), `require "fileinto"; if header :contains "subject" "family" { fileinto "Personal"; } elsif header :contains "subject" "casino" { discard; }`);
    await t.script(user(carol.id), `require "fileinto"; fileinto "Personal";`);

    // The global rule files it; the user's `discard` never runs.
    await t.delivery.deliverMessage(await t.send(message({ subject: 'casino bonus' }), ['alice@a.test']));
    expect(await t.folder(alice.id, 'Junk')).toHaveLength(1);
    // The domain's script keeps (implicitly), so the user's runs and files it.
    await t.delivery.deliverMessage(await t.send(message({ subject: 'family photos' }), ['alice@a.test', 'carol@b.test']));
    expect(await t.folder(alice.id, 'Personal')).toHaveLength(1);
    expect(await t.folder(alice.id)).toHaveLength(0);
    // Domain a.test's script is not b.test's.
    expect(await t.folder(carol.id, 'Personal')).toHaveLength(1);
    const reasons = t.spool.mailLog.map((l) => l.reason).join('\n');
    expect(reasons).toContain('alice@a.test: sieve global:rules, domain:rules, mailbox:rules');
    expect(reasons).toContain('carol@b.test: sieve global:rules, mailbox:rules');
  });

  it('a final domain rule that acted, or stopped, ends the sequence; without final the user script still runs', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test', ['Archive', 'Mine']);
    await t.script(user(alice.id), `require "fileinto"; fileinto "Mine";`);
    const rule = `require ["fileinto", "copy"]; if header :contains "subject" "invoice" { fileinto :copy "Archive"; } if header :contains "subject" "legal" { stop; }`;

    await t.script(domain('a.test'), rule, { final: true });
    await t.delivery.deliverMessage(await t.send(message({ subject: 'invoice 42' }), ['alice@a.test']));
    expect(await t.folder(alice.id, 'Archive')).toHaveLength(1);
    expect(await t.folder(alice.id)).toHaveLength(1); // implicit keep: the user's fileinto "Mine" did not run
    expect(await t.folder(alice.id, 'Mine')).toHaveLength(0);
    await t.delivery.deliverMessage(await t.send(message({ subject: 'legal hold' }), ['alice@a.test']));
    expect(await t.folder(alice.id)).toHaveLength(2);
    expect(await t.folder(alice.id, 'Mine')).toHaveLength(0);
    // An unrelated message: the final script did nothing, so the user's script runs.
    await t.delivery.deliverMessage(await t.send(message({ subject: 'hi' }), ['alice@a.test']));
    expect(await t.folder(alice.id, 'Mine')).toHaveLength(1);

    await t.scripts.put(domain('a.test'), 'rules', rule, { final: false });
    await t.delivery.deliverMessage(await t.send(message({ subject: 'invoice 43' }), ['alice@a.test']));
    expect(await t.folder(alice.id, 'Archive')).toHaveLength(2);
    expect(await t.folder(alice.id, 'Mine')).toHaveLength(2);
    await t.delivery.deliverMessage(await t.send(message({ subject: 'legal 2' }), ['alice@a.test']));
    expect(await t.folder(alice.id, 'Mine')).toHaveLength(3); // stop in a script that is not final ends only that script
  });

  it('discard stores nothing and the recipient counts as delivered', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test');
    await t.script(user(alice.id), `if address :domain "from" "sender.test" { discard; }`);
    const id = await t.send(message(), ['alice@a.test']);
    expect(await t.delivery.deliverMessage(id)).toEqual({ due: 1, finished: 1 });
    expect(await t.folder(alice.id)).toHaveLength(0);
    expect(t.spool.recipientsOf(id)[0].status).toBe('delivered');
    expect(t.system()).toHaveLength(0);
  });

  it('reject bounces the recipient with 5.7.1 and a DSN carrying the reason; none to the null sender', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test');
    await t.script(user(alice.id), `require ["reject"]; if header :contains "subject" "offer" { reject "I do not want offers."; }`);
    const id = await t.send(message({ subject: 'great offer' }), ['alice@a.test']);
    expect(await t.delivery.deliverMessage(id)).toEqual({ due: 1, finished: 1 });
    expect(await t.folder(alice.id)).toHaveLength(0);
    expect(t.spool.recipientsOf(id)[0]).toMatchObject({ status: 'bounced' });
    expect(t.spool.recipientsOf(id)[0].lastError).toMatch(/^5\.7\.1 rejected by the recipient's filter: I do not want offers\./);
    const [dsn] = t.system();
    expect(dsn.mailFrom).toBe('');
    expect(await t.textOf(dsn.blobHash)).toMatch(/Status: 5\.7\.1[\s\S]*I do not want offers\./);

    const silent = await t.send(message({ subject: 'offer again' }), ['alice@a.test'], '');
    await t.delivery.deliverMessage(silent);
    expect(t.spool.recipientsOf(silent)[0].status).toBe('bounced');
    expect(t.system()).toHaveLength(1);
  });

  it('redirects with an SRS sender and our loop header, exactly once; a message it redirected before is kept', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test');
    await t.script(user(alice.id), `redirect "alice@elsewhere.test";`);
    const id = await t.send(message(), ['alice@a.test']);
    expect(await t.delivery.deliverMessage(id)).toEqual({ due: 1, finished: 1 });
    expect(await t.folder(alice.id)).toHaveLength(0);
    const [out] = t.system();
    expect(out.mailFrom).toMatch(/^SRS0=.+@a\.test$/i);
    expect(t.spool.recipientsOf(out.id).map((r) => [r.address, r.kind])).toEqual([['alice@elsewhere.test', 'remote']]);
    const text = await t.textOf(out.blobHash);
    expect(text).toMatch(/^X-Dizi-Sieve-Redirected: alice@a\.test\r\nFrom: x@sender\.test/);
    expect(text).toContain('Hi there.');
    expect(t.queues.outbound).toContainEqual({ id: out.id, domain: 'elsewhere.test' });
    // A duplicate job finds nothing due and redirects nothing more.
    await t.delivery.deliverMessage(id);
    expect(t.system()).toHaveLength(1);

    // The same message back again (e.g. the other side forwards it here): redirecting would loop, so it is kept.
    const back = await t.send(Buffer.from(text), ['alice@a.test']);
    await t.delivery.deliverMessage(back);
    expect(await t.folder(alice.id)).toHaveLength(1);
    expect(t.system()).toHaveLength(1);
    expect(t.spool.mailLog.at(-1)!.reason).toMatch(/redirect to alice@elsewhere\.test refused: .*loop/);
  });

  it('a script error keeps the message in INBOX and logs it: too many redirects for the setting', async () => {
    const t = await setup({ sieveMaxRedirects: 1 });
    const alice = await t.mailbox('alice@a.test');
    await t.script(user(alice.id), `require "copy"; redirect :copy "one@remote.test"; redirect :copy "two@remote.test"; discard;`);
    const id = await t.send(message(), ['alice@a.test']);
    await t.delivery.deliverMessage(id);
    expect(await t.folder(alice.id)).toHaveLength(1);
    expect(t.system()).toHaveLength(0);
    expect(t.spool.recipientsOf(id)[0].status).toBe('delivered');
    expect(t.spool.mailLog.at(-1)!.reason).toMatch(/error: mailbox script "rules": .*more than 1 redirects/);
    expect(t.warnings).toHaveLength(1);
  });

  it('counts the redirect limit across levels: the global script used it up', async () => {
    const t = await setup({ sieveMaxRedirects: 1 });
    const alice = await t.mailbox('alice@a.test');
    await t.script(GLOBAL, `require "copy"; redirect :copy "audit@remote.test";`);
    await t.script(user(alice.id), `require "copy"; redirect :copy "me@remote.test";`);
    await t.delivery.deliverMessage(await t.send(message(), ['alice@a.test']));
    expect(t.system().map((m) => t.spool.recipientsOf(m.id)[0].address)).toEqual(['audit@remote.test']);
    expect(await t.folder(alice.id)).toHaveLength(1);
  });

  it('vacation answers once per sender within :days, never a list message, and the message is kept', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test');
    await t.script(user(alice.id), `require "vacation"; vacation :days 3 :subject "Out of office" "Back on Monday.";`);
    await t.delivery.deliverMessage(await t.send(message(), ['alice@a.test']));
    await t.delivery.deliverMessage(await t.send(message(), ['alice@a.test']));
    await t.delivery.deliverMessage(await t.send(message({ from: 'list@lists.test', headers: ['List-Id: <dev.lists.test>'] }), ['alice@a.test'], 'list@lists.test'));
    expect(await t.folder(alice.id)).toHaveLength(3);
    const replies = t.system();
    expect(replies).toHaveLength(1);
    expect(replies[0].mailFrom).toBe('');
    const text = await t.textOf(replies[0].blobHash);
    expect(text).toMatch(/^Subject: Out of office/m);
    expect(text).toMatch(/^Auto-Submitted: auto-replied/m);
    expect(text).toContain('Back on Monday.');
  });

  it('editheader works in an admin script and is refused in a user script (which then keeps the message)', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test', ['Ok']);
    await t.script(GLOBAL, `require "editheader"; addheader "X-Scanned-By" "Dizi global rules";`);
    await t.script(user(alice.id), `require ["editheader", "fileinto"]; deleteheader "subject"; fileinto "Ok";`);
    await t.delivery.deliverMessage(await t.send(message({ subject: 'kept whole' }), ['alice@a.test']));
    const [copy] = (await t.folder(alice.id))!;
    const text = await t.textOf(copy.blobHash);
    expect(text).toMatch(/^X-Scanned-By: Dizi global rules\r\n/);
    expect(text).toMatch(/^Subject: kept whole/m);
    expect(await t.folder(alice.id, 'Ok')).toHaveLength(0);
    expect(t.spool.mailLog.at(-1)!.reason).toMatch(/error: mailbox script "rules": .*editheader/);
  });

  it('includes personal scripts of the same owner and global ones, active or not', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test', ['Work', 'Junk2']);
    await t.scripts.put(user(alice.id), 'work-rules', `require "fileinto"; if header :contains "subject" "project" { fileinto "Work"; }`);
    await t.scripts.put(GLOBAL, 'shared-spam', `require "fileinto"; if header :contains "subject" "viagra" { fileinto "Junk2"; }`);
    await t.script(user(alice.id), `require ["include"]; include :global "shared-spam"; include :personal "work-rules"; include :optional "missing";`);
    await t.delivery.deliverMessage(await t.send(message({ subject: 'project plan' }), ['alice@a.test']));
    await t.delivery.deliverMessage(await t.send(message({ subject: 'cheap viagra' }), ['alice@a.test']));
    await t.delivery.deliverMessage(await t.send(message({ subject: 'hello' }), ['alice@a.test']));
    expect(await t.folder(alice.id, 'Work')).toHaveLength(1);
    expect(await t.folder(alice.id, 'Junk2')).toHaveLength(1);
    expect(await t.folder(alice.id)).toHaveLength(1);
    // Another mailbox's scripts are not "personal" to alice.
    const bob = await t.mailbox('bob@a.test');
    await t.scripts.put(user(bob.id), 'bob-only', `discard;`);
    await t.script(user(alice.id), `require "include"; include :personal "bob-only";`, { name: 'other' });
    await t.delivery.deliverMessage(await t.send(message({ subject: 'still here' }), ['alice@a.test']));
    expect(await t.folder(alice.id)).toHaveLength(2);
    expect(t.spool.mailLog.at(-1)!.reason).toMatch(/error: mailbox script "other": .*bob-only/);
  });

  it('tests the body when a script asks for it', async () => {
    const t = await setup();
    const alice = await t.mailbox('alice@a.test', ['Invoices']);
    await t.script(user(alice.id), `require ["body", "fileinto"]; if body :text :contains "amount due" { fileinto "Invoices"; }`);
    await t.delivery.deliverMessage(await t.send(message({ body: 'The amount due is 12 EUR.' }), ['alice@a.test']));
    await t.delivery.deliverMessage(await t.send(message({ body: 'Nothing to pay.' }), ['alice@a.test']));
    expect(await t.folder(alice.id, 'Invoices')).toHaveLength(1);
    expect(await t.folder(alice.id)).toHaveLength(1);
  });
});
