/** Change notifications per mailbox, published after commit; IMAP IDLE, webmail live updates and webhooks listen. */

/**
 * `resync` is not published by anyone: a notifier hands it to every subscriber when it may have missed events (its
 * connection to the bus dropped and came back), so listeners re-read what they show instead of waiting for the next change.
 */
export type MailboxEventType = 'exists' | 'flags' | 'expunge' | 'folders' | 'resync';

export interface MailboxEvent {
  type: MailboxEventType;
  /** null for `folders` (the folder list changed: create, rename, delete, subscribe) and `resync`. */
  folderId: string | null;
  /** UIDs concerned; empty for `folders`. */
  uids: number[];
  /** The folder's HIGHESTMODSEQ after the change; null for `folders` and `resync`. */
  modseq: number | null;
  /**
   * When present, this event is the whole of the folder's change from `prevModseq` to `modseq` (one transaction, nothing
   * else in between), and `exists`/`flags` events carry `flags`: a listener holding an unbroken chain of such events from
   * its own MODSEQ may apply them without asking the store. Left out for very large changes (see EVENT_DETAIL_MAX_UIDS).
   */
  prevModseq?: number;
  /** With `prevModseq`, for `exists` and `flags`: each UID's flags after the change, in the order of `uids`. */
  flags?: string[][];
}

/** Changes of more messages than this are published without their detail (a bus message stays small); listeners query. */
export const EVENT_DETAIL_MAX_UIDS = 1000;

/** `prevModseq` and `flags` for an event when the change is small enough to carry them. */
export function eventDetail(prevModseq: number, uids: readonly number[], flags?: ReadonlyArray<readonly string[]>): Pick<MailboxEvent, 'prevModseq' | 'flags'> {
  if (uids.length > EVENT_DETAIL_MAX_UIDS) return {};
  return flags ? { prevModseq, flags: flags.map((f) => [...f]) } : { prevModseq };
}

export type MailboxEventHandler = (event: MailboxEvent) => void;
export type Unsubscribe = () => Promise<void>;

export interface Notifier {
  /** Best effort: a lost event only delays a client until its next poll, the database stays the truth. */
  publish(mailboxId: string, event: MailboxEvent): Promise<void>;
  /** Resolves once the subscription is active, so no event published afterwards is missed. */
  subscribe(mailboxId: string, handler: MailboxEventHandler): Promise<Unsubscribe>;
  close(): Promise<void>;
}
