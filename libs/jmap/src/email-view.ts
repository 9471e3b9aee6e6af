/** Messages of the store as JMAP Email objects (RFC 8621 §4.1): ids, keywords from IMAP flags, parsed properties. */
import { htmlToText } from '@dizi/mime/html-text';
import type { LocatedMessage } from '@dizi/mail-store/ports/message-store';
import { bodyLists, decodedSize, decodedText, lastHeader, leaves, parseMessage, type MimePart } from './email-parser';
import { addresses, date, headerAs, messageIds, parseHeaderProperty } from './header-forms';

export const EMAIL_METADATA = ['id', 'blobId', 'threadId', 'mailboxIds', 'keywords', 'size', 'receivedAt'] as const;
export const EMAIL_HEADER_PROPERTIES = ['headers', 'messageId', 'inReplyTo', 'references', 'sender', 'from', 'to', 'cc', 'bcc', 'replyTo', 'subject', 'sentAt'] as const;
export const EMAIL_BODY_PROPERTIES = ['bodyStructure', 'bodyValues', 'textBody', 'htmlBody', 'attachments', 'hasAttachment', 'preview'] as const;
export const EMAIL_PROPERTIES: readonly string[] = [...EMAIL_METADATA, ...EMAIL_HEADER_PROPERTIES, ...EMAIL_BODY_PROPERTIES];
export const EMAIL_DEFAULT_PROPERTIES: readonly string[] = [
  'id', 'blobId', 'threadId', 'mailboxIds', 'keywords', 'size', 'receivedAt', 'messageId', 'inReplyTo', 'references', 'sender', 'from',
  'to', 'cc', 'bcc', 'replyTo', 'subject', 'sentAt', 'hasAttachment', 'preview', 'bodyValues', 'textBody', 'htmlBody', 'attachments',
];
export const BODY_PART_PROPERTIES: readonly string[] = ['partId', 'blobId', 'size', 'headers', 'name', 'type', 'charset', 'disposition', 'cid', 'language', 'location', 'subParts'];
export const BODY_PART_DEFAULT_PROPERTIES: readonly string[] = ['partId', 'blobId', 'size', 'name', 'type', 'charset', 'disposition', 'cid', 'language', 'location'];

const PREVIEW_LENGTH = 256;

// ---- ids: message rows keep their id through moves, so an Email id is stable ----

export const emailIdOf = (messageId: string): string => `M${messageId}`;
export const threadIdOf = (messageId: string): string => `T${messageId}`;
export const blobIdOf = (messageId: string): string => `B${messageId}`;
export const partBlobIdOf = (messageId: string, partId: string): string => `B${messageId}-${partId.replace(/\./g, '_')}`;

export function messageIdOfEmail(id: string): string | null {
  return /^M[1-9][0-9]{0,17}$/.test(id) ? id.slice(1) : null;
}

export function messageIdOfThread(id: string): string | null {
  return /^T[1-9][0-9]{0,17}$/.test(id) ? id.slice(1) : null;
}

/** A blob id: the whole message, or one leaf part of it. */
export function parseBlobId(id: string): { messageId: string; partId: string | null } | null {
  const m = /^B([1-9][0-9]{0,17})(?:-([0-9_]+))?$/.exec(id);
  return m ? { messageId: m[1], partId: m[2] ? m[2].replace(/_/g, '.') : null } : null;
}

// ---- keywords (RFC 8621 §4.1.1) and IMAP system flags ----

const FLAG_OF_KEYWORD: Record<string, string> = { $seen: '\\Seen', $flagged: '\\Flagged', $answered: '\\Answered', $draft: '\\Draft' };
const KEYWORD_OF_FLAG: Record<string, string> = { '\\seen': '$seen', '\\flagged': '$flagged', '\\answered': '$answered', '\\draft': '$draft' };

/** \Deleted and \Recent have no keyword: JMAP clients neither see nor change them. */
export function keywordsOf(flags: readonly string[]): Record<string, true> {
  const out: Record<string, true> = {};
  for (const f of flags) {
    const lower = f.toLowerCase();
    if (KEYWORD_OF_FLAG[lower]) out[KEYWORD_OF_FLAG[lower]] = true;
    else if (!f.startsWith('\\')) out[lower] = true;
  }
  return out;
}

export function flagOf(keyword: string): string {
  return FLAG_OF_KEYWORD[keyword.toLowerCase()] ?? keyword.toLowerCase();
}

/** RFC 8621 §4.1.1: a keyword is 1-255 printable ASCII characters, none of ( ) { ] % * " \ or space. */
export function isValidKeyword(keyword: string): boolean {
  return /^[\x21-\x7e]{1,255}$/.test(keyword) && !/[(){\]%*"\\]/.test(keyword);
}

// ---- the Email object ----

export interface EmailGetOptions {
  properties: readonly string[];
  bodyProperties: readonly string[];
  fetchTextBodyValues: boolean;
  fetchHTMLBodyValues: boolean;
  fetchAllBodyValues: boolean;
  maxBodyValueBytes: number;
}

export function needsSource(properties: readonly string[]): boolean {
  return properties.some((p) => !(EMAIL_METADATA as readonly string[]).includes(p) && p !== 'hasAttachment');
}

/** `source` is the message as served (header prefix + blob), given when needsSource(). */
export function toEmail(record: LocatedMessage, source: Buffer | null, o: EmailGetOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const root = source ? parseMessage(source) : null;
  const lists = root ? bodyLists(root) : null;
  const header = (name: string) => (root ? lastHeader(root.headers, name) : null);
  for (const p of o.properties) {
    switch (p) {
      case 'id': out.id = emailIdOf(record.id); break;
      case 'blobId': out.blobId = blobIdOf(record.id); break;
      case 'threadId': out.threadId = threadIdOf(record.threadId ?? record.id); break;
      case 'mailboxIds': out.mailboxIds = { [record.folderId]: true }; break;
      case 'keywords': out.keywords = keywordsOf(record.flags); break;
      case 'size': out.size = record.size; break;
      case 'receivedAt': out.receivedAt = utcDate(record.internalDate); break;
      case 'hasAttachment': out.hasAttachment = (record.sortFields?.attachmentNames?.length ?? 0) > 0; break;
      case 'headers': out.headers = root!.headers.map((h) => ({ name: h.name, value: headerAs(h.value, 'Raw') })); break;
      case 'messageId': out.messageId = optional(header('message-id'), messageIds); break;
      case 'inReplyTo': out.inReplyTo = optional(header('in-reply-to'), messageIds); break;
      case 'references': out.references = optional(header('references'), messageIds); break;
      case 'sender': case 'from': case 'to': case 'cc': case 'bcc': case 'replyTo': {
        const raw = header(p === 'replyTo' ? 'reply-to' : p);
        out[p] = raw === null ? null : addresses(raw);
        break;
      }
      case 'subject': out.subject = optional(header('subject'), (v) => headerAs(v, 'Text')); break;
      case 'sentAt': out.sentAt = optional(header('date'), date); break;
      case 'bodyStructure': out.bodyStructure = bodyPart(root!, source!, record.id, o.bodyProperties); break;
      case 'textBody': out.textBody = lists!.textBody.map((x) => bodyPart(x, source!, record.id, o.bodyProperties)); break;
      case 'htmlBody': out.htmlBody = lists!.htmlBody.map((x) => bodyPart(x, source!, record.id, o.bodyProperties)); break;
      case 'attachments': out.attachments = lists!.attachments.map((x) => bodyPart(x, source!, record.id, o.bodyProperties)); break;
      case 'bodyValues': out.bodyValues = bodyValues(root!, lists!, source!, o); break;
      case 'preview': out.preview = preview(lists!, source!); break;
      default: {
        const h = parseHeaderProperty(p);
        if (!h || !root) break;
        const lower = h.name.toLowerCase();
        const values = root.headers.filter((x) => x.name.toLowerCase() === lower).map((x) => headerAs(x.value, h.form));
        out[p] = h.all ? values : values.length > 0 ? values[values.length - 1] : null;
      }
    }
  }
  return out;
}

function optional<T>(raw: string | null, parse: (v: string) => T): T | null {
  return raw === null ? null : parse(raw);
}

export function utcDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function bodyPart(part: MimePart, source: Buffer, messageId: string, properties: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of properties) {
    switch (p) {
      case 'partId': out.partId = part.partId; break;
      case 'blobId': out.blobId = part.partId ? partBlobIdOf(messageId, part.partId) : null; break;
      case 'size': out.size = part.subParts ? 0 : decodedSize(source, part); break;
      case 'headers': out.headers = part.headers.map((h) => ({ name: h.name, value: headerAs(h.value, 'Raw') })); break;
      case 'name': out.name = part.name; break;
      case 'type': out.type = part.type; break;
      case 'charset': out.charset = part.charset; break;
      case 'disposition': out.disposition = part.disposition; break;
      case 'cid': out.cid = part.cid; break;
      case 'language': out.language = part.language; break;
      case 'location': out.location = part.location; break;
      case 'subParts': out.subParts = part.subParts ? part.subParts.map((x) => bodyPart(x, source, messageId, properties)) : null; break;
      default: {
        const h = parseHeaderProperty(p);
        if (!h) break;
        const lower = h.name.toLowerCase();
        const values = part.headers.filter((x) => x.name.toLowerCase() === lower).map((x) => headerAs(x.value, h.form));
        out[p] = h.all ? values : values.length > 0 ? values[values.length - 1] : null;
      }
    }
  }
  return out;
}

function bodyValues(root: MimePart, lists: ReturnType<typeof bodyLists>, source: Buffer, o: EmailGetOptions): Record<string, unknown> {
  const wanted = new Set<MimePart>();
  if (o.fetchAllBodyValues) for (const p of leaves(root)) if (p.type.startsWith('text/')) wanted.add(p);
  if (o.fetchTextBodyValues) for (const p of lists.textBody) if (p.type.startsWith('text/')) wanted.add(p);
  if (o.fetchHTMLBodyValues) for (const p of lists.htmlBody) if (p.type.startsWith('text/')) wanted.add(p);
  const out: Record<string, unknown> = {};
  for (const part of wanted) {
    const { text, problem } = decodedText(source, part);
    const cut = o.maxBodyValueBytes > 0 ? truncateUtf8(text, o.maxBodyValueBytes) : text;
    out[part.partId!] = { value: cut, isEncodingProblem: problem, isTruncated: cut.length < text.length };
  }
  return out;
}

/** At most `bytes` octets of UTF-8, never cutting a character. */
function truncateUtf8(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  let out = Buffer.from(text).subarray(0, bytes).toString('utf8');
  if (out.endsWith('\uFFFD')) out = out.slice(0, -1);
  return out;
}

function preview(lists: ReturnType<typeof bodyLists>, source: Buffer): string {
  return [...bodyText(lists, source)].slice(0, PREVIEW_LENGTH).join('');
}

/** The text a reader sees first: the first plain (else HTML, as text) part of textBody, whitespace collapsed. */
export function bodyText(lists: ReturnType<typeof bodyLists>, source: Buffer): string {
  const part = lists.textBody.find((p) => p.type === 'text/plain') ?? lists.textBody.find((p) => p.type === 'text/html');
  if (!part) return '';
  const { text } = decodedText(source, part);
  const plain = part.type === 'text/html' ? htmlToText(text) : text;
  return plain.replace(/\s+/g, ' ').trim();
}
