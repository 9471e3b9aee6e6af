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
}
