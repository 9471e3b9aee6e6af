import { MemoryBlobStore } from '../src/adapters/memory-blob-store';
import { MemoryMessageStore } from '../src/adapters/memory-message-store';
import { MemoryNotifier } from '../src/adapters/memory-notifier';
import { randomUUID } from 'node:crypto';
import { GC_GRACE_MS, describeMessageStore } from './message-store-suite';

describeMessageStore('MemoryMessageStore', async () => {
  let offset = 0;
  const blobs = new MemoryBlobStore();
  const notifier = new MemoryNotifier();
  const store = new MemoryMessageStore({ blobs, notifier, gcGraceMs: GC_GRACE_MS, now: () => new Date(Date.now() + offset) });
  return {
    store,
    blobs,
    notifier,
    advanceClock: (ms) => { offset += ms; },
    async createMailbox(quotaBytes) {
      const id = randomUUID();
      store.addMailbox(id, quotaBytes);
      return id;
    },
    blobRefcount: async (hash) => store.blobRefcount(hash),
    close: () => notifier.close(),
  };
});
