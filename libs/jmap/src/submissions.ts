/**
 * Sending for EmailSubmission (RFC 8621 §7): the message goes through the same checks and spool as SMTP submission
 * (libs/delivery Submission). A refusal comes back as the RFC's SetError (forbiddenFrom, forbiddenMailFrom,
 * forbiddenToSend, invalidRecipients, noRecipients, tooManyRecipients, tooLarge), thrown as a SetError object.
 */
export interface JmapSendRequest {
  mailboxId: string;
  /** The mailbox's own address. */
  address: string;
  mailFrom: string;
  rcptTo: string[];
  /** RFC 5322, CRLF, Bcc: removed. */
  message: Buffer;
}

export interface JmapSender {
  /** The id of the spooled message. */
  send(req: JmapSendRequest): Promise<{ id: string }>;
  /** Keeps what EmailSubmission/get shows of a sent submission, for SUBMISSION_TTL_SECONDS. */
  remember(accountId: string, submission: Record<string, unknown> & { id: string }): Promise<void>;
  /** The remembered submissions among `ids` (unknown or expired ones left out). */
  find(accountId: string, ids: string[]): Promise<Array<Record<string, unknown> & { id: string }>>;
}

/** Sent submissions stay visible to EmailSubmission/get this long (undoStatus final: nothing changes after). */
export const SUBMISSION_TTL_SECONDS = 7 * 86_400;
