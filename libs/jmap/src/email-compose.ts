/**
 * An RFC 5322 message from a JMAP Email create object (RFC 8621 §4.6): address and text header properties,
 * `header:Name:asText` / `header:Name` fields, textBody/htmlBody with their bodyValues, attachments by blobId. The
 * MIME is nodemailer's composer (CRLF, encoded words, quoted-printable/base64). Or bodyStructure (RFC 8621 §4.6): a tree
 * of parts, leaves by partId (text in bodyValues) or blobId, multipart nodes with subParts; then no textBody, htmlBody
 * or attachments.
 */
import { randomBytes } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import MimeNode from 'nodemailer/lib/mime-node';
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
const TAKEN = [...META, ...ADDRESS_PROPS, 'subject', 'sentAt', 'messageId', 'inReplyTo', 'references', 'textBody', 'htmlBody', 'bodyValues', 'attachments', 'bodyStructure'];
/** Header fields the composer writes itself from the properties above. */
const MANAGED_HEADERS = new Set(['from', 'sender', 'to', 'cc', 'bcc', 'reply-to', 'subject', 'date', 'message-id', 'in-reply-to', 'references', 'mime-version', 'content-type', 'content-transfer-encoding']);

type Address = { name: string; address: string };

export async function composeEmail(o: Record<string, unknown>, readBlob: BlobReader, opts: { maxAttachmentBytes: number; fallbackHost: string }): Promise<Buffer> {
  for (const key of Object.keys(o)) {
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
  let structure: MimeNode | null = null;
  if (o.bodyStructure !== undefined && o.bodyStructure !== null) {
    const given = ['textBody', 'htmlBody', 'attachments'].filter((k) => o[k] !== undefined && o[k] !== null);
    if (given.length > 0) throw setError('invalidProperties', `with bodyStructure, leave out ${given.join(', ')}`, given);
    const holder = new MimeNode('multipart/mixed');
    const budget = { total: 0, max: opts.maxAttachmentBytes, parts: 0 };
    structure = await structurePart(holder, o.bodyStructure, 'bodyStructure', bodyValues, readBlob, budget, 0);
  }
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
  const built = await mail.build();
  if (!structure) return built;
  // The composer's header block without its body fields, then the bodyStructure's part (its fields and content).
  const end = built.indexOf('\r\n\r\n');
  const head = built.subarray(0, end).toString('latin1').split(/\r\n(?![ \t])/)
    .filter((field) => !/^content-(type|transfer-encoding)\s*:/i.test(field)).join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), await structure.build()]);
}

const PART_KEYS = ['partId', 'blobId', 'type', 'charset', 'disposition', 'cid', 'name', 'language', 'location', 'subParts', 'size', 'headers'];
const MAX_DEPTH = 10;
const MAX_PARTS = 200;

/**
 * One EmailBodyPart of bodyStructure as a MIME node under `parent`: multipart/* with subParts, a text part by partId
 * (its value in bodyValues), or any part by blobId. A bad part is invalidProperties naming its path.
 */
async function structurePart(
  parent: MimeNode, raw: unknown, path: string, values: Record<string, unknown>, readBlob: BlobReader,
  budget: { total: number; max: number; parts: number }, depth: number,
): Promise<MimeNode> {
  const bad = (what: string, at = path): never => {
    throw setError('invalidProperties', `${at}: ${what}`, [at]);
  };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) bad('must be an EmailBodyPart object');
  const p = raw as Record<string, unknown>;
  if (++budget.parts > MAX_PARTS) bad(`at most ${MAX_PARTS} parts`);
  if (depth > MAX_DEPTH) bad(`nested deeper than ${MAX_DEPTH}`);
  const unknown = Object.keys(p).filter((k) => !PART_KEYS.includes(k) && !k.startsWith('header:'));
  if (unknown.length > 0) bad(`unknown properties ${unknown.join(', ')}`, `${path}/${unknown[0]}`);
  if (Object.keys(p).some((k) => k === 'headers' || k.startsWith('header:'))) bad('header fields of parts cannot be set; use type, disposition, name, cid');
  const type = p.type === undefined || p.type === null ? null : typeof p.type === 'string' && /^[\w.+-]+\/[\w.+-]+$/.test(p.type) ? p.type.toLowerCase() : bad('type must be a media type', `${path}/type`);
  if (p.subParts !== undefined && p.subParts !== null) {
    if (!Array.isArray(p.subParts) || p.subParts.length === 0) bad('subParts must be a non-empty list', `${path}/subParts`);
    if (type && !type.startsWith('multipart/')) bad('a part with subParts must be multipart/*', `${path}/type`);
    if (p.partId !== undefined || p.blobId !== undefined) bad('a multipart part has no partId or blobId');
    const node = parent.createChild(type ?? 'multipart/mixed');
    for (const [i, sub] of (p.subParts as unknown[]).entries()) await structurePart(node, sub, `${path}/subParts/${i}`, values, readBlob, budget, depth + 1);
    return node;
  }
  if (type?.startsWith('multipart/')) bad('a multipart part needs subParts', `${path}/subParts`);
  const hasPart = p.partId !== undefined && p.partId !== null;
  const hasBlob = p.blobId !== undefined && p.blobId !== null;
  if (hasPart === hasBlob) bad('give exactly one of partId and blobId');
  let node: MimeNode;
  if (hasPart) {
    if (typeof p.partId !== 'string') bad('partId must be a string', `${path}/partId`);
    if (p.charset !== undefined || p.size !== undefined) bad('charset and size are not set by the client for a partId part');
    if (type && !type.startsWith('text/')) bad('a partId part is text/*', `${path}/type`);
    const value = values[p.partId as string] as Record<string, unknown> | undefined;
    if (!value || typeof value !== 'object' || typeof value.value !== 'string') bad(`bodyValues has no ${String(p.partId)}`, 'bodyValues');
    if (value!.isEncodingProblem === true || value!.isTruncated === true) bad(`isEncodingProblem and isTruncated must be false`, `bodyValues/${String(p.partId)}`);
    node = parent.createChild(`${type ?? 'text/plain'}; charset=utf-8`);
    node.setContent((value!.value as string).replace(/\r?\n/g, '\r\n'));
  } else {
    if (typeof p.blobId !== 'string') bad('blobId must be a string', `${path}/blobId`);
    const content = await readBlob(p.blobId as string);
    if (!content) throw { ...setError('blobNotFound', `no blob ${String(p.blobId)} in this account`, [`${path}/blobId`]), notFound: [p.blobId] };
    budget.total += content.length;
    if (budget.total > budget.max) throw setError('tooLarge', `parts larger than ${budget.max} bytes (maxSizeAttachmentsPerEmail)`, [path]);
    const charset = typeof p.charset === 'string' && /^[\w.:-]+$/.test(p.charset) ? `; charset=${p.charset}` : '';
    node = parent.createChild(`${type ?? 'application/octet-stream'}${charset}`);
    node.setContent(content);
  }
  const name = typeof p.name === 'string' && !/[\r\n]/.test(p.name) ? p.name : null;
  if (p.disposition !== undefined && p.disposition !== null) {
    if (p.disposition !== 'inline' && p.disposition !== 'attachment') bad('disposition is inline or attachment', `${path}/disposition`);
    node.setHeader('Content-Disposition', p.disposition as string);
  } else if (name) node.setHeader('Content-Disposition', 'attachment');
  if (name) node.filename = name;
  if (p.cid !== undefined && p.cid !== null) {
    if (typeof p.cid !== 'string' || !/^[\x21-\x3b\x3d\x3f-\x7e]+$/.test(p.cid)) bad('cid must be a Content-ID without <>', `${path}/cid`);
    node.setHeader('Content-ID', `<${p.cid as string}>`);
  }
  return node;
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
