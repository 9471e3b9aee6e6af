/**
 * An RFC 5322 message from a JMAP Email create object (RFC 8621 §4.6): address and text header properties,
 * `header:Name:asText` / `header:Name` fields, textBody/htmlBody with their bodyValues, attachments by blobId. The
 * MIME is nodemailer's composer (CRLF, encoded words, quoted-printable/base64). bodyStructure is not taken yet.
 */
import { randomBytes } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { setError } from './errors';

export interface ComposeAttachment {
  content: Buffer;
  type: string;
  name: string | null;
  disposition: 'attachment' | 'inline';
  cid: string | null;
}

/** Reads attachment blobs by id (null: no such blob in the account). */
export type BlobReader = (blobId: string) => Promise<Buffer | null>;

const ADDRESS_PROPS = ['from', 'sender', 'to', 'cc', 'bcc', 'replyTo'] as const;
const META = ['mailboxIds', 'keywords', 'receivedAt'];
const TAKEN = [...META, ...ADDRESS_PROPS, 'subject', 'sentAt', 'messageId', 'inReplyTo', 'references', 'textBody', 'htmlBody', 'bodyValues', 'attachments'];
/** Header fields the composer writes itself from the properties above. */
const MANAGED_HEADERS = new Set(['from', 'sender', 'to', 'cc', 'bcc', 'reply-to', 'subject', 'date', 'message-id', 'in-reply-to', 'references', 'mime-version', 'content-type', 'content-transfer-encoding']);

type Address = { name: string; address: string };

export async function composeEmail(o: Record<string, unknown>, readBlob: BlobReader, opts: { maxAttachmentBytes: number; fallbackHost: string }): Promise<Buffer> {
  for (const key of Object.keys(o)) {
    if (key === 'bodyStructure') throw setError('invalidProperties', 'bodyStructure is not supported yet: use textBody/htmlBody with bodyValues and attachments', ['bodyStructure']);
    if (key === 'headers') throw setError('invalidProperties', 'give header fields as header:Name:asText properties', ['headers']);
    if (!TAKEN.includes(key) && !key.startsWith('header:')) throw setError('invalidProperties', `${key} cannot be set on create`, [key]);
  }
  const addresses: Partial<Record<(typeof ADDRESS_PROPS)[number], Address[]>> = {};
  for (const p of ADDRESS_PROPS) if (o[p] !== undefined && o[p] !== null) addresses[p] = addressList(o[p], p);

  const headers: Array<{ key: string; value: string }> = [];
  for (const [key, value] of Object.entries(o)) {
    if (!key.startsWith('header:')) continue;
    const m = /^header:([\x21-\x39\x3b-\x7e]+)(?::(asText|asRaw))?$/.exec(key);
    if (!m) throw setError('invalidProperties', `${key}: only the asText and raw forms can be set`, [key]);
    if (MANAGED_HEADERS.has(m[1].toLowerCase())) throw setError('invalidProperties', `${key}: set the ${m[1]} field through its Email property`, [key]);
    if (typeof value !== 'string' || /[\r\n]/.test(m[2] === 'asText' ? value : value.replace(/\r\n[ \t]/g, ''))) {
      throw setError('invalidProperties', `${key} must be a string without line breaks`, [key]);
    }
    headers.push({ key: m[1], value: m[2] === 'asText' ? value : value.trim() });
  }

  const subject = optionalText(o, 'subject');
  let date = new Date();
  if (o.sentAt !== undefined && o.sentAt !== null) {
    const d = typeof o.sentAt === 'string' ? new Date(o.sentAt) : null;
    if (!d || Number.isNaN(d.getTime()) || !/^\d{4}-\d\d-\d\dT/.test(String(o.sentAt))) throw setError('invalidProperties', 'sentAt must be a Date (RFC 3339)', ['sentAt']);
    date = d;
  }
  const messageIds = idList(o, 'messageId');
  if (messageIds && messageIds.length !== 1) throw setError('invalidProperties', 'messageId must list exactly one id', ['messageId']);
  const inReplyTo = idList(o, 'inReplyTo');
  const references = idList(o, 'references');

  const bodyValues = (o.bodyValues ?? {}) as Record<string, unknown>;
  if (typeof bodyValues !== 'object' || Array.isArray(bodyValues)) throw setError('invalidProperties', 'bodyValues must be an object', ['bodyValues']);
  const text = bodyText(o, 'textBody', 'text/plain', bodyValues);
  const html = bodyText(o, 'htmlBody', 'text/html', bodyValues);

  const attachments: ComposeAttachment[] = [];
  let total = 0;
  if (o.attachments !== undefined && o.attachments !== null) {
    if (!Array.isArray(o.attachments)) throw setError('invalidProperties', 'attachments must be a list of EmailBodyPart', ['attachments']);
    for (const [i, part] of (o.attachments as unknown[]).entries()) {
      const p = part as Record<string, unknown>;
      if (!p || typeof p !== 'object' || typeof p.blobId !== 'string') throw setError('invalidProperties', `attachments/${i} needs a blobId`, ['attachments']);
      const content = await readBlob(p.blobId);
      if (!content) throw { ...setError('blobNotFound', `no blob ${p.blobId} in this account`, ['attachments']), notFound: [p.blobId] };
      total += content.length;
      if (total > opts.maxAttachmentBytes) throw setError('tooLarge', `attachments larger than ${opts.maxAttachmentBytes} bytes (maxSizeAttachmentsPerEmail)`, ['attachments']);
      const type = typeof p.type === 'string' && /^[\w.+-]+\/[\w.+-]+$/.test(p.type) ? p.type.toLowerCase() : 'application/octet-stream';
      attachments.push({
        content, type,
        name: typeof p.name === 'string' ? p.name : null,
        disposition: p.disposition === 'inline' ? 'inline' : 'attachment',
        cid: typeof p.cid === 'string' ? p.cid : null,
      });
    }
  }

  const fromDomain = addresses.from?.[0]?.address.split('@')[1] ?? opts.fallbackHost;
  const composer = new MailComposer({
    from: addresses.from?.[0] ? (addresses.from.length === 1 ? addresses.from[0] : undefined) : undefined,
    sender: addresses.sender?.[0],
    to: addresses.to, cc: addresses.cc, bcc: addresses.bcc, replyTo: addresses.replyTo,
    subject: subject ?? undefined,
    date,
    messageId: messageIds ? `<${messageIds[0]}>` : `<${Date.now().toString(36)}.${randomBytes(8).toString('hex')}@${fromDomain}>`,
    inReplyTo: inReplyTo ? inReplyTo.map((id) => `<${id}>`).join(' ') : undefined,
    references: references ? references.map((id) => `<${id}>`).join(' ') : undefined,
    text: text ?? (html === null ? '' : undefined),
    html: html ?? undefined,
    headers: [
      ...headers,
      // Several From: addresses (RFC 5322 allows them with a Sender:) are written as one list.
      ...(addresses.from && addresses.from.length > 1 ? [{ key: 'From', value: addresses.from.map(formatAddress).join(', ') }] : []),
    ],
    attachments: attachments.map((a) => ({
      content: a.content, contentType: a.type, filename: a.name ?? undefined, contentDisposition: a.disposition, cid: a.cid ?? undefined,
    })),
  });
  const mail = composer.compile();
  // A draft keeps its Bcc: (it is dropped when the message is sent, by the submission).
  (mail as unknown as { keepBcc: boolean }).keepBcc = true;
  return mail.build();
}

function addressList(value: unknown, prop: string): Address[] {
  if (!Array.isArray(value)) throw setError('invalidProperties', `${prop} must be a list of EmailAddress`, [prop]);
  return value.map((v) => {
    const a = v as Record<string, unknown>;
    if (!a || typeof a !== 'object' || typeof a.email !== 'string' || !/^[^\s@<>]+@[^\s@<>]+$/.test(a.email)) {
      throw setError('invalidProperties', `${prop}: each EmailAddress needs a valid email`, [prop]);
    }
    if (a.name !== undefined && a.name !== null && typeof a.name !== 'string') throw setError('invalidProperties', `${prop}: name must be a string`, [prop]);
    return { name: (a.name as string | null | undefined) ?? '', address: a.email };
  });
}

function formatAddress(a: Address): string {
  return a.name ? `"${a.name.replace(/["\\]/g, '')}" <${a.address}>` : a.address;
}

function optionalText(o: Record<string, unknown>, prop: string): string | null {
  const v = o[prop];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || /[\r\n]/.test(v)) throw setError('invalidProperties', `${prop} must be a string without line breaks`, [prop]);
  return v;
}

function idList(o: Record<string, unknown>, prop: string): string[] | null {
  const v = o[prop];
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !/^[^\s<>@]+@[^\s<>@]+$/.test(x))) {
    throw setError('invalidProperties', `${prop} must be a list of message ids without angle brackets`, [prop]);
  }
  return v as string[];
}

/** The one part of textBody/htmlBody, its value from bodyValues; null when absent. */
function bodyText(o: Record<string, unknown>, prop: string, type: string, values: Record<string, unknown>): string | null {
  const v = o[prop];
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.length !== 1) throw setError('invalidProperties', `${prop} must hold exactly one part`, [prop]);
  const part = v[0] as Record<string, unknown>;
  if (!part || typeof part !== 'object' || typeof part.partId !== 'string') throw setError('invalidProperties', `${prop}/0 needs a partId (its text in bodyValues)`, [prop]);
  if (part.type !== undefined && part.type !== type) throw setError('invalidProperties', `${prop}/0 must be ${type}`, [prop]);
  if (part.charset !== undefined || part.size !== undefined) throw setError('invalidProperties', `${prop}/0: charset and size are not set by the client`, [prop]);
  const value = values[part.partId] as Record<string, unknown> | undefined;
  if (!value || typeof value !== 'object' || typeof value.value !== 'string') throw setError('invalidProperties', `bodyValues has no ${part.partId}`, ['bodyValues']);
  if (value.isEncodingProblem === true || value.isTruncated === true) throw setError('invalidProperties', `bodyValues/${part.partId}: isEncodingProblem and isTruncated must be false`, ['bodyValues']);
  return value.value.replace(/\r?\n/g, '\r\n');
}
