/**
 * The spool as delivery sees it: spooled messages, their recipients and attempts, the auto-reply ledger and the mail
 * log. The PostgreSQL adapter (adapters/postgres/pg-spool-store.ts) holds the statements; the memory adapter
 * (adapters/memory/memory-spool-store.ts) runs delivery logic in unit tests. Row shapes keep the table's column names,
 * so moving a statement between logic and adapter changes no field access.
 */
import type { StoredBlob } from '@dizi/mail-store/ports/blob-store';
import type { MailLogEntry } from './mail-log';

export type FilterFolder = 'junk' | 'virus';

/** A spooled message (table spool_message). */
export interface SpoolMessageRow {
  id: string;
  blob_hash: string;
  size: string;
  mail_from: string;
  source: string;
  auth_mailbox_id: string | null;
  received_at: Date;
  env_id: string | null;
  dsn_ret: 'FULL' | 'HDRS' | null;
  summary: unknown;
  /** The search keys are in spool_message.search_keys (the summary then has none). */
  keys_spooled: boolean;
  done_at: Date | null;
  /** Content filter findings (filter-folder.ts): header lines for every copy, and Junk/Virus instead of INBOX. */
  filter_headers: string | null;
  filter_folder: FilterFolder | null;
}

/** A local recipient due for delivery (table spool_recipient). */
export interface DueRecipientRow {
  id: string;
  address: string;
  original_address: string | null;
  attempts: number;
  dsn_notify: string | null;
}

export interface SpooledSystemMail {
  spoolMessageId: string;
  /** Domains of its remote recipients (for outbound jobs); `hasLocal` when a delivery job is due. */
  remoteDomains: string[];
  hasLocal: boolean;
}

/** A spooled message as the outbound queue reads it. */
export interface OutboundMessageRow {
  id: string;
  blob_hash: string;
  size: string;
  mail_from: string;
  received_at: Date;
  /** A held message's release time (sendAt, FUTURERELEASE): its wait for delay notices counts from then. */
  release_at?: Date | null;
  env_id: string | null;
  dsn_ret: 'FULL' | 'HDRS' | null;
  done_at: Date | null;
  /** Message-ID header of the original, from its summary. */
  message_id_header: string | null;
}

/** A remote recipient an outbound job claimed. */
export interface ClaimedRecipient {
  id: string;
  address: string;
  original_address: string | null;
  attempts: number;
  dsn_notify: string | null;
  delay_notified: boolean;
  /** Envelope sender of this copy when not the message's (SRS-rewritten forward). */
  mail_from: string | null;
}

/** A DSN stored as a blob and ready to be spooled. */
export interface PreparedBounce {
  to: string;
  blobHash: string;
  size: number;
  summary: unknown;
  /** failed: a non-delivery report (maybe with other statuses); delayed: a delay notice; success: delivered/relayed only. */
  action: 'failed' | 'delayed' | 'success';
}

/** Outcome of one outbound attempt for one recipient. */
export interface OutboundAttempt {
  recipientId: string;
  /** delivered, deferred (due again after `retrySeconds`), bounced or failed. */
  status: 'delivered' | 'deferred' | 'bounced' | 'failed';
  reply: string;
  retrySeconds: number;
  /** A delay notice about this recipient is spooled in the same transaction. */
  delayNotified: boolean;
}

/** Work that commits together or not at all. */
export interface SpoolTransaction {
  /** Claims the auto-reply of `mailboxId` to `sender` unless one went out within `periodDays`; false: not ours to send. */
  claimAutoReply(mailboxId: string, sender: string, periodDays: number): Promise<boolean>;
  /** Spools mail the system sends (DSNs, auto-replies) with source `system`. */
  spoolSystemMail(blob: StoredBlob, mailFrom: string, recipients: string[], summary?: unknown): Promise<SpooledSystemMail>;
  /** queued/deferred → delivered; returns how many moved. */
  markDelivered(recipientIds: string[]): Promise<number>;
  /** queued/deferred → deferred, due again after `delaySeconds`. */
  defer(recipientId: string, delaySeconds: number, error: string): Promise<void>;
  /** queued/deferred → bounced; returns how many moved (0 or 1). */
  bounce(recipientId: string, error: string): Promise<number>;
  /** Marks the messages done whose recipients are all in a final state. */
  markDoneIfFinal(messageIds: string[]): Promise<void>;
  /** The outcome of an outbound attempt (any state to any state: the job holds the claim). */
  recordOutboundAttempt(attempt: OutboundAttempt): Promise<void>;
  /** Spools a DSN with the null sender and NOTIFY=NEVER; whether its one recipient is local decides local or outbound. */
  spoolBounce(bounce: PreparedBounce, reportingMta: string): Promise<{ id: string; local: boolean; domain: string }>;
  writeMailLog(entries: MailLogEntry[]): Promise<void>;
}

export interface SpoolStore {
  /** The messages with their local recipients due now (queued or deferred, next attempt reached), ordered by id. */
  messagesWithDueLocal(messageIds: string[]): Promise<Array<SpoolMessageRow & { due: DueRecipientRow[] | null }>>;
  /** Remote destinations found by expansion join the message as remote recipients (an existing one stays as it is). */
  addRemoteRecipients(messageId: string, recipients: Array<{ address: string; originalAddress: string; mailFrom: string | null }>): Promise<void>;
  /** Keeps a computed summary on the message, unless one is there already. */
  saveSummary(messageId: string, summary: unknown): Promise<void>;
  /** Whether `mailboxId` auto-replied to `sender` within `periodDays`. */
  autoReplySentWithin(mailboxId: string, sender: string, periodDays: number): Promise<boolean>;
  /**
   * In one atomic step: the recipients delivered, the messages of `messageIds` done unless another recipient is still
   * open, and the mail log records. Returns how many recipients moved, per message that moved any.
   */
  settleDelivered(recipientIds: string[], messageIds: string[], logs: MailLogEntry[]): Promise<Map<string, number>>;
  /** Same as SpoolTransaction.defer, on its own. */
  defer(recipientId: string, delaySeconds: number, error: string): Promise<void>;
  markDoneIfFinal(messageIds: string[]): Promise<void>;
  writeMailLog(entries: MailLogEntry[]): Promise<void>;
  transaction<T>(work: (tx: SpoolTransaction) => Promise<T>): Promise<T>;

  // The outbound queue ------------------------------------------------------------------------------------------
  outboundMessage(messageId: string): Promise<OutboundMessageRow | null>;
  /**
   * Claims the due remote recipients of a message at one domain for `leaseSeconds` (their next attempt moves past the
   * lease, so a duplicate job or the sweeper finds nothing); empty when none is due.
   */
  claimRemote(messageId: string, domain: string, leaseSeconds: number): Promise<ClaimedRecipient[]>;

  // The sweeper ---------------------------------------------------------------------------------------------------
  /** Messages with local recipients due for at least `graceSeconds`. */
  dueLocalMessages(graceSeconds: number, limit: number): Promise<string[]>;
  /** (message, domain) pairs with remote recipients due for at least `graceSeconds`, with their fewest attempts. */
  dueRemoteDestinations(graceSeconds: number, limit: number): Promise<Array<{ messageId: string; domain: string; attempts: number }>>;
  /** Marks done the messages older than `graceSeconds` with no open recipient; returns how many. */
  closeFinished(graceSeconds: number, limit: number): Promise<number>;
  /** Deletes messages done for longer than `retentionDays` (releasing their blobs); returns how many. */
  purgeDone(retentionDays: number, limit: number): Promise<number>;
}
