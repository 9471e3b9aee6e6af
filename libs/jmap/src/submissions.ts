/**
 * Sending for EmailSubmission (RFC 8621 §7): the message goes through the same checks and spool as SMTP submission
 * (libs/delivery Submission). A refusal comes back as the RFC's SetError (forbiddenFrom, forbiddenMailFrom,
 * forbiddenToSend, invalidRecipients, noRecipients, tooManyRecipients, tooLarge), thrown as a SetError object.
 * A submission with a sendAt ahead is held in the spool until then (undoStatus `pending`, cancellable); the
 * submissions themselves are stored (EmailSubmission/get, /query, /changes) with a MODSEQ per change.
 */
export interface JmapSendRequest {
  mailboxId: string;
  /** The mailbox's own address. */
  address: string;
  mailFrom: string;
  rcptTo: string[];
  /** RFC 5322, CRLF, Bcc: removed. */
  message: Buffer;
  /** Held until then; absent: sent at once. */
  releaseAt?: Date | null;
}

export type UndoStatus = 'pending' | 'final' | 'canceled';

/** An EmailSubmission as stored (the JMAP object's properties). */
export interface StoredSubmission {
  id: string;
  identityId: string;
  emailId: string;
  threadId: string;
  envelope: { mailFrom: { email: string; parameters: null }; rcptTo: Array<{ email: string; parameters: null }> };
  sendAt: string;
  undoStatus: UndoStatus;
}

export interface SubmissionFilter {
  identityIds?: string[];
  emailIds?: string[];
  threadIds?: string[];
  undoStatus?: UndoStatus;
  before?: string;
  after?: string;
}

export interface SubmissionSort {
  property: 'emailId' | 'threadId' | 'sentAt';
  isAscending: boolean;
}

export interface JmapSender {
  /** The id of the spooled message. */
  send(req: JmapSendRequest): Promise<{ id: string }>;
  /** Stores a submission just spooled (its id is the spool message's). */
  record(mailboxId: string, submission: StoredSubmission): Promise<void>;
  /**
   * Marks `final` the account's pending submissions whose sendAt has passed (each a change), and `destroyed` those
   * past SUBMISSION_TTL_SECONDS; called before every read so reads agree with the spool.
   */
  settle(mailboxId: string): Promise<void>;
  /** The stored submissions among `ids` (unknown, expired or destroyed ones left out). */
  find(mailboxId: string, ids: string[]): Promise<StoredSubmission[]>;
  /** The state: the highest MODSEQ of the account's submissions ("0" with none). */
  state(mailboxId: string): Promise<string>;
  /** Ids matching, sorted; `total` over all that match. */
  query(mailboxId: string, filter: SubmissionFilter, sort: SubmissionSort[], position: number, limit: number): Promise<{ ids: string[]; total: number }>;
  /** What changed after `since` (a state), at most `max` ids; null when the state is not one this server gave. */
  changes(mailboxId: string, since: string, max: number): Promise<{ created: string[]; updated: string[]; destroyed: string[]; newState: string; hasMoreChanges: boolean } | null>;
  /** Cancels a pending submission: its held message is taken out of the spool, then undoStatus is `canceled`. */
  cancel(mailboxId: string, id: string): Promise<'canceled' | 'notPending' | 'notFound'>;
  /** Forgets a submission (the message is not affected); false when unknown. */
  destroy(mailboxId: string, id: string): Promise<boolean>;
}

/** Submissions stay visible this long after their sendAt (a pending one until it is sent). */
export const SUBMISSION_TTL_SECONDS = 7 * 86_400;
