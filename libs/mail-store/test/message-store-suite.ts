/** Behaviour every MessageStore adapter must show; run against PostgreSQL and against memory. */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchKeyList } from '@dizi/domain/search-key';
import { formatBodyStructure, formatEnvelope } from '@dizi/mime/imap-format';
import { summariseMessage } from '@dizi/mime/message-summary';
import type { BlobStore, StoredBlob } from '../src/ports/blob-store';
import {
  BlobNotStoredError, FolderExistsError, FolderNotFoundError, FolderOperationError, InvalidFolderNameError, QuotaExceededError,
  type MailboxSearch, type MailboxSort, type MessageStore, type NewMessage,
} from '../src/ports/message-store';
import type { MailboxEvent, Notifier } from '../src/ports/notifier';
import { readAll } from './blob-store-suite';

export interface MessageStoreHarness {
  store: MessageStore;
  blobs: BlobStore;
  notifier: Notifier;
  /** Moves the store's clock forward (garbage collection grace, UIDVALIDITY). */
  advanceClock(ms: number): void;
  createMailbox(quotaBytes: number): Promise<string>;
  blobRefcount(hash: string): Promise<number | null>;
  /** Adapter-specific cross-check of stored counters against the rows themselves. */
  checkStoredCounters?(mailboxId: string): Promise<void>;
  close(): Promise<void>;
}

export const GC_GRACE_MS = 3600_000;
const ALL = [{ from: 1, to: 2 ** 31 - 1 }];

export function describeMessageStore(name: string, setup: () => Promise<MessageStoreHarness>): void {
  describe(`${name}: MessageStore behaviour`, () => {
    let h: MessageStoreHarness;
    let store: MessageStore;

    beforeAll(async () => {
      h = await setup();
      store = h.store;
    });
    afterAll(async () => {
      await h?.close();
    });

    async function blob(content: string | Buffer): Promise<StoredBlob> {
      return store.putBlob(Readable.from([Buffer.isBuffer(content) ? content : Buffer.from(content)]));
    }

    function message(b: StoredBlob, extra: Partial<NewMessage> = {}): NewMessage {
      return { blobHash: b.hash, summary: { envelope: { subject: 'hello' } }, searchKeys: searchKeyList(['hello']), ...extra };
    }

    async function mailboxWithFolders(quota = 100_000_000): Promise<{ mailboxId: string; inbox: string; byName: (n: string) => Promise<string> }> {
      const mailboxId = await h.createMailbox(quota);
      const folders = await store.createDefaultFolders(mailboxId);
      return {
        mailboxId,
        inbox: folders.find((f) => f.name === 'INBOX')!.id,
        byName: async (n) => (await store.getFolder(mailboxId, { name: n })).id,
      };
    }

    /** STATUS-style counters must equal what the messages themselves add up to, per folder and per mailbox. */
    async function expectConsistent(mailboxId: string): Promise<void> {
      let used = 0;
      let count = 0;
      for (const f of await store.listFolders(mailboxId)) {
        const rows = await store.listMessages(f.id, { withSummary: false });
        const status = await store.folderStatus(f.id);
        expect({ folder: f.name, messageCount: status.messageCount, unseenCount: status.unseenCount, sizeBytes: status.sizeBytes }).toEqual({
          folder: f.name,
          messageCount: rows.length,
          unseenCount: rows.filter((r) => !r.flags.includes('\\Seen')).length,
          sizeBytes: rows.reduce((s, r) => s + r.size, 0),
        });
        expect(rows.every((r) => r.uid < status.uidNext && r.modseq <= status.highestModseq)).toBe(true);
        used += status.sizeBytes;
        count += status.messageCount;
      }
      const quota = await store.quota(mailboxId);
      expect({ usedBytes: quota.usedBytes, messageCount: quota.messageCount }).toEqual({ usedBytes: used, messageCount: count });
      await h.checkStoredCounters?.(mailboxId);
    }

    it('creates the default folders once, with special use and increasing UIDVALIDITY; INBOX in any case', async () => {
      const mailboxId = await h.createMailbox(1_000_000);
      const first = await store.createDefaultFolders(mailboxId);
      expect(first.map((f) => [f.name, f.specialUse])).toEqual(expect.arrayContaining([
        ['INBOX', 'inbox'], ['Sent', 'sent'], ['Drafts', 'drafts'], ['Trash', 'trash'], ['Junk', 'junk'], ['Virus', 'virus'],
      ]));
      expect(first).toHaveLength(6);
      expect(first[0].name).toBe('INBOX');
      expect(new Set(first.map((f) => f.uidValidity)).size).toBe(6);
      expect(first.every((f) => f.uidNext === 1 && f.messageCount === 0 && f.subscribed)).toBe(true);
      const second = await store.createDefaultFolders(mailboxId);
      expect(second.map((f) => f.id).sort()).toEqual(first.map((f) => f.id).sort());
      const inbox = await store.getFolder(mailboxId, { name: 'inBox' });
      expect(inbox.id).toBe(first[0].id);
      await expect(store.createFolder(mailboxId, 'inbox')).rejects.toBeInstanceOf(FolderExistsError);
    });

    it('creates, renames (with children) and deletes folders, refusing bad names and clashes', async () => {
      const { mailboxId } = await mailboxWithFolders();
      const deep = await store.createFolder(mailboxId, 'Projects/2025/Q1');
      const names = () => store.listFolders(mailboxId).then((fs) => fs.map((f) => f.name));
      expect(await names()).toEqual(expect.arrayContaining(['Projects', 'Projects/2025', 'Projects/2025/Q1']));
      await store.createFolder(mailboxId, 'projects');
      await store.createFolder(mailboxId, '客户/北京');
      await expect(store.createFolder(mailboxId, 'Projects')).rejects.toBeInstanceOf(FolderExistsError);
      for (const bad of ['', '/a', 'a/', 'a//b', 'a*', 'a%b', 'a\u0001b']) {
        await expect(store.createFolder(mailboxId, bad)).rejects.toBeInstanceOf(InvalidFolderNameError);
      }
      const renamed = await store.renameFolder(mailboxId, { name: 'Projects' }, 'Archive/Projects');
      expect(renamed.name).toBe('Archive/Projects');
      expect(await names()).toEqual(expect.arrayContaining(['Archive', 'Archive/Projects', 'Archive/Projects/2025', 'Archive/Projects/2025/Q1']));
      expect(await names()).not.toContain('Projects');
      expect((await store.getFolder(mailboxId, { id: deep.id })).name).toBe('Archive/Projects/2025/Q1');
      expect((await store.getFolder(mailboxId, { id: deep.id })).uidValidity).toBe(deep.uidValidity);
      await expect(store.renameFolder(mailboxId, { name: 'Archive/Projects' }, 'Archive/Projects/2025/x')).rejects.toBeInstanceOf(InvalidFolderNameError);
      await expect(store.renameFolder(mailboxId, { name: 'projects' }, 'Sent')).rejects.toBeInstanceOf(FolderExistsError);
      await expect(store.renameFolder(mailboxId, { name: 'Nope' }, 'Other')).rejects.toBeInstanceOf(FolderNotFoundError);
      await expect(store.deleteFolder(mailboxId, { name: 'INBOX' })).rejects.toBeInstanceOf(FolderOperationError);
      await expect(store.deleteFolder(mailboxId, { name: 'Archive/Projects' })).rejects.toBeInstanceOf(FolderOperationError);
      await store.deleteFolder(mailboxId, { name: 'Archive/Projects/2025/Q1' });
      expect(await names()).not.toContain('Archive/Projects/2025/Q1');
      // A folder created again under an old name gets a new UIDVALIDITY, so clients drop their cache.
      const again = await store.createFolder(mailboxId, 'Archive/Projects/2025/Q1');
      expect(again.uidValidity).toBeGreaterThan(deep.uidValidity);
      await store.setSubscribed(mailboxId, { id: again.id }, false);
      expect((await store.folderStatus(again.id)).subscribed).toBe(false);
    });

    it('keeps a subscription when its folder goes, and for a name subscribed before it exists', async () => {
      const mailboxId = await h.createMailbox(1_000_000);
      await store.createDefaultFolders(mailboxId);
      await store.createFolder(mailboxId, 'Lists/dovecot');
      await store.createFolder(mailboxId, 'Lists/quiet');
      await store.setSubscribed(mailboxId, { name: 'Lists/quiet' }, false);
      await store.deleteFolder(mailboxId, { name: 'Lists/dovecot' });
      await store.deleteFolder(mailboxId, { name: 'Lists/quiet' });
      await store.setSubscribed(mailboxId, { name: 'Later/项目' }, true);
      await store.setSubscribed(mailboxId, { name: 'Later/项目' }, true);
      expect(await store.listDetachedSubscriptions(mailboxId)).toEqual(['Later/项目', 'Lists/dovecot']);
      // Unsubscribing a name that is neither a folder nor subscribed still answers "not found".
      await expect(store.setSubscribed(mailboxId, { name: 'Lists/quiet' }, false)).rejects.toBeInstanceOf(FolderNotFoundError);
      await store.setSubscribed(mailboxId, { name: 'Lists/dovecot' }, false);
      // Created again, a detached name comes back as a subscribed folder and leaves the detached list.
      const later = await store.createFolder(mailboxId, 'Later/项目', { subscribed: false });
      expect((await store.folderStatus(later.id)).subscribed).toBe(true);
      expect(await store.listDetachedSubscriptions(mailboxId)).toEqual([]);
      expect((await store.listFolders(mailboxId)).map((f) => f.name)).not.toContain('Lists/dovecot');
    });

    it('gives 50 concurrent appends to one folder UIDs 1..50 once each, MODSEQs in UID order', async () => {
      const { mailboxId, inbox } = await mailboxWithFolders();
      const b = await blob('Subject: same\r\n\r\nbody\r\n');
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
        store.append(mailboxId, { name: 'INBOX' }, message(b, { deliveryKey: undefined, flags: i % 2 ? ['\\Seen'] : [] }), { enforceQuota: true })));
      expect(results.map((r) => r.uid).sort((a, c) => a - c)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      const status = await store.folderStatus(inbox);
      expect(status.uidNext).toBe(51);
      expect(status.messageCount).toBe(50);
      expect(status.unseenCount).toBe(25);
      const rows = await store.listMessages(inbox);
      const modseqs = rows.map((r) => r.modseq);
      expect(modseqs).toEqual([...modseqs].sort((a, c) => a - c));
      expect(new Set(modseqs).size).toBe(50);
      expect(status.highestModseq).toBe(Math.max(...modseqs));
      expect(await h.blobRefcount(b.hash)).toBe(50);
      await expectConsistent(mailboxId);
    });

    it('never lets concurrent appends exceed the quota', async () => {
      const content = 'x'.repeat(1000);
      const b = await blob(content);
      const prefix = 'Delivered-To: a@example.com\r\n';
      const size = Buffer.byteLength(prefix) + 1000;
      const { mailboxId } = await mailboxWithFolders(size * 7 + 10);
      const settled = await Promise.allSettled(Array.from({ length: 30 }, () =>
        store.append(mailboxId, { name: 'INBOX' }, message(b, { headerPrefix: prefix }), { enforceQuota: true })));
      const ok = settled.filter((s) => s.status === 'fulfilled');
      const refused = settled.filter((s) => s.status === 'rejected') as PromiseRejectedResult[];
      expect(ok).toHaveLength(7);
      expect(refused.every((r) => r.reason instanceof QuotaExceededError)).toBe(true);
      const quota = await store.quota(mailboxId);
      expect(quota.usedBytes).toBe(size * 7);
      expect(quota.usedBytes).toBeLessThanOrEqual(quota.quotaBytes);
      // Mail the system itself files (bounces to Sent, etc.) may ignore the quota.
      const forced = await store.append(mailboxId, { name: 'Sent' }, message(b), { enforceQuota: false });
      expect(forced.uid).toBe(1);
      expect((await store.quota(mailboxId)).usedBytes).toBe(size * 7 + 1000);
      await expectConsistent(mailboxId);
    });

    it('treats a retried delivery key as a no-op, also when retried concurrently', async () => {
      const { mailboxId, inbox } = await mailboxWithFolders();
      const b = await blob('Subject: once\r\n\r\nonce\r\n');
      const first = await store.append(mailboxId, { name: 'INBOX' }, message(b, { deliveryKey: `k-${mailboxId}` }), { enforceQuota: true });
      const retry = await store.append(mailboxId, { name: 'INBOX' }, message(b, { deliveryKey: `k-${mailboxId}` }), { enforceQuota: true });
      expect(first.duplicate).toBe(false);
      expect(retry).toEqual({ ...first, duplicate: true });
      const racing = await Promise.all(Array.from({ length: 10 }, () =>
        store.append(mailboxId, { name: 'Junk' }, message(b, { deliveryKey: `race-${mailboxId}` }), { enforceQuota: true })));
      expect(racing.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(new Set(racing.map((r) => r.messageId)).size).toBe(1);
      expect((await store.folderStatus(inbox)).messageCount).toBe(1);
      const junk = await store.getFolder(mailboxId, { name: 'Junk' });
      expect(junk.messageCount).toBe(1);
      expect(junk.uidNext).toBe(2);
      expect(await h.blobRefcount(b.hash)).toBe(2);
      await expectConsistent(mailboxId);
    });

    it('stores a delivery key given twice in one call once, and many messages to one folder in order', async () => {
      const { mailboxId, inbox } = await mailboxWithFolders();
      const blobs = await Promise.all([0, 1, 2].map((i) => blob(`Subject: batch ${i}\r\n\r\nbody ${i}\r\n`)));
      const outcomes = await store.appendMany([
        { mailboxId, folder: { id: inbox }, message: message(blobs[0], { deliveryKey: `twice-${mailboxId}` }), enforceQuota: true },
        { mailboxId, folder: { id: inbox }, message: message(blobs[1], { deliveryKey: undefined }), enforceQuota: true },
        { mailboxId, folder: { id: inbox }, message: message(blobs[0], { deliveryKey: `twice-${mailboxId}` }), enforceQuota: true },
        { mailboxId, folder: { name: 'INBOX' }, message: message(blobs[2], { deliveryKey: `third-${mailboxId}` }), enforceQuota: true },
      ]);
      expect(outcomes.map((o) => o.ok && [o.uid, o.duplicate])).toEqual([[1, false], [2, false], [1, true], [3, false]]);
      expect(outcomes[2]).toEqual({ ...outcomes[0], duplicate: true });
      const folder = await store.folderStatus(inbox);
      expect(folder).toMatchObject({ messageCount: 3, uidNext: 4 });
      expect(folder.highestModseq).toBe((outcomes[3] as { modseq: number }).modseq);
      await expectConsistent(mailboxId);
    });

    it('delivers one blob to many mailboxes in one call, each delivery succeeding or failing alone', async () => {
      const b = await blob('Subject: to many\r\n\r\nhi all\r\n');
      const roomy = await mailboxWithFolders();
      const full = await mailboxWithFolders(10);
      const filed = await mailboxWithFolders();
      await store.createFolder(filed.mailboxId, 'Lists/dev');
      const already = await store.append(roomy.mailboxId, { name: 'INBOX' }, message(b, { deliveryKey: 'many-1' }), { enforceQuota: true });
      const outcomes = await store.appendMany([
        { mailboxId: roomy.mailboxId, folder: { name: 'INBOX' }, message: message(b, { deliveryKey: 'many-1' }), enforceQuota: true },
        { mailboxId: full.mailboxId, folder: { name: 'INBOX' }, message: message(b, { deliveryKey: 'many-2' }), enforceQuota: true },
        { mailboxId: filed.mailboxId, folder: { name: 'Lists/dev' }, message: message(b, { deliveryKey: 'many-3', headerPrefix: 'X-Spam-Score: 0\r\n' }), enforceQuota: true },
        { mailboxId: filed.mailboxId, folder: { name: 'No/such' }, message: message(b, { deliveryKey: 'many-4' }), enforceQuota: true },
        { mailboxId: filed.mailboxId, folder: { name: 'INBOX' }, message: message(b, { deliveryKey: 'many-5' }), enforceQuota: true },
        { mailboxId: filed.mailboxId, folder: { name: 'INBOX' }, message: { ...message(b), blobHash: 'f'.repeat(64) }, enforceQuota: true },
      ]);
      expect(outcomes[0]).toEqual({ ok: true, ...already, duplicate: true });
      expect(outcomes[1].ok === false && outcomes[1].error).toBeInstanceOf(QuotaExceededError);
      expect(outcomes[2]).toMatchObject({ ok: true, uid: 1, duplicate: false, size: b.size + 'X-Spam-Score: 0\r\n'.length });
      expect(outcomes[3].ok === false && outcomes[3].error).toBeInstanceOf(FolderNotFoundError);
      expect(outcomes[4]).toMatchObject({ ok: true, uid: 1, duplicate: false });
      expect(outcomes[5].ok === false && outcomes[5].error).toBeInstanceOf(BlobNotStoredError);
      expect((await store.quota(full.mailboxId)).messageCount).toBe(0);
      expect(await h.blobRefcount(b.hash)).toBe(3);
      for (const m of [roomy, full, filed]) await expectConsistent(m.mailboxId);
    });

    it('serves the header prefix before the blob, with ranges across both', async () => {
      const { mailboxId, inbox } = await mailboxWithFolders();
      const body = 'Subject: ranged\r\n\r\n0123456789\r\n';
      const prefix = 'Delivered-To: 张三@example.com\r\n';
      const b = await blob(body);
      const r = await store.append(mailboxId, { id: inbox }, message(b, { headerPrefix: prefix }), { enforceQuota: true });
      const whole = Buffer.concat([Buffer.from(prefix), Buffer.from(body)]);
      expect(r.size).toBe(whole.length);
      expect(await readAll(await store.getMessageSource(r.messageId))).toEqual(whole);
      const p = Buffer.byteLength(prefix);
      for (const [start, end] of [[0, 4], [p - 3, p + 5], [p + 2, p + 8], [p - 1, p - 1], [whole.length - 4, whole.length + 50]]) {
        expect(await readAll(await store.getMessageSource(r.messageId, { start, end }))).toEqual(whole.subarray(start, end + 1));
      }
      const [listed] = await store.listMessages(inbox, { uids: [{ from: r.uid, to: r.uid }], withSortFields: true });
      expect(listed).toMatchObject({ uid: r.uid, size: whole.length, summary: { envelope: { subject: 'hello' } } });
    });

    it('reads a listed message in one buffer without a lookup, and keeps ENVELOPE/BODYSTRUCTURE rendered at delivery', async () => {
      const { mailboxId, inbox, byName } = await mailboxWithFolders();
      const raw = Buffer.from('From: =?UTF-8?B?5byg5LiJ?= <zs@example.com>\r\nSubject: "quoted" \\ text\r\nMIME-Version: 1.0\r\n'
        + 'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n你好\r\n'
        + '--b\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b--\r\n');
      const { searchText: _searchText, ...summary } = await summariseMessage(raw);
      const prefix = 'Delivered-To: 李四@example.com\r\n';
      const rendered = await store.append(mailboxId, { id: inbox }, message(await blob(raw), { headerPrefix: prefix, summary }), { enforceQuota: true });
      const plain = await store.append(mailboxId, { id: inbox }, message(await blob('Subject: plain\r\n\r\nplain\r\n')), { enforceQuota: true });
      const whole = Buffer.concat([Buffer.from(prefix), raw]);
      const p = Buffer.byteLength(prefix);

      const [listed, other] = await store.listMessages(inbox, { uids: [{ from: rendered.uid, to: plain.uid }], withSource: true, withImapFormat: true, withSummary: false });
      expect(listed.headerPrefix).toBe(prefix);
      expect(listed.imapFormat).toEqual({ envelope: formatEnvelope(summary.envelope), bodyStructure: formatBodyStructure(summary.bodyStructure, true) });
      expect(other.imapFormat).toBeNull();
      const [bare] = await store.listMessages(inbox, { uids: [{ from: rendered.uid, to: rendered.uid }], withSummary: false });
      for (const record of [listed, bare]) {
        expect((await store.readMessage(record)).equals(whole)).toBe(true);
        for (const [start, end] of [[0, 4], [p - 3, p + 5], [p + 2, p + 8], [p - 1, p - 1], [whole.length - 4, whole.length + 50], [whole.length, whole.length + 5]]) {
          expect((await store.readMessage(record, { start, end })).equals(whole.subarray(start, end + 1))).toBe(true);
        }
      }

      const work = await byName('Drafts');
      const copied = await store.copy(inbox, [{ from: rendered.uid, to: rendered.uid }], work);
      const [copy] = await store.listMessages(work, { uids: [{ from: copied.map[0].targetUid, to: copied.map[0].targetUid }], withSource: true, withImapFormat: true });
      expect(copy.imapFormat).toEqual(listed.imapFormat);
      expect((await store.readMessage(copy)).equals(whole)).toBe(true);
    });

    it('lists by UID and by sequence ranges and by CHANGEDSINCE', async () => {
      const { mailboxId, inbox } = await mailboxWithFolders();
      const b = await blob('Subject: list\r\n\r\nlist\r\n');
      for (let i = 0; i < 6; i++) await store.append(mailboxId, { id: inbox }, message(b), { enforceQuota: true });
      await store.setFlags(inbox, [{ from: 2, to: 2 }], 'add', ['\\Deleted']);
      await store.expunge(inbox);
      // UIDs now 1,3,4,5,6 → sequence 2 is UID 3.
      const bySeq = await store.listMessages(inbox, { seqs: [{ from: 2, to: 3 }, { from: 5, to: 5 }], withSummary: false });
      expect(bySeq.map((m) => [m.seq, m.uid])).toEqual([[2, 3], [3, 4], [5, 6]]);
      const byUid = await store.listMessages(inbox, { uids: [{ from: 6, to: 4 }, { from: 1, to: 2 }, { from: 5, to: 5 }] });
      expect(byUid.map((m) => m.uid)).toEqual([1, 4, 5, 6]);
      const before = (await store.folderStatus(inbox)).highestModseq;
      await store.setFlags(inbox, [{ from: 4, to: 4 }], 'add', ['$Important']);
      expect((await store.listMessages(inbox, { changedSince: before })).map((m) => m.uid)).toEqual([4]);
      await expect(store.listMessages('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(FolderNotFoundError);
    });

    it('views a folder for SELECT: UID runs, first unseen, keywords, without listing messages', async () => {
      const { mailboxId, inbox, byName } = await mailboxWithFolders();
      const empty = await store.viewFolder(mailboxId, { name: 'Drafts' });
      expect(empty).toMatchObject({ uidRuns: [], firstUnseenUid: null, keywords: [] });
      expect(empty.folder.id).toBe(await byName('Drafts'));
      const b = await blob('Subject: view\r\n\r\nview\r\n');
      for (let i = 0; i < 9; i++) await store.append(mailboxId, { id: inbox }, message(b, { flags: ['\\Seen'] }), { enforceQuota: true });
      const dense = await store.viewFolder(mailboxId, { name: 'inbox' });
      expect(dense).toMatchObject({ uidRuns: [{ from: 1, to: 9 }], firstUnseenUid: null, keywords: [] });
      expect(dense.folder).toMatchObject({ id: inbox, name: 'INBOX', messageCount: 9, uidNext: 10 });
      // Gaps at 1, 4 and 7..8 leave the runs 2:3, 5:6, 9.
      await store.setFlags(inbox, [{ from: 1, to: 1 }, { from: 4, to: 4 }, { from: 7, to: 8 }], 'add', ['\\Deleted']);
      await store.expunge(inbox);
      await store.setFlags(inbox, [{ from: 5, to: 5 }], 'add', ['$Work', 'Later']);
      await store.setFlags(inbox, [{ from: 3, to: 3 }], 'add', ['\\Flagged', 'Later', '$Done']);
      await store.setFlags(inbox, [{ from: 5, to: 6 }], 'remove', ['\\Seen']);
      const gaps = await store.viewFolder(mailboxId, { id: inbox });
      expect(gaps.uidRuns).toEqual([{ from: 2, to: 3 }, { from: 5, to: 6 }, { from: 9, to: 9 }]);
      expect(gaps.firstUnseenUid).toBe(5);
      // In order of first use by UID.
      expect(gaps.keywords).toEqual(['Later', '$Done', '$Work']);
      expect(gaps.folder).toMatchObject({ messageCount: 5, unseenCount: 2, highestModseq: (await store.folderStatus(inbox)).highestModseq });
      await expect(store.viewFolder(mailboxId, { name: 'Nope' })).rejects.toBeInstanceOf(FolderNotFoundError);
      await expect(store.viewFolder(mailboxId, { id: '00000000-0000-4000-8000-000000000000' })).rejects.toBeInstanceOf(FolderNotFoundError);
      const other = await mailboxWithFolders();
      await expect(store.viewFolder(other.mailboxId, { id: inbox })).rejects.toBeInstanceOf(FolderNotFoundError);
    });

    it('tells what changed after a MODSEQ: flags, new messages and expunges, up to the HIGHESTMODSEQ it reports', async () => {
      const { mailboxId, inbox } = await mailboxWithFolders();
      const b = await blob('Subject: changes\r\n\r\nchanges\r\n');
      for (let i = 0; i < 4; i++) await store.append(mailboxId, { id: inbox }, message(b), { enforceQuota: true });
      const since = (await store.folderStatus(inbox)).highestModseq;
      expect(await store.changesSince(inbox, since)).toEqual({ changed: [], vanished: [], vanishedMessages: [], highestModseq: since });
      await store.setFlags(inbox, [{ from: 2, to: 2 }], 'add', ['\\Seen']);
      await store.setFlags(inbox, [{ from: 3, to: 3 }], 'add', ['\\Deleted']);
      const expunged3Id = (await store.listMessages(inbox, { uids: [{ from: 3, to: 3 }] }))[0].id;
      await store.expunge(inbox);
      const added = await store.append(mailboxId, { id: inbox }, message(b, { flags: ['$New'] }), { enforceQuota: true });
      const third = (await store.changesSince(inbox, 0)).changed.find((r) => r.uid === 3);
      expect(third).toBeUndefined();
      const changes = await store.changesSince(inbox, since);
      expect(changes.highestModseq).toBe(added.modseq);
      expect(changes.vanished).toEqual([3]);
      // An expunged message's tombstone keeps its thread (here its own: it names no other message).
      expect(changes.vanishedMessages).toEqual([{ uid: 3, messageId: expunged3Id, modseq: since + 3, threadId: expunged3Id }]);
      expect(changes.changed.map((r) => ({ uid: r.uid, flags: r.flags, modseq: r.modseq }))).toEqual([
        { uid: 2, flags: ['\\Seen'], modseq: since + 1 },
        { uid: 5, flags: ['$New'], modseq: added.modseq },
      ]);
      expect(changes.changed[1]).toMatchObject({ id: added.messageId, size: added.size, blobHash: b.hash, threadId: added.messageId });
      expect((await store.changesSince(inbox, added.modseq)).changed).toEqual([]);
      await expect(store.changesSince('00000000-0000-4000-8000-000000000000', 0)).rejects.toBeInstanceOf(FolderNotFoundError);
    });

    it('keeps a thread id per message: the thread of the oldest message it names in its mailbox, copies included', async () => {
      const { mailboxId, inbox, byName } = await mailboxWithFolders();
      const other = await mailboxWithFolders();
      const b = await blob('Subject: thread\r\n\r\nthread\r\n');
      let minute = 0;
      const add = (mb: string, folder: string, sortFields: NewMessage['sortFields']) =>
        store.append(mb, { id: folder }, message(b, { sortFields, internalDate: new Date(Date.UTC(2026, 0, 1, 0, minute++)) }), { enforceQuota: true });
      const root = await add(mailboxId, inbox, { messageId: 'root@x' });
      const reply = await add(mailboxId, inbox, { messageId: 'reply@x', inReplyTo: 'root@x', references: ['root@x'] });
      const deep = await add(mailboxId, inbox, { messageId: 'deep@x', references: ['unknown@x', 'reply@x'] });
      const alone = await add(mailboxId, inbox, { messageId: 'alone@x' });
      const elsewhere = await add(other.mailboxId, other.inbox, { messageId: 'reply2@x', inReplyTo: 'root@x' });
      const copied = await store.copy(inbox, [{ from: root.uid, to: root.uid }], await byName('Trash'));
      const ids = [root.messageId, reply.messageId, deep.messageId, alone.messageId];
      const located = await store.messagesById(mailboxId, ids);
      expect(located.map((r) => r.threadId)).toEqual([root.messageId, root.messageId, root.messageId, alone.messageId]);
      expect((await store.messagesById(other.mailboxId, [elsewhere.messageId]))[0].threadId).toBe(elsewhere.messageId);
      const trashCopy = (await store.listMessages(await byName('Trash'), { withThreadId: true }))[0];
      expect(trashCopy.uid).toBe(copied.map[0].targetUid);
      expect(trashCopy.threadId).toBe(root.messageId);
      expect((await store.listMessages(inbox, { withThreadId: true })).map((r) => r.threadId)).toEqual(located.map((r) => r.threadId));
      const threads = await store.threadMessages(mailboxId, [alone.messageId, root.messageId, elsewhere.messageId, '999999']);
      expect(threads).toEqual([
        { threadId: alone.messageId, messageIds: [alone.messageId] },
        // Oldest first by internal date: the copy keeps the root's.
        { threadId: root.messageId, messageIds: [root.messageId, trashCopy.id, reply.messageId, deep.messageId] },
      ]);
    });

    it('sets flags with add/remove/replace, one MODSEQ per call, and honours UNCHANGEDSINCE', async () => {
      const { mailboxId, inbox } = await mailboxWithFolders();
      const b = await blob('Subject: flags\r\n\r\nflags\r\n');
      for (let i = 0; i < 4; i++) await store.append(mailboxId, { id: inbox }, message(b), { enforceQuota: true });
      const seen = await store.setFlags(inbox, [{ from: 1, to: 3 }], 'add', ['\\seen', '\\Recent', '$Work']);
      expect(seen.changed.map((c) => c.uid)).toEqual([1, 2, 3]);
      expect(new Set(seen.changed.map((c) => c.modseq)).size).toBe(1);
      expect(seen.changed[0].flags).toEqual(['\\Seen', '$Work']);
      expect((await store.folderStatus(inbox)).unseenCount).toBe(1);
      const again = await store.setFlags(inbox, [{ from: 1, to: 3 }], 'add', ['\\Seen']);
      expect(again.changed).toEqual([]);
      expect(again.highestModseq).toBe(seen.highestModseq);
      const m2 = (await store.listMessages(inbox, { uids: [{ from: 2, to: 2 }] }))[0].modseq;
      await store.setFlags(inbox, [{ from: 2, to: 2 }], 'add', ['\\Flagged']);
      // UID 2 changed after m2, so a STORE with UNCHANGEDSINCE m2 fails for it and succeeds for the others.
      const cond = await store.setFlags(inbox, [{ from: 1, to: 4 }], 'remove', ['\\Seen'], { unchangedSince: m2 });
      expect(cond.failed).toEqual([2]);
      expect(cond.changed.map((c) => c.uid)).toEqual([1, 3]);
      const replaced = await store.setFlags(inbox, [{ from: 4, to: 4 }], 'replace', ['\\Answered', '\\Seen']);
      expect(replaced.changed[0].flags).toEqual(['\\Answered', '\\Seen']);
      const rows = await store.listMessages(inbox);
      expect(rows.map((r) => r.flags)).toEqual([['$Work'], ['\\Seen', '$Work', '\\Flagged'], ['$Work'], ['\\Answered', '\\Seen']]);
      expect((await store.folderStatus(inbox)).unseenCount).toBe(2);
      await expectConsistent(mailboxId);
    });

    it('copies, moves and expunges keeping every counter equal to the rows, with tombstones for QRESYNC', async () => {
      const { mailboxId, inbox, byName } = await mailboxWithFolders();
      const trash = await byName('Trash');
      const work = (await store.createFolder(mailboxId, 'Work')).id;
      const blobs = await Promise.all([1, 2, 3, 4, 5].map((i) => blob(`Subject: m${i}\r\n\r\n${'b'.repeat(i * 100)}\r\n`)));
      for (const [i, b] of blobs.entries()) {
        await store.append(mailboxId, { id: inbox }, message(b, { flags: i < 2 ? ['\\Seen'] : [] }), { enforceQuota: true });
      }
      const start = (await store.folderStatus(inbox)).highestModseq;
      const copied = await store.copy(inbox, [{ from: 1, to: 3 }], work);
      expect(copied.map).toEqual([{ sourceUid: 1, targetUid: 1 }, { sourceUid: 2, targetUid: 2 }, { sourceUid: 3, targetUid: 3 }]);
      expect(copied.uidValidity).toBe((await store.folderStatus(work)).uidValidity);
      expect(await h.blobRefcount(blobs[0].hash)).toBe(2);
      await expectConsistent(mailboxId);

      const moved = await store.move(inbox, [{ from: 2, to: 4 }], trash);
      expect(moved.map).toEqual([{ sourceUid: 2, targetUid: 1 }, { sourceUid: 3, targetUid: 2 }, { sourceUid: 4, targetUid: 3 }]);
      expect((await store.listMessages(inbox)).map((m) => m.uid)).toEqual([1, 5]);
      expect((await store.listMessages(trash)).map((m) => m.flags)).toEqual([['\\Seen'], [], []]);
      expect(await h.blobRefcount(blobs[1].hash)).toBe(2);
      await expectConsistent(mailboxId);

      await store.setFlags(inbox, [{ from: 5, to: 5 }], 'add', ['\\Deleted']);
      await store.setFlags(work, ALL, 'add', ['\\Deleted']);
      const expunged = await store.expunge(work, [{ from: 2, to: 3 }]);
      expect(expunged.uids).toEqual([2, 3]);
      expect((await store.listMessages(work)).map((m) => m.uid)).toEqual([1]);
      const gone = await store.expunge(inbox);
      expect(gone.uids).toEqual([5]);
      expect(await h.blobRefcount(blobs[4].hash)).toBe(0);
      await expectConsistent(mailboxId);

      const changes = await store.changesSince(inbox, start);
      expect(changes.vanished).toEqual([2, 3, 4, 5]);
      expect(changes.changed).toEqual([]);
      expect(changes.highestModseq).toBe(gone.modseq);
      const sinceMove = await store.changesSince(inbox, moved.sourceModseq);
      expect(sinceMove.vanished).toEqual([5]);
      // Tombstones name the message: the moved ones live on in Trash under the same id, the expunged one is gone.
      const trashRows = await store.listMessages(trash, { withSummary: false });
      expect(changes.vanishedMessages.slice(0, 3).map((v) => v.messageId)).toEqual(trashRows.map((r) => r.id));
      expect(changes.vanishedMessages.map((v) => v.modseq)).toEqual([moved.sourceModseq, moved.sourceModseq, moved.sourceModseq, gone.modseq]);
      // Moved ones are still in their threads: only the expunged one's tombstone names its thread.
      expect(changes.vanishedMessages.map((v) => v.threadId)).toEqual([null, null, null, changes.vanishedMessages[3].messageId]);
      const located = await store.messagesById(mailboxId, [trashRows[1].id, changes.vanishedMessages[3].messageId!, 'x', trashRows[0].id], { withSource: true });
      expect(located.map((r) => [r.id, r.folderId, r.uid])).toEqual([[trashRows[1].id, trash, 2], [trashRows[0].id, trash, 1]]);
      expect(located[0].headerPrefix).toBe('');
      expect(await store.messagesById((await mailboxWithFolders()).mailboxId, [trashRows[0].id])).toEqual([]);
      // Expunge without \Deleted messages changes nothing.
      expect((await store.expunge(trash)).uids).toEqual([]);

      const b = await blob('Subject: tiny\r\n\r\nx\r\n');
      const tiny = await mailboxWithFolders(b.size);
      await store.append(tiny.mailboxId, { id: tiny.inbox }, message(b), { enforceQuota: true });
      await expect(store.copy(tiny.inbox, ALL, tiny.inbox)).rejects.toBeInstanceOf(QuotaExceededError);
      expect((await store.folderStatus(tiny.inbox)).messageCount).toBe(1);
      await expectConsistent(tiny.mailboxId);
      await expect(store.move(inbox, ALL, inbox)).rejects.toBeInstanceOf(FolderOperationError);
    });

    it('renames INBOX by moving its messages to the new folder and leaving INBOX empty', async () => {
      const { mailboxId, inbox } = await mailboxWithFolders();
      await store.createFolder(mailboxId, 'INBOX/Sub');
      const b = await blob('Subject: old inbox\r\n\r\nx\r\n');
      await store.append(mailboxId, { id: inbox }, message(b), { enforceQuota: true });
      await store.append(mailboxId, { id: inbox }, message(b, { flags: ['\\Seen'] }), { enforceQuota: true });
      const old = await store.renameFolder(mailboxId, { name: 'inbox' }, 'Old Mail');
      expect(old.name).toBe('Old Mail');
      expect(old.messageCount).toBe(2);
      expect((await store.listMessages(old.id)).map((m) => m.uid)).toEqual([1, 2]);
      const inboxNow = await store.folderStatus(inbox);
      expect(inboxNow).toMatchObject({ name: 'INBOX', messageCount: 0, unseenCount: 0, sizeBytes: 0, uidNext: 3 });
      expect((await store.listFolders(mailboxId)).map((f) => f.name)).toContain('INBOX/Sub');
      await expectConsistent(mailboxId);
    });

    it('deletes a folder with its messages and gives the quota back', async () => {
      const { mailboxId } = await mailboxWithFolders();
      const folder = await store.createFolder(mailboxId, 'Doomed');
      const b = await blob(randomBytes(3000));
      await store.append(mailboxId, { id: folder.id }, message(b), { enforceQuota: true });
      await store.append(mailboxId, { name: 'INBOX' }, message(b), { enforceQuota: true });
      expect(await h.blobRefcount(b.hash)).toBe(2);
      await store.deleteFolder(mailboxId, { id: folder.id });
      expect(await h.blobRefcount(b.hash)).toBe(1);
      expect((await store.quota(mailboxId)).messageCount).toBe(1);
      await expect(store.folderStatus(folder.id)).rejects.toBeInstanceOf(FolderNotFoundError);
      await expectConsistent(mailboxId);
    });

    it('answers a mailbox query (JMAP Email/query) across folders: filters, sorts, windows, counts and threads', async () => {
      const { mailboxId, inbox, byName } = await mailboxWithFolders();
      const sent = await byName('Sent');
      const other = await mailboxWithFolders();
      const at = (day: number) => new Date(Date.UTC(2026, 2, day, 12));
      const add = async (mb: string, folder: string, o: { from: string; subject: string; day: number; body: string; tokens: string[]; flags?: string[];
        messageId: string; inReplyTo?: string; attachments?: string[] }) => {
        const b = await blob(`Subject: ${o.subject}\r\n\r\n${o.body}\r\n`);
        const [name, mailbox] = o.from.split(' ');
        const r = await store.append(mb, { id: folder }, {
          blobHash: b.hash, flags: o.flags ?? [], internalDate: at(o.day), searchKeys: searchKeyList(o.tokens),
          summary: { envelope: { subject: o.subject, from: [{ name, mailbox, host: 'example.org' }], to: [{ name: null, mailbox: 'me', host: 'example.org' }] }, subject: o.subject },
          sortFields: { subject: o.subject, messageId: o.messageId, inReplyTo: o.inReplyTo ?? null, references: o.inReplyTo ? [o.inReplyTo] : [], attachmentNames: o.attachments ?? [] },
        }, { enforceQuota: true });
        return r.messageId;
      };
      const budget = await add(mailboxId, inbox, { from: 'Alice alice', subject: 'Budget 2026', day: 1, body: 'x'.repeat(300), tokens: ['budget', '金笛'], messageId: 'root@q', attachments: ['plan.pdf'] });
      const reply = await add(mailboxId, inbox, { from: 'Bob bob', subject: 'Re: Budget 2026', day: 2, body: 'y', tokens: ['budget'], flags: ['\\Seen'], messageId: 'reply@q', inReplyTo: 'root@q' });
      const lunch = await add(mailboxId, sent, { from: 'Carol carol', subject: 'Lunch', day: 3, body: 'z'.repeat(100), tokens: ['lunch'], flags: ['\\Flagged', '$Work'], messageId: 'lunch@q' });
      const apples = await add(mailboxId, inbox, { from: 'Dave dave', subject: 'Apples', day: 4, body: 'w'.repeat(30), tokens: ['apples'], messageId: 'apples@q' });
      await add(other.mailboxId, other.inbox, { from: 'Eve eve', subject: 'Budget elsewhere', day: 5, body: 'v', tokens: ['budget'], messageId: 'other@q' });

      const newest = [{ key: 'received' as const, reverse: true }];
      const ids = async (filter: MailboxSearch, sort: MailboxSort[] = newest, offset = 0, limit: number | null = 50) =>
        (await store.queryMessages(mailboxId, { filter, sort, offset, limit })).map((hit) => hit.id);
      expect(await ids({ op: 'all' })).toEqual([apples, lunch, reply, budget]);
      expect(await ids({ op: 'folders', ids: [inbox] })).toEqual([apples, reply, budget]);
      expect(await ids({ op: 'folders', ids: [inbox] }, newest, 1, 1)).toEqual([reply]);
      expect(await ids({ op: 'all' }, newest, 1, null)).toEqual([lunch, reply, budget]);
      expect(await ids({ op: 'all' }, newest, 9, 5)).toEqual([]);
      expect(await ids({ op: 'not', key: { op: 'folders', ids: [inbox] } })).toEqual([lunch]);
      expect(await ids({ op: 'folders', ids: ['not-a-folder'] })).toEqual([]);
      expect(await ids({ op: 'flag', flag: '\\Seen', set: false })).toEqual([apples, lunch, budget]);
      expect(await ids({ op: 'flag', flag: '$work', set: true })).toEqual([lunch]);
      expect(await ids({ op: 'header', field: 'from', value: 'bob' })).toEqual([reply]);
      expect(await ids({ op: 'header', field: 'subject', value: 'budget' })).toEqual([reply, budget]);
      expect(await ids({ op: 'text', tokens: ['budget'] })).toEqual([reply, budget]);
      expect(await ids({ op: 'text', tokens: ['金笛'] })).toEqual([budget]);
      expect(await ids({ op: 'attachment', has: true })).toEqual([budget]);
      expect(await ids({ op: 'attachmentName', value: 'plan' })).toEqual([budget]);
      expect(await ids({ op: 'attachmentName', value: 'n.p' })).toEqual([budget]);
      expect(await ids({ op: 'attachmentName', value: 'p_an' })).toEqual([]);
      expect(await ids({ op: 'received', cmp: 'since', at: at(3) })).toEqual([apples, lunch]);
      expect(await ids({ op: 'received', cmp: 'before', at: at(2) })).toEqual([budget]);
      expect(await ids({ op: 'or', keys: [{ op: 'header', field: 'from', value: 'dave' }, { op: 'text', tokens: ['lunch'] }] })).toEqual([apples, lunch]);
      expect(await ids({ op: 'or', keys: [] })).toEqual([]);
      expect(await ids({ op: 'and', keys: [{ op: 'folders', ids: [inbox] }, { op: 'size', larger: true, n: 100 }] })).toEqual([budget]);

      // Base subjects upper-cased ("Re: Budget 2026" sorts as "BUDGET 2026"), ties by id in the first key's direction.
      expect(await ids({ op: 'all' }, [{ key: 'subject', reverse: false }])).toEqual([apples, budget, reply, lunch]);
      expect(await ids({ op: 'all' }, [{ key: 'subject', reverse: true }])).toEqual([lunch, reply, budget, apples]);
      expect(await ids({ op: 'all' }, [{ key: 'from', reverse: false }])).toEqual([budget, reply, lunch, apples]);
      expect(await ids({ op: 'all' }, [{ key: 'size', reverse: true }])).toEqual([budget, lunch, apples, reply]);
      expect(await ids({ op: 'all' }, [{ key: 'flag', flag: '\\Flagged', reverse: true }, { key: 'received', reverse: false }])).toEqual([lunch, budget, reply, apples]);

      const hits = await store.queryMessages(mailboxId, { filter: { op: 'all' }, sort: newest, offset: 0, limit: 10 });
      const threadOf = new Map(hits.map((hit) => [hit.id, hit.threadId]));
      expect(threadOf.get(reply)).toBe(threadOf.get(budget));
      expect(new Set(threadOf.values()).size).toBe(3);
      expect(await store.countMessages(mailboxId, { op: 'all' })).toBe(4);
      expect(await store.countMessages(mailboxId, { op: 'all' }, { threads: true })).toBe(3);
      expect(await store.countMessages(mailboxId, { op: 'text', tokens: ['budget'] }, { threads: true })).toBe(1);
      expect(await store.countMessages(other.mailboxId, { op: 'text', tokens: ['budget'] })).toBe(1);
    });

    it('searches lexemes ANDed, case-insensitively, Chinese bigrams and odd characters included', async () => {
      const { mailboxId, inbox, byName } = await mailboxWithFolders();
      const docs = [
        ['金笛', '笛邮', '邮件', '海淀', '财务报告', 'report', 'Q3'],
        ['金笛', '全文', '文检', '检索', 'Report'],
        ["it's", 'a&b', 'x:y', 'back\\slash', '!', '(paren)', 'budget'],
      ];
      // A blob per message: the keys are made from the blob, and the store may keep them per blob.
      for (const [i, tokens] of docs.entries()) {
        const b = await blob(`Subject: search ${i}\r\n\r\nx\r\n`);
        await store.append(mailboxId, { id: inbox }, message(b, { searchKeys: searchKeyList(tokens) }), { enforceQuota: true });
      }
      expect(await store.search(inbox, ['金笛'])).toEqual([1, 2]);
      expect(await store.search(inbox, ['金笛', '海淀'])).toEqual([1]);
      expect(await store.search(inbox, ['REPORT'])).toEqual([1, 2]);
      expect(await store.search(inbox, ['检索', 'report'])).toEqual([2]);
      expect(await store.search(inbox, ['海'])).toEqual([]);
      expect(await store.search(inbox, ["it's", 'a&b', 'x:y', 'back\\slash', '!', '(paren)'])).toEqual([3]);
      expect(await store.search(inbox, ['a'])).toEqual([]);
      expect(await store.search(inbox, [])).toEqual([1, 2, 3]);
      // A copy keeps its keys.
      const archive = await byName('Drafts');
      await store.copy(inbox, [{ from: 2, to: 3 }], archive);
      expect(await store.search(archive, ['检索'])).toEqual([1]);
      expect(await store.search(archive, ['budget', '!'])).toEqual([2]);
    });

    it('refuses a malformed key list and stores nothing', async () => {
      const { mailboxId, inbox } = await mailboxWithFolders();
      const b = await blob('Subject: keys\r\n\r\nx\r\n');
      for (const bad of ['1,,2', "1}'; DROP TABLE message; --", '-5']) {
        await expect(store.append(mailboxId, { id: inbox }, message(b, { searchKeys: bad }), { enforceQuota: true })).rejects.toThrow(/search key list/);
      }
      expect((await store.folderStatus(inbox)).messageCount).toBe(0);
      expect((await store.quota(mailboxId)).messageCount).toBe(0);
      await expectConsistent(mailboxId);
    });

    it('collects unreferenced blobs only after the grace period, never referenced ones', async () => {
      const { mailboxId, inbox } = await mailboxWithFolders();
      const kept = await blob(`kept ${randomBytes(8).toString('hex')}`);
      const droppedContent = Buffer.from(`dropped ${randomBytes(8).toString('hex')}`);
      const dropped = await blob(droppedContent);
      const orphan = await blob(`orphan ${randomBytes(8).toString('hex')}`);
      await store.append(mailboxId, { id: inbox }, message(kept), { enforceQuota: true });
      const r = await store.append(mailboxId, { id: inbox }, message(dropped), { enforceQuota: true });
      await store.setFlags(inbox, [{ from: r.uid, to: r.uid }], 'add', ['\\Deleted']);
      await store.expunge(inbox);
      expect(await h.blobRefcount(dropped.hash)).toBe(0);
      await store.collectGarbage();
      expect(await h.blobs.stat(dropped.hash)).not.toBeNull();
      expect(await h.blobs.stat(orphan.hash)).not.toBeNull();
      h.advanceClock(GC_GRACE_MS + 60_000);
      const gc = await store.collectGarbage();
      expect(gc.deleted).toBeGreaterThanOrEqual(2);
      expect(await h.blobs.stat(dropped.hash)).toBeNull();
      expect(await h.blobs.stat(orphan.hash)).toBeNull();
      expect(await h.blobRefcount(dropped.hash)).toBeNull();
      expect(await h.blobs.stat(kept.hash)).not.toBeNull();
      expect(await h.blobRefcount(kept.hash)).toBe(1);
      // A collected blob must be stored again before a message may point at it; then it comes back whole.
      await expect(store.append(mailboxId, { id: inbox }, message(dropped), { enforceQuota: true })).rejects.toBeInstanceOf(BlobNotStoredError);
      const back = await blob(droppedContent);
      expect(back.hash).toBe(dropped.hash);
      const again = await store.append(mailboxId, { id: inbox }, message(back), { enforceQuota: true });
      expect(await readAll(await store.getMessageSource(again.messageId))).toEqual(droppedContent);
    });

    it('publishes exists, flags, expunge and folders events after the change', async () => {
      const { mailboxId, inbox } = await mailboxWithFolders();
      const events: MailboxEvent[] = [];
      const unsubscribe = await h.notifier.subscribe(mailboxId, (e) => events.push(e));
      const b = await blob('Subject: notify\r\n\r\nx\r\n');
      const r = await store.append(mailboxId, { id: inbox }, message(b), { enforceQuota: true });
      const f = await store.setFlags(inbox, [{ from: r.uid, to: r.uid }], 'add', ['\\Deleted']);
      const x = await store.expunge(inbox);
      await store.createFolder(mailboxId, 'Notified');
      await waitFor(() => events.length >= 4);
      // Each folder event is the whole change from prevModseq, with the flags it left: they chain MODSEQ to MODSEQ.
      expect(events).toEqual([
        { type: 'exists', folderId: inbox, uids: [r.uid], modseq: r.modseq, prevModseq: r.modseq - 1, flags: [[]] },
        { type: 'flags', folderId: inbox, uids: [r.uid], modseq: f.highestModseq, prevModseq: r.modseq, flags: [['\\Deleted']] },
        { type: 'expunge', folderId: inbox, uids: [r.uid], modseq: x.modseq, prevModseq: f.highestModseq },
        { type: 'folders', folderId: null, uids: [], modseq: null },
      ]);
      await unsubscribe();
    });

    it('publishes copies and moves with the flags they arrive with, chained from the folders\' MODSEQs before', async () => {
      const { mailboxId, inbox } = await mailboxWithFolders();
      const target = (await store.createFolder(mailboxId, 'Chained')).id;
      const b = await blob('Subject: chained\r\n\r\nx\r\n');
      const one = await store.append(mailboxId, { id: inbox }, message(b, { flags: ['\\Seen', '$Work'] }), { enforceQuota: true });
      const two = await store.append(mailboxId, { id: inbox }, message(b), { enforceQuota: true });
      const events: MailboxEvent[] = [];
      const unsubscribe = await h.notifier.subscribe(mailboxId, (e) => events.push(e));
      const before = (await store.folderStatus(target)).highestModseq;
      const c = await store.copy(inbox, [{ from: one.uid, to: two.uid }], target);
      const m = await store.move(inbox, [{ from: two.uid, to: two.uid }], target);
      await waitFor(() => events.length >= 3);
      expect(events[0]).toEqual({
        type: 'exists', folderId: target, uids: c.map.map((x) => x.targetUid), modseq: c.modseq, prevModseq: before, flags: [['\\Seen', '$Work'], []],
      });
      expect(events.slice(1)).toEqual([
        { type: 'expunge', folderId: inbox, uids: [two.uid], modseq: m.sourceModseq, prevModseq: two.modseq },
        { type: 'exists', folderId: target, uids: [m.map[0].targetUid], modseq: m.modseq, prevModseq: c.modseq, flags: [[]] },
      ]);
      await unsubscribe();
    });
  });
}

export async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
