/**
 * Folders and messages of mailboxes: what SMTP delivery writes and IMAP, POP3 and webmail read.
 * Every mutating call is one transaction; UIDs and MODSEQs are allocated in order under a lock on the folder, and
 * quota usage changes in the same transaction. Notifications go out after commit.
 */
import type { Readable } from 'node:stream';
import type { SearchKeyList } from '@dizi/domain/search-key';
import type { BlobPutOptions, BlobRange, StoredBlob } from './blob-store';

export type SpecialUse = 'inbox' | 'sent' | 'drafts' | 'trash' | 'junk' | 'virus';
export const SPECIAL_USES: readonly SpecialUse[] = ['inbox', 'sent', 'drafts', 'trash', 'junk', 'virus'];

/** Created by createDefaultFolders, in this order. */
export const DEFAULT_FOLDERS: ReadonlyArray<{ name: string; specialUse: SpecialUse }> = [
  { name: 'INBOX', specialUse: 'inbox' },
  { name: 'Sent', specialUse: 'sent' },
  { name: 'Drafts', specialUse: 'drafts' },
  { name: 'Trash', specialUse: 'trash' },
  { name: 'Junk', specialUse: 'junk' },
  { name: 'Virus', specialUse: 'virus' },
];

/** Folder names are full paths in UTF-8 with this delimiter; modified UTF-7 is the IMAP layer's business. */
export const FOLDER_DELIMITER = '/';
export const INBOX = 'INBOX';

export interface Folder {
  id: string;
  mailboxId: string;
  name: string;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  messageCount: number;
  unseenCount: number;
  sizeBytes: number;
}

/** A folder by id or by full name (INBOX in any case). */
export type FolderRef = { id: string } | { name: string };

/** Header fields pre-parsed for SORT/THREAD and listings (RFC 5256 base subject computed by the caller). */
export interface SortFields {
  subject?: string | null;
  baseSubject?: string | null;
  from?: string | null;
  to?: string | null;
  cc?: string | null;
  sentDate?: Date | null;
  messageId?: string | null;
  inReplyTo?: string | null;
  references?: string[];
  attachmentNames?: string[];
}

export interface NewMessage {
  /** A blob stored through MessageStore.putBlob (its row is leased there; a bare BlobStore.put is not enough). */
  blobHash: string;
  /** Per-recipient header lines served before the blob (Delivered-To, X-Spam-*), each ending in CRLF. */
  headerPrefix?: string;
  flags?: string[];
  internalDate?: Date;
  /** Parsed envelope, body structure and part offsets (libs/mime), stored as JSON as given. */
  summary: unknown;
  sortFields?: SortFields;
  /**
   * The message's search lexemes (words, their pieces, CJK bigrams: libs/mime search-tokens.ts) as 53-bit keys
   * (libs/domain search-key.ts), made where the message was summarised; `search` finds the messages holding keys.
   * Or where PostgreSQL holds them for a spooled message, for the PostgreSQL store to copy without reading them.
   * They are made from the blob alone (never the header prefix): the PostgreSQL store keeps one set per blob, the
   * first given for it (blob_search), which every copy of the blob shares.
   */
  searchKeys?: SearchKeyList | SpooledSearchKeys;
  /** Idempotency key of one (inbound message, recipient) delivery: a second append with it is a no-op. */
  deliveryKey?: string;
}

/** The keys kept with a spooled message (spool_message.search_keys; libs/delivery spool-summary.ts). */
export interface SpooledSearchKeys {
  spoolMessageId: string;
}

export interface AppendOptions {
  enforceQuota: boolean;
}

export interface AppendResult {
  messageId: string;
  folderId: string;
  uid: number;
  uidValidity: number;
  modseq: number;
  /** Octets as served: header prefix + blob. */
  size: number;
  /** True when the delivery key was already delivered; the fields describe the earlier message. */
  duplicate: boolean;
}

export interface Delivery {
  mailboxId: string;
  folder: FolderRef;
  message: NewMessage;
  enforceQuota: boolean;
}

export type DeliveryOutcome = ({ ok: true } & AppendResult) | { ok: false; error: MailStoreError };

/** Inclusive; IMAP `*` is resolved by the caller (uidNext - 1 or the message count). */
export interface NumberRange {
  from: number;
  to: number;
}

export interface ListMessagesQuery {
  uids?: NumberRange[];
  /** Sequence numbers as the store sees the folder now (1 = lowest UID); sessions with pending EXPUNGEs keep their own map. */
  seqs?: NumberRange[];
  /** Only messages whose MODSEQ is greater (CONDSTORE FETCH CHANGEDSINCE). */
  changedSince?: number;
  /** Default true; FETCH FLAGS does not need it. */
  withSummary?: boolean;
  withSortFields?: boolean;
  /** The per-recipient header prefix with each record, so readMessage needs no query per message (FETCH of bodies). */
  withSource?: boolean;
  /** ENVELOPE and BODYSTRUCTURE as rendered at delivery, so FETCH needs no summary for them. */
  withImapFormat?: boolean;
  /** The message's thread id (JMAP). */
  withThreadId?: boolean;
}

/** IMAP ENVELOPE and BODYSTRUCTURE of a message as byte strings (libs/mime imap-format.ts), rendered once when stored. */
export interface ImapFormat {
  envelope: string;
  bodyStructure: string;
}

export interface MessageRecord {
  id: string;
  uid: number;
  /** Present when the query asked for sequence numbers. */
  seq?: number;
  modseq: number;
  flags: string[];
  size: number;
  internalDate: Date;
  blobHash: string;
  summary?: unknown;
  sortFields?: SortFields;
  /** With `withSource`. */
  headerPrefix?: string;
  /** With `withImapFormat`; null for a message stored before they were rendered (render it from the summary). */
  imapFormat?: ImapFormat | null;
  /**
   * With `withThreadId` (always from messagesById): the id of the first message of its thread, kept per message from
   * its delivery: the thread of the oldest message of the same mailbox its Message-ID, In-Reply-To or References
   * name, else its own id. A thread is never split or merged later.
   */
  threadId?: string;
}

export type FlagMode = 'add' | 'remove' | 'replace';

/**
 * A SEARCH (RFC 9051 §6.4.4) as the store answers it, from its columns and indexes. Keys that depend on one session's
 * view (sequence numbers, \Recent, the saved result `$`) and TEXT/BODY arrive as UID sets the caller resolved; HEADER
 * only for the fields of search-fields.ts INDEXED_HEADER_FIELDS (value lower-cased by the caller; '' = has the field).
 */
export type StoreSearch =
  | { op: 'all' }
  | { op: 'and'; keys: StoreSearch[] }
  | { op: 'or'; a: StoreSearch; b: StoreSearch }
  | { op: 'not'; key: StoreSearch }
  | { op: 'flag'; flag: string; set: boolean }
  | { op: 'uids'; ranges: NumberRange[] }
  | { op: 'size'; larger: boolean; n: number }
  | { op: 'modseq'; n: number }
  /** `day`: UTC midnight in ms; internal dates compare by their UTC day, sent dates by the day their Date header names. */
  | { op: 'date'; field: 'internal' | 'sent'; cmp: 'before' | 'on' | 'since'; day: number }
  | { op: 'header'; field: string; value: string };

/** RFC 5256 SORT keys, with SORT=DISPLAY's (RFC 5957). */
export type SortKey = 'arrival' | 'cc' | 'date' | 'from' | 'size' | 'subject' | 'to' | 'displayfrom' | 'displayto';
export interface SortCriterion {
  key: SortKey;
  reverse: boolean;
}

export interface SearchHit {
  uid: number;
  modseq: number;
  /** With `withThreadKeys`: what THREAD (RFC 5256) reads of the message. */
  thread?: ThreadKeys;
}

export interface ThreadKeys {
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  /** The decoded Subject, and its base subject upper-cased (search-fields.ts). */
  subject: string | null;
  baseSubject: string;
  /** The Date header's time in ms, or the internal date's. */
  sentTime: number;
}

export interface SetFlagsResult {
  /** Messages whose flags actually changed, with their new MODSEQ (one per call). */
  changed: Array<{ uid: number; modseq: number; flags: string[] }>;
  /** CONDSTORE UNCHANGEDSINCE: UIDs whose MODSEQ was greater, left untouched (the MODIFIED response code). */
  failed: number[];
  highestModseq: number;
}

export interface CopyResult {
  /** Of the target folder (COPYUID). */
  uidValidity: number;
  map: Array<{ sourceUid: number; targetUid: number }>;
  /** Target folder's HIGHESTMODSEQ after the copy. */
  modseq: number;
}

export interface MoveResult extends CopyResult {
  /** Source folder's HIGHESTMODSEQ after the move (the tombstones' MODSEQ). */
  sourceModseq: number;
}

export interface ExpungeResult {
  uids: number[];
  modseq: number;
}

/** What SELECT / EXAMINE announce, read in one consistent snapshot without loading every message. */
export interface FolderView {
  folder: Folder;
  /** The folder's UIDs, ascending, as runs of consecutive UIDs (a folder without gaps is one run). */
  uidRuns: NumberRange[];
  /** Lowest UID without \Seen, null when every message is seen. */
  firstUnseenUid: number | null;
  /** Keywords (flags without a leading backslash) set on any message of the folder. */
  keywords: string[];
}

export interface ChangesSince {
  /** With their thread ids. */
  changed: MessageRecord[];
  /** Expunged (or moved away) UIDs whose tombstone is newer than the given MODSEQ: QRESYNC VANISHED. */
  vanished: number[];
  /**
   * The same, with each message's id and the tombstone's MODSEQ (JMAP Email/changes names destroyed messages by id);
   * `messageId` is null for tombstones written before ids were kept.
   */
  vanishedMessages: VanishedMessage[];
  highestModseq: number;
}

export interface VanishedMessage {
  uid: number;
  messageId: string | null;
  modseq: number;
  /** The thread of an expunged message; null for a message moved away (it is in its thread still) and older tombstones. */
  threadId?: string | null;
}

/** A message found by id (JMAP): the record and the folder it is in now. */
export interface LocatedMessage extends MessageRecord {
  folderId: string;
}

export interface QuotaUsage {
  usedBytes: number;
  messageCount: number;
  quotaBytes: number;
}

/**
 * A JMAP Email/query filter over a whole mailbox, answered from the message rows and indexes. The SEARCH keys that
 * mean the same across folders (flags, size, indexed headers) plus: the folders a message is in, exact received
 * instants, having an attachment, and full-text lexemes (as `search` takes them).
 */
export type MailboxSearch =
  | { op: 'all' }
  | { op: 'and'; keys: MailboxSearch[] }
  | { op: 'or'; keys: MailboxSearch[] }
  | { op: 'not'; key: MailboxSearch }
  | Extract<StoreSearch, { op: 'flag' | 'size' | 'header' }>
  | { op: 'folders'; ids: string[] }
  /** `before`: internal date < at; `since`: internal date >= at. */
  | { op: 'received'; cmp: 'before' | 'since'; at: Date }
  | { op: 'attachment'; has: boolean }
  /** A message with an attachment whose file name contains `value` (lower case), anywhere in the name. */
  | { op: 'attachmentName'; value: string }
  /** Messages holding the keys of every lexeme (the full-text index); no lexeme matches every message. */
  | { op: 'text'; tokens: string[] };

/**
 * Sort keys of a mailbox query: received (internal date), size, the RFC 5256 / SORT=DISPLAY forms of from, to and
 * subject (search-fields.ts `s`), sent (Date header, else the internal date), and having a flag.
 */
export type MailboxSortKey = 'received' | 'size' | 'from' | 'to' | 'subject' | 'sent' | 'flag';
export interface MailboxSort {
  key: MailboxSortKey;
  /** With `flag`. */
  flag?: string;
  reverse: boolean;
}

export interface MailboxQuery {
  filter: MailboxSearch;
  /** Ties by message id, in the direction of the first key (newest first when it is reversed). */
  sort: MailboxSort[];
  offset: number;
  /** null: every match (ids only are sent, but prefer a window). */
  limit: number | null;
}

/** One match of a mailbox query: the message's id and its thread's. */
export interface MailboxHit {
  id: string;
  threadId: string;
}

export interface GarbageCollection {
  deleted: number;
}

export interface MessageStore {
  /**
   * Writes a blob, streamed or whole (a Buffer, unchanged until this settles), and leases its row for the grace
   * period; append must follow within it.
   */
  putBlob(content: Readable | Buffer, opts?: Pick<BlobPutOptions, 'maxBytes'>): Promise<StoredBlob>;

  createDefaultFolders(mailboxId: string): Promise<Folder[]>;
  listFolders(mailboxId: string): Promise<Folder[]>;
  getFolder(mailboxId: string, ref: FolderRef): Promise<Folder>;
  /** Missing parents are created too. FolderExistsError, InvalidFolderNameError. */
  createFolder(mailboxId: string, name: string, opts?: { specialUse?: SpecialUse; subscribed?: boolean }): Promise<Folder>;
  /** Children move along; renaming INBOX moves its messages to a new folder and leaves INBOX empty (RFC 3501). */
  renameFolder(mailboxId: string, ref: FolderRef, newName: string): Promise<Folder>;
  /** Refused for INBOX and for folders with children; messages go with it, their quota is given back. */
  deleteFolder(mailboxId: string, ref: FolderRef): Promise<void>;
  /**
   * A subscription outlives its folder (RFC 3501 §6.3.6): deleting a subscribed folder, or subscribing a name by
   * `{ name }` that has no folder, keeps the name as a detached subscription until it is unsubscribed or created.
   */
  setSubscribed(mailboxId: string, ref: FolderRef, subscribed: boolean): Promise<void>;
  /** Subscribed names with no folder (LIST-EXTENDED answers them \NonExistent), sorted. */
  listDetachedSubscriptions(mailboxId: string): Promise<string[]>;
  folderStatus(folderId: string): Promise<Folder>;
  quota(mailboxId: string): Promise<QuotaUsage>;

  /** QuotaExceededError, FolderNotFoundError, BlobNotFoundError. */
  append(mailboxId: string, folder: FolderRef, message: NewMessage, opts: AppendOptions): Promise<AppendResult>;
  /** One transaction for a message delivered to many mailboxes; each delivery succeeds or fails on its own. */
  appendMany(deliveries: Delivery[]): Promise<DeliveryOutcome[]>;

  /** FolderNotFoundError. */
  viewFolder(mailboxId: string, ref: FolderRef): Promise<FolderView>;
  listMessages(folderId: string, query?: ListMessagesQuery): Promise<MessageRecord[]>;
  /** Header prefix followed by the blob; the range applies to that whole stream. MessageNotFoundError. */
  getMessageSource(messageId: string, range?: BlobRange): Promise<Readable>;
  /**
   * The same bytes in one buffer; a record listed `withSource` is read without a query (FETCH reads thousands in a
   * row). MessageNotFoundError, BlobNotFoundError.
   */
  readMessage(record: MessageRecord, range?: BlobRange): Promise<Buffer>;
  setFlags(folderId: string, uids: NumberRange[], mode: FlagMode, flags: string[], opts?: { unchangedSince?: number }): Promise<SetFlagsResult>;
  copy(folderId: string, uids: NumberRange[], targetFolderId: string, opts?: { enforceQuota?: boolean }): Promise<CopyResult>;
  move(folderId: string, uids: NumberRange[], targetFolderId: string): Promise<MoveResult>;
  /** Removes the \Deleted messages (among `uids` when given). */
  expunge(folderId: string, uids?: NumberRange[]): Promise<ExpungeResult>;
  /**
   * UIDs (ascending) of messages whose keys include those of every lexeme (case-folded as indexed). Two lexemes may
   * share a key (rarely): a caller that needs certainty checks the text.
   */
  search(folderId: string, tokens: string[]): Promise<number[]>;
  /**
   * The messages matching a SEARCH, in ascending UID order, or in `sort` order (ties by UID) for SORT; answered
   * without reading any message. FolderNotFoundError.
   */
  searchMessages(folderId: string, query: StoreSearch, opts?: { sort?: SortCriterion[]; withThreadKeys?: boolean }): Promise<SearchHit[]>;
  /** One consistent snapshot: `changed` holds no change newer than `highestModseq`. */
  changesSince(folderId: string, modseq: number): Promise<ChangesSince>;
  /** Messages of one mailbox by id, in whatever folder they are now, in the order asked; unknown ids are left out. */
  messagesById(mailboxId: string, ids: string[], query?: Pick<ListMessagesQuery, 'withSummary' | 'withSortFields' | 'withSource'>): Promise<LocatedMessage[]>;
  /** The messages of each thread (JMAP Thread/get), oldest first by internal date; threads without messages are left out. */
  threadMessages(mailboxId: string, threadIds: string[]): Promise<Array<{ threadId: string; messageIds: string[] }>>;

  /**
   * JMAP Email/query: a window of the mailbox's messages matching `filter`, in `sort` order, answered from the rows
   * and indexes (a first page of a large mailbox reads about one page of rows).
   */
  queryMessages(mailboxId: string, query: MailboxQuery): Promise<MailboxHit[]>;
  /** How many messages match, or how many threads they fall in. */
  countMessages(mailboxId: string, filter: MailboxSearch, opts?: { threads?: boolean }): Promise<number>;

  /** Deletes blobs unreferenced for longer than the grace period. */
  collectGarbage(): Promise<GarbageCollection>;
  /**
   * Folds the search keys of messages stored since the last call into the search index in one bulk merge (run every
   * few seconds by the scheduler; a store that indexes at once has nothing to do). Returns the units merged (pages).
   */
  mergeSearchIndex(): Promise<number>;
}

/** Base of every store error; `imapCode`/`smtpCode` are the wire answers, mapped once at the protocol boundary. */
export abstract class MailStoreError extends Error {
  abstract readonly code: string;
}

/** Over quota: SMTP 552 5.2.2 (452 4.2.2 if the caller prefers a retry), IMAP NO [OVERQUOTA] (RFC 9208). */
export class QuotaExceededError extends MailStoreError {
  readonly code = 'QUOTA_EXCEEDED';
  readonly smtpCode = 552;
  readonly imapCode = 'OVERQUOTA';
  constructor(readonly mailboxId: string, readonly neededBytes: number, readonly usedBytes: number, readonly quotaBytes: number) {
    super(`mailbox is over quota: ${usedBytes} + ${neededBytes} bytes exceeds the quota of ${quotaBytes} bytes`);
    this.name = 'QuotaExceededError';
  }
}

/** IMAP NO [NONEXISTENT]; SMTP delivery falls back to INBOX. */
export class FolderNotFoundError extends MailStoreError {
  readonly code = 'FOLDER_NOT_FOUND';
  readonly imapCode = 'NONEXISTENT';
  constructor(readonly folder: string) {
    super(`folder ${folder} does not exist`);
    this.name = 'FolderNotFoundError';
  }
}

/** IMAP NO [ALREADYEXISTS]. */
export class FolderExistsError extends MailStoreError {
  readonly code = 'FOLDER_EXISTS';
  readonly imapCode = 'ALREADYEXISTS';
  constructor(readonly folder: string) {
    super(`folder ${folder} already exists`);
    this.name = 'FolderExistsError';
  }
}

/** Empty segments, control characters, too long, or renaming into itself: IMAP NO [CANNOT]. */
export class InvalidFolderNameError extends MailStoreError {
  readonly code = 'INVALID_FOLDER_NAME';
  readonly imapCode = 'CANNOT';
  constructor(readonly folder: string, readonly reason: string) {
    super(`folder name ${JSON.stringify(folder)} is not allowed: ${reason}`);
    this.name = 'InvalidFolderNameError';
  }
}

/** Deleting INBOX, a folder with children, or a special-use clash: IMAP NO [CANNOT] / [INUSE]. */
export class FolderOperationError extends MailStoreError {
  readonly code = 'FOLDER_OPERATION_REFUSED';
  readonly imapCode = 'CANNOT';
  constructor(readonly folder: string, reason: string) {
    super(`folder ${folder}: ${reason}`);
    this.name = 'FolderOperationError';
  }
}

export class MessageNotFoundError extends MailStoreError {
  readonly code = 'MESSAGE_NOT_FOUND';
  readonly imapCode = 'NONEXISTENT';
  constructor(readonly messageId: string) {
    super(`message ${messageId} does not exist`);
    this.name = 'MessageNotFoundError';
  }
}

/** The blob row is missing: store blobs through MessageStore.putBlob before appending. */
export class BlobNotStoredError extends MailStoreError {
  readonly code = 'BLOB_NOT_STORED';
  constructor(readonly hash: string) {
    super(`blob ${hash} is not stored; write it through MessageStore.putBlob first`);
    this.name = 'BlobNotStoredError';
  }
}

export class MailboxNotFoundError extends MailStoreError {
  readonly code = 'MAILBOX_NOT_FOUND';
  constructor(readonly mailboxId: string) {
    super(`mailbox ${mailboxId} does not exist`);
    this.name = 'MailboxNotFoundError';
  }
}
