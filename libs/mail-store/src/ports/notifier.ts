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
