/**
 * Delivery status notifications (RFC 3464): a multipart/report with a human-readable part (English and Chinese),
 * the machine-readable message/delivery-status and the returned message (headers only, or whole for RET=FULL).
 * Pure: callers spool the result with the null sender, so a DSN never causes another DSN.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { encodeWords } from 'nodemailer/lib/mime-funcs';

export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';

export interface DsnRecipient {
  /** The address the status is about (after alias expansion). */
  finalRecipient: string;
  /** The address as the sender gave it in RCPT TO, when it differs: an address, or ORCPT's `type;address` as received. */
  originalRecipient?: string | null;
  action: DsnAction;
  /** Enhanced status code (RFC 3463), e.g. `5.1.1`; anything else becomes the action's basic class. */
  status: string;
  /** The server's reply, e.g. `550 5.1.1 no such user`; sent as `smtp; <reply>`. */
  diagnostic?: string | null;
  remoteMta?: string | null;
  lastAttemptDate?: Date | null;
  willRetryUntil?: Date | null;
}

export interface DsnInput {
  /** Our host name, for Reporting-MTA and the From address. */
  reportingMta: string;
  /** Envelope sender of the original message: the DSN's only recipient. */
  to: string;
  recipients: DsnRecipient[];
  /** The original's header block (readHeaderBlock), returned as text/rfc822-headers when no whole message is given. */
  originalHeaders: Buffer;
  /** The whole original (RET=FULL, small enough to return), as message/rfc822. */
  originalMessage?: Buffer | null;
  originalMessageId?: string | null;
  envId?: string | null;
  arrivalDate?: Date | null;
  date?: Date;
}

export interface BuiltDsn {
  raw: Buffer;
  messageId: string;
  subject: string;
  /** Envelope sender to use: always null (RFC 3464 §2, RFC 5321 §4.5.5). */
  mailFrom: '';
}

const MAX_LINE = 900;

/** Anything echoed back from elsewhere is flattened: no line breaks, no 8-bit, no overlong lines. */
function oneLine(value: string): string {
  return value.replace(/\s*[\r\n]+\s*/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim().slice(0, MAX_LINE);
}

function rfc5322Date(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

const STATUS = /^[245]\.\d{1,3}\.\d{1,3}$/;

function statusOf(r: DsnRecipient): string {
  const status = r.status.trim();
  if (STATUS.test(status)) return status;
  return r.action === 'failed' ? '5.0.0' : r.action === 'delayed' ? '4.0.0' : '2.0.0';
}

/** Enhanced status of an SMTP reply: its own when the class agrees with the reply code, else the basic class. */
export function statusFromReply(code: number | undefined, reply: string): string {
  const klass = code && code >= 200 && code < 600 ? Math.floor(code / 100) : 4;
  const m = /(?:^|\s)([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)/.exec(reply);
  if (m && Number(m[1]) === klass) return `${m[1]}.${m[2]}.${m[3]}`;
  return `${klass === 3 ? 4 : klass}.0.0`;
}

function addressType(address: string): string {
  return /[\u0080-\uffff]/.test(address) ? 'utf-8' : 'rfc822';
}

/** `rfc822;a@b.example` (ORCPT as received) or a bare address, as a DSN field's `type; address`. */
function typedAddress(value: string): { type: string; address: string } {
  const m = /^([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+);(.+)$/.exec(value);
  if (m && !m[1].includes('@')) return { type: m[1].toLowerCase(), address: m[2].trim() };
  return { type: addressType(value), address: value };
}

function subjectFor(recipients: DsnRecipient[]): string {
  if (recipients.every((r) => r.action === 'delayed')) return 'Delayed Mail (still being retried) / 邮件延迟投递通知';
  if (recipients.some((r) => r.action === 'failed')) return 'Undelivered Mail Returned to Sender / 退信通知';
  return 'Delivery Status Notification / 投递状态通知';
}

function humanText(input: DsnInput): string {
  const failed = input.recipients.filter((r) => r.action === 'failed');
  const delayed = input.recipients.filter((r) => r.action === 'delayed');
  const delivered = input.recipients.filter((r) => r.action === 'delivered');
  const passedOn = input.recipients.filter((r) => r.action === 'relayed' || r.action === 'expanded');
  const line = (r: DsnRecipient) => `<${oneLine(r.finalRecipient)}>: ${r.diagnostic ? oneLine(r.diagnostic) : `status ${statusOf(r)}`}`;
  const lines = [`This is the mail system at host ${oneLine(input.reportingMta)}.`, ''];
  if (failed.length > 0) {
    lines.push('I am sorry: your message could not be delivered to the recipients below.', '很抱歉，您的邮件无法投递给以下收件人。', '');
    for (const r of failed) lines.push(line(r));
    lines.push('');
  }
  if (delayed.length > 0) {
    lines.push('Your message has not been delivered yet to the recipients below; you do not need to send it again.',
      '您的邮件暂时未能投递给以下收件人，系统会继续重试，无需重新发送。', '');
    for (const r of delayed) lines.push(`${line(r)}${r.willRetryUntil ? ` (retrying until ${rfc5322Date(r.willRetryUntil)})` : ''}`);
    lines.push('');
  }
  if (delivered.length > 0) {
    lines.push('Your message was delivered to the recipients below.', '您的邮件已成功投递给以下收件人。', '');
    for (const r of delivered) lines.push(`<${oneLine(r.finalRecipient)}>: delivered`);
    lines.push('');
  }
  if (passedOn.length > 0) {
    lines.push('Your message was passed on to the mail systems of the recipients below, which send no delivery notices: no further notice will follow.',
      '您的邮件已转交给以下收件人的邮件系统，该系统不提供投递状态通知，此后不会再有通知。', '');
    for (const r of passedOn) lines.push(`<${oneLine(r.finalRecipient)}>: ${r.action}${r.remoteMta ? ` to ${oneLine(r.remoteMta)}` : ''}`);
    lines.push('');
  }
  return lines.join('\r\n');
}

function deliveryStatus(input: DsnInput): string {
  const message = [`Reporting-MTA: dns; ${oneLine(input.reportingMta)}`];
  if (input.envId) message.push(`Original-Envelope-Id: ${oneLine(input.envId)}`);
  if (input.arrivalDate) message.push(`Arrival-Date: ${rfc5322Date(input.arrivalDate)}`);
  const blocks = input.recipients.map((r) => {
    const b: string[] = [];
    const original = r.originalRecipient ? typedAddress(r.originalRecipient) : null;
    if (original && original.address.toLowerCase() !== r.finalRecipient.toLowerCase()) {
      b.push(`Original-Recipient: ${oneLine(original.type)}; ${oneLine(original.address)}`);
    }
    b.push(`Final-Recipient: ${addressType(r.finalRecipient)}; ${oneLine(r.finalRecipient)}`);
    b.push(`Action: ${r.action}`);
    b.push(`Status: ${statusOf(r)}`);
    if (r.remoteMta) b.push(`Remote-MTA: dns; ${oneLine(r.remoteMta)}`);
    if (r.diagnostic) b.push(`Diagnostic-Code: smtp; ${oneLine(r.diagnostic)}`);
    if (r.lastAttemptDate) b.push(`Last-Attempt-Date: ${rfc5322Date(r.lastAttemptDate)}`);
    if (r.willRetryUntil) b.push(`Will-Retry-Until: ${rfc5322Date(r.willRetryUntil)}`);
    return b.join('\r\n');
  });
  return [message.join('\r\n'), ...blocks].join('\r\n\r\n') + '\r\n';
}

/** Base64 in 76-character lines keeps the UTF-8 text 7-bit and every line short. */
function base64Lines(text: string): string {
  return (Buffer.from(text, 'utf8').toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

/** Reads a message's header block (through the blank line) from a stream, at most maxBytes, then stops reading. */
export async function readHeaderBlock(stream: Readable, maxBytes = 256 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      chunks.push(buf);
      length += buf.length;
      const all = Buffer.concat(chunks);
      // Search from a little before this chunk so a terminator split across chunks is found.
      const crlf = all.indexOf('\r\n\r\n', Math.max(0, length - buf.length - 3));
      if (crlf >= 0) return all.subarray(0, crlf + 4);
      const lf = all.indexOf('\n\n', Math.max(0, length - buf.length - 1));
      if (lf >= 0) return all.subarray(0, lf + 2);
      if (length >= maxBytes) return all.subarray(0, maxBytes);
    }
    return Buffer.concat(chunks);
  } finally {
    stream.destroy();
  }
}

/** The header lines of a message (without the blank line and body), with CRLF line ends. */
function headerLines(raw: Buffer): Buffer {
  let end = raw.indexOf('\r\n\r\n');
  if (end < 0) end = raw.indexOf('\n\n');
  const head = (end < 0 ? raw : raw.subarray(0, end)).toString('latin1').replace(/\r?\n/g, '\r\n').replace(/(\r\n)*$/, '');
  return Buffer.from(head.length > 0 ? `${head}\r\n` : '', 'latin1');
}

export function buildDsn(input: DsnInput): BuiltDsn {
  if (input.recipients.length === 0) throw new Error('a DSN needs at least one recipient status');
  const now = input.date ?? new Date();
  const host = oneLine(input.reportingMta);
  const boundary = `dsn-${randomBytes(12).toString('hex')}`;
  const messageId = `<${now.getTime().toString(36)}.${randomBytes(8).toString('hex')}@${host}>`;
  const subject = subjectFor(input.recipients);
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${host}>`,
    `To: <${oneLine(input.to)}>`,
    `Subject: ${encodeWords(subject, 'B', 52)}`,
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: ${messageId}`,
    ...(input.originalMessageId ? [`In-Reply-To: ${oneLine(input.originalMessageId)}`] : []),
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    'Content-Description: Notification',
    '',
    base64Lines(humanText(input)),
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    'Content-Description: Delivery report',
    // Readers (mailparser among them) would otherwise fold the report into the message text.
    'Content-Disposition: attachment',
    '',
    deliveryStatus(input),
    `--${boundary}`,
    `Content-Type: ${input.originalMessage ? 'message/rfc822' : 'text/rfc822-headers'}`,
    `Content-Description: ${input.originalMessage ? 'Undelivered Message' : 'Undelivered Message Headers'}`,
    '',
    '',
  ].join('\r\n');
  const returned = input.originalMessage ?? headerLines(input.originalHeaders);
  const raw = Buffer.concat([Buffer.from(head, 'latin1'), returned, Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1')]);
  return { raw, messageId, subject, mailFrom: '' };
}
