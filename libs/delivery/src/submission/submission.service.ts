/**
 * Submission as a library service: a signed-in user's message, from any front end (SMTP submission's checks, the
 * JMAP EmailSubmission of a later task), checked as the submission ports check it and written through the same
 * spool writer, so DKIM signing, outbound routing, retries and DSNs are the outbound queue's as for SMTP mail.
 * Checks, in SMTP's order: sender (never null; the user's mailbox, an alias of it or a send-as grant), the user's
 * mailbox accepting mail, the daily send limit, the recipient count, each recipient (unknown, full, refused by a
 * group's posting policy), the size, and every From: address. A refusal carries its SMTP code (SmtpReplyError).
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import { addressKey } from '@dizi/domain/lookup-key';
import { fromAddresses } from '@dizi/smtp/inbound/checks/from-header.check';
import type { RecipientDirectory, SpoolRecipient, SpoolWriter } from '@dizi/smtp/inbound/ports';
import { defer, reject, SmtpReplyError, type Refusal } from '@dizi/smtp/inbound/verdict';

export interface SubmissionUser {
  mailboxId: string;
  /** The mailbox's own address (stored form). */
  address: string;
}

export interface SubmissionEnvelope {
  mailFrom: string;
  rcptTo: string[];
}

export interface SubmitRequest {
  user: SubmissionUser;
  envelope: SubmissionEnvelope;
  /** The whole RFC 5322 message, CRLF line ends. */
  message: Buffer;
  /** Where it came from, for the spool row and the Received line's peer: `jmap`, `api`… (default `api`). */
  via?: string;
  clientIp?: string;
  /** Held in the spool until then (JMAP sendAt, SMTP FUTURERELEASE); absent: sent at once. */
  releaseAt?: Date | null;
}

export interface SubmissionDeps {
  directory: RecipientDirectory;
  spool: SpoolWriter;
  settings: () => SmtpSettings;
}

const refuse = (r: Refusal): never => {
  throw new SmtpReplyError(r);
};

/** The From: field values of a header block, unfolded; `truncated` when the block has no end (unreadable). */
function fromValues(message: Buffer): string[] {
  const end = message.indexOf('\r\n\r\n');
  const head = (end < 0 ? message : message.subarray(0, end)).toString('latin1');
  return head
    .replace(/\r\n[ \t]/g, ' ')
    .split('\r\n')
    .filter((line) => /^from\s*:/i.test(line))
    .map((line) => Buffer.from(line.slice(line.indexOf(':') + 1), 'latin1').toString('utf8').trim());
}

export class Submission {
  constructor(private readonly deps: SubmissionDeps) {}

  /** Spools the message for its recipients once every check passed; returns the spool message id. */
  async submit(req: SubmitRequest): Promise<{ id: string; size: number }> {
    const { directory } = this.deps;
    const settings = this.deps.settings();
    const { user } = req;
    const mailFrom = addressKey(req.envelope.mailFrom ?? '');

    // MAIL
    if (!mailFrom) refuse(reject(553, '5.7.1', 'Null sender is not accepted from signed-in users'));
    if (!(await directory.resolveSender(mailFrom, user.mailboxId)).owned) {
      refuse(reject(553, '5.7.1', `Sender address rejected: not owned by user ${user.address}`));
    }
    const own = await directory.resolveRecipient(addressKey(user.address));
    if (own.kind !== 'local' || own.mailbox?.id !== user.mailboxId) refuse(reject(550, '5.7.1', `Mailbox ${user.address} may not send mail now`));
    const { limit, sentToday } = await directory.sendAllowance(user.mailboxId);
    if (limit !== null && sentToday >= limit) refuse(defer(450, '4.7.1', `Daily sending limit of ${limit} messages reached, try again tomorrow`));

    // RCPT
    const rcpts = [...new Set(req.envelope.rcptTo.map((r) => addressKey(r)))];
    if (rcpts.length === 0) refuse(reject(554, '5.5.1', 'No valid recipients'));
    if (rcpts.length > settings.maxRecipients) refuse(defer(452, '4.5.3', `Too many recipients (at most ${settings.maxRecipients})`));
    const size = req.message.length;
    const recipients: SpoolRecipient[] = [];
    for (const address of rcpts) {
      const r = await directory.resolveRecipient(address);
      if (r.kind === 'unavailable') refuse(reject(550, '5.1.1', `${address}: recipient address rejected: user unknown`));
      if (r.kind === 'local') {
        if (r.mailbox && r.mailbox.usedBytes + size > r.mailbox.quotaBytes) refuse(defer(452, '4.2.2', `${address}: mailbox full`));
        if (r.target !== 'mailbox') {
          const e = await directory.expandRecipient(address, { address: mailFrom, authenticated: true }, { maxGroupMembers: settings.rcptExpansionMaxMembers });
          const policy = e.failures.find((f) => f.status === '5.7.1');
          if (policy) refuse(reject(550, '5.7.1', `${address}: ${policy.reason}`));
          if (!e.partial && e.mailboxes.length === 0 && e.remotes === 0) refuse(reject(550, '5.1.1', `${address}: recipient address rejected: user unknown`));
          if (!e.partial && e.mailboxes.length > 0 && e.remotes === 0 && e.mailboxes.every((m) => m.usedBytes + size > m.quotaBytes)) {
            refuse(defer(452, '4.2.2', `${address}: mailbox full`));
          }
        }
      }
      recipients.push({
        address, kind: r.kind === 'local' ? 'local' : 'remote', domain: r.domain, tenantId: r.kind === 'local' ? r.tenantId : null,
        dsnNotify: null, originalAddress: null,
      });
    }

    // DATA
    if (size > settings.maxMessageBytes) refuse(reject(552, '5.3.4', `Message too big (at most ${settings.maxMessageBytes} bytes)`));
    const from = fromAddresses(fromValues(req.message));
    if (from === null) refuse(reject(553, '5.7.1', `From: header address rejected: not owned by user ${user.address}`));
    for (const address of from!) {
      if (!(await directory.resolveSender(addressKey(address), user.mailboxId)).owned) {
        refuse(reject(553, '5.7.1', `From: header address rejected: not owned by user ${user.address}`));
      }
    }

    const receipt = await this.deps.spool.spool({
      id: randomUUID(), source: 'submission', sessionId: `${req.via ?? 'api'}-${randomUUID()}`, clientIp: req.clientIp ?? '127.0.0.1',
      helo: req.via ?? 'api', mailFrom, authMailboxId: user.mailboxId, recipients, maxBytes: settings.maxMessageBytes,
      envId: null, dsnRet: null, releaseAt: req.releaseAt ?? null,
    }, Readable.from([req.message]));
    // Committed: hand it to the queues (never throws; the sweeper covers a lost enqueue).
    await receipt.enqueue();
    return { id: receipt.id, size: receipt.size };
  }
}
