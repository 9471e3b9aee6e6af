/** The messages of a FETCH, listed in batches of UIDs: each batch's query runs while the batch before it is written. */
import type { ListMessagesQuery, MessageRecord, MessageStore } from '@dizi/mail-store/ports/message-store';
import { toRanges } from './uid-ranges';

/** Rows per query: one round trip per 500 messages, and a bounded amount of them in memory at once. */
export const FETCH_BATCH = 500;

/** Listings in flight: the database works on the next ones while this process prints the current one. */
const PREFETCH = 2;

export class RecordBatches {
  private offset = 0;
  private readonly listed: Array<Promise<MessageRecord[]>> = [];

  constructor(
    private readonly store: MessageStore,
    private readonly folderId: string,
    private readonly uids: number[],
    private readonly query: Omit<ListMessagesQuery, 'uids' | 'seqs'>,
    private readonly size = FETCH_BATCH,
  ) {
    this.fill();
  }

  /** The next batch (ascending UIDs; messages expunged meanwhile are missing), or null after the last. */
  async take(): Promise<MessageRecord[] | null> {
    const current = this.listed.shift();
    if (!current) return null;
    this.fill();
    return current;
  }

  private fill(): void {
    while (this.listed.length < PREFETCH && this.offset < this.uids.length) {
      const chunk = this.uids.slice(this.offset, this.offset + this.size);
      this.offset += chunk.length;
      const listing = this.store.listMessages(this.folderId, { ...this.query, uids: toRanges(chunk) });
      // A prefetched batch may never be taken (the command failed before it): its failure must not go unhandled.
      listing.catch(() => undefined);
      this.listed.push(listing);
    }
  }
}
