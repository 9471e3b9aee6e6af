import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '@dizi/mail-store/adapters/memory-blob-store';
import { MemoryMessageStore } from '@dizi/mail-store/adapters/memory-message-store';
import { MemoryNotifier } from '@dizi/mail-store/adapters/memory-notifier';
import type { ChangesSince } from '@dizi/mail-store/ports/message-store';
import type { MailboxEvent, MailboxEventHandler, Unsubscribe } from '@dizi/mail-store/ports/notifier';
import { ChangeFeed } from './change-feed';

/** The real memory store and notifier, counting the calls the feed is meant to save. */
class CountingStore extends MemoryMessageStore {
  queries = 0;
  override async changesSince(folderId: string, modseq: number): Promise<ChangesSince> {
    this.queries++;
    return super.changesSince(folderId, modseq);
  }
}

class CountingNotifier extends MemoryNotifier {
  subscriptions = 0;
  override async subscribe(mailboxId: string, handler: MailboxEventHandler): Promise<Unsubscribe> {
    this.subscriptions++;
    const unsubscribe = await super.subscribe(mailboxId, handler);
    return async () => {
      this.subscriptions--;
      await unsubscribe();
    };
  }
}

async function setup() {
  const notifier = new CountingNotifier();
  const store = new CountingStore({ blobs: new MemoryBlobStore(), notifier });
  store.addMailbox('m1', 1e9);
  const inbox = (await store.createDefaultFolders('m1')).find((f) => f.name === 'INBOX')!;
  const append = async () => {
    const blob = await store.putBlob(Readable.from([Buffer.from('Subject: x\r\n\r\nx\r\n')]));
    return store.append('m1', { id: inbox.id }, { blobHash: blob.hash, summary: null }, { enforceQuota: false });
  };
  return { notifier, store, inbox, append, feed: new ChangeFeed(store, notifier) };
}

describe('ChangeFeed', () => {
  it('serves every session of a mailbox from one subscription, and drops it with the last one', async () => {
    const { notifier, feed, append } = await setup();
    const seen: MailboxEvent[][] = [[], [], []];
    const stops = await Promise.all(seen.map((events) => feed.watch('m1', (e) => events.push(e))));
    expect(notifier.subscriptions).toBe(1);
    const added = await append();
    await new Promise((r) => setImmediate(r));
    for (const events of seen) expect(events).toMatchObject([{ type: 'exists', uids: [added.uid], modseq: added.modseq }]);
    await stops[0]();
    await stops[1]();
    expect(notifier.subscriptions).toBe(1);
    await stops[2]();
    expect(notifier.subscriptions).toBe(0);
    await feed.watch('m1', () => undefined);
    expect(notifier.subscriptions).toBe(1);
  });

  it('lets sessions reacting to an event share one query sent after it, never one sent before', async () => {
    const { store, feed, inbox, append } = await setup();
    const since = (await store.folderStatus(inbox.id)).highestModseq;
    const events: MailboxEvent[] = [];
    await feed.watch('m1', (e) => events.push(e));

    // A query under way before the event cannot answer for it.
    const early = feed.changesSince('m1', inbox.id, since, null);
    const added = await append();
    await new Promise((r) => setImmediate(r));
    expect(events.map((e) => e.modseq)).toEqual([added.modseq]);
    const shared = Array.from({ length: 50 }, () => feed.changesSince('m1', inbox.id, since, added.modseq));
    const results = await Promise.all(shared);
    expect(store.queries).toBe(2);
    for (const r of results) expect(r.changed.map((m) => m.uid)).toEqual([added.uid]);
    // It did not see the new message: sharing it would have lost the push.
    expect((await early).changed).toEqual([]);

    // A forced catch-up (NOOP) sends its own query even with one under way.
    const pending = feed.changesSince('m1', inbox.id, since, added.modseq);
    const forced = feed.changesSince('m1', inbox.id, since, null);
    await Promise.all([pending, forced]);
    expect(store.queries).toBe(4);
    // Finished queries are not reused.
    await feed.changesSince('m1', inbox.id, since, added.modseq);
    expect(store.queries).toBe(5);
  });
});
