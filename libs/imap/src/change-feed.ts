/**
 * Change notifications shared by every session of a node: one notifier subscription per mailbox fans events out to
 * its sessions, and sessions catching up on a folder from the same MODSEQ share one store query. A thousand IDLE
 * sessions on one INBOX thus cost one subscription and, per new message, one query.
 */
import type { ChangesSince, MessageStore } from '@dizi/mail-store/ports/message-store';
import type { MailboxEvent, MailboxEventHandler, Notifier, Unsubscribe } from '@dizi/mail-store/ports/notifier';

interface Watched {
  listeners: Set<MailboxEventHandler>;
  subscribed: Promise<Unsubscribe>;
  /** Per folder: the highest MODSEQ an event announced. */
  announced: Map<string, number>;
}

interface PendingQuery {
  /** Highest event MODSEQ of the folder already received when the query was sent: the query sees those changes. */
  covers: number;
  result: Promise<ChangesSince>;
}

export class ChangeFeed {
  private readonly mailboxes = new Map<string, Watched>();
  private readonly queries = new Map<string, PendingQuery>();

  constructor(private readonly store: MessageStore, private readonly notifier: Notifier) {}

  /** Calls `listener` for every event of the mailbox until the returned function runs. */
  async watch(mailboxId: string, listener: MailboxEventHandler): Promise<Unsubscribe> {
    let watched = this.mailboxes.get(mailboxId);
    if (!watched) {
      const listeners = new Set<MailboxEventHandler>();
      const announced = new Map<string, number>();
      const subscribed = this.notifier.subscribe(mailboxId, (event) => this.dispatch(listeners, announced, event));
      watched = { listeners, subscribed, announced };
      this.mailboxes.set(mailboxId, watched);
      subscribed.catch(() => {
        if (this.mailboxes.get(mailboxId) === watched) this.mailboxes.delete(mailboxId);
      });
    }
    const entry = watched;
    entry.listeners.add(listener);
    await entry.subscribed;
    return async () => {
      if (!entry.listeners.delete(listener) || entry.listeners.size > 0) return;
      if (this.mailboxes.get(mailboxId) === entry) this.mailboxes.delete(mailboxId);
      const unsubscribe = await entry.subscribed;
      await unsubscribe();
    };
  }

  /**
   * Changes of a folder after `modseq`. With `mustSee` (the MODSEQ of an event the caller reacts to) the caller may
   * share a query already under way that was sent after that event arrived; without it (NOOP, CHECK: the client may
   * have just changed something elsewhere) it sends its own, which later callers may share.
   */
  changesSince(mailboxId: string, folderId: string, modseq: number, mustSee: number | null): Promise<ChangesSince> {
    const key = `${folderId}:${modseq}`;
    const pending = this.queries.get(key);
    if (pending && mustSee !== null && pending.covers >= mustSee) return pending.result;
    const covers = this.mailboxes.get(mailboxId)?.announced.get(folderId) ?? 0;
    const query: PendingQuery = { covers, result: this.store.changesSince(folderId, modseq) };
    this.queries.set(key, query);
    const done = () => {
      if (this.queries.get(key) === query) this.queries.delete(key);
    };
    query.result.then(done, done);
    return query.result;
  }

  private dispatch(listeners: Set<MailboxEventHandler>, announced: Map<string, number>, event: MailboxEvent): void {
    if (event.folderId !== null && event.modseq !== null) {
      announced.set(event.folderId, Math.max(announced.get(event.folderId) ?? 0, event.modseq));
    }
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A session's listener only marks it out of date; one failing must not starve the others.
      }
    }
  }
}
