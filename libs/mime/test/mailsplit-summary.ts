// The summariser as it was on mailsplit (before part-splitter.ts), kept verbatim as the reference the differential spec
// (summary-differential.spec.ts) compares the current one against. Test only.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TextDecoder } from 'node:util';
import type { MimeNode, SplitterChunk } from 'mailsplit';
import { decode as decodeBase64 } from 'libbase64';
import { decode as decodeQuotedPrintable } from 'libqp';
import { decode as decodeCharset } from 'libmime/lib/charset';
import { parseEnvelopeAddresses, parseMailAddresses, type EnvelopeAddress, type MailAddress } from '../src/address';
import { baseSubject } from '../src/base-subject';
import { htmlToText } from '../src/html-text';
import { LineAlignedChunks, StructureSplitter } from '../src/structure-splitter';
import {
  decodedFileName,
  decodeHeaderText,
  firstHeader,
  languageTags,
  paramValue,
  parseHeaderBlock,
  parseStructuredValue,
  unfold,
  type HeaderField,
} from '../src/mime-header';

/** IMAP ENVELOPE fields as raw byte strings (see mime-header.ts); imap-format.ts prints them. */
export interface Envelope {
  date: string | null;
  subject: string | null;
  from: EnvelopeAddress[] | null;
  sender: EnvelopeAddress[] | null;
  replyTo: EnvelopeAddress[] | null;
  to: EnvelopeAddress[] | null;
  cc: EnvelopeAddress[] | null;
  bcc: EnvelopeAddress[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

export interface Disposition {
  type: string;
  params: Array<[string, string]>;
}

interface ExtensionFields {
  disposition: Disposition | null;
  language: string[] | null;
  location: string | null;
}

export interface MultipartStructure extends ExtensionFields {
  kind: 'multipart';
  subtype: string;
  params: Array<[string, string]>;
  children: BodyStructure[];
}

export interface SinglePartStructure extends ExtensionFields {
  kind: 'single';
  type: string;
  subtype: string;
  /** as printed: text/* without a charset gets ("charset" "us-ascii") appended, as Dovecot does */
  params: Array<[string, string]>;
  id: string | null;
  description: string | null;
  encoding: string;
  /** body octets */
  size: number;
  /** line count for text/* and message/rfc822, otherwise null */
  lines: number | null;
  md5: string | null;
  /** the attached message, for message/rfc822 */
  message: { envelope: Envelope; body: BodyStructure } | null;
}

export type BodyStructure = MultipartStructure | SinglePartStructure;

/**
 * Byte offsets in the raw message. BODY[n] = [bodyStart, bodyEnd), BODY[n.MIME] = [headerStart, bodyStart).
 * Key "TEXT" is the message itself: BODY[HEADER] = [headerStart, bodyStart), BODY[TEXT] = [bodyStart, bodyEnd).
 * Key "n.TEXT" is the message inside message/rfc822 part n, for BODY[n.HEADER] and BODY[n.TEXT].
 */
export interface PartOffsets {
  headerStart: number;
  bodyStart: number;
  bodyEnd: number;
}

export interface MessageSummary {
  size: number;
  envelope: Envelope;
  bodyStructure: BodyStructure;
  partOffsets: Record<string, PartOffsets>;
  subject: string;
  baseSubject: string;
  from: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  date: Date | null;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  attachmentNames: string[];
  hasAttachments: boolean;
  listIds?: string[];
  searchText: { headers: string; body: string };
}

export interface SummaryLimits {
  /** decoded text kept for search, in characters over all text parts (default 2 MiB) */
  maxSearchText?: number;
  /** mailsplit's per-part header limit (default 1 MiB) */
  maxHeaderSize?: number;
  /** mailsplit's part limit (default 1000) */
  maxParts?: number;
}

const DEFAULT_SEARCH_TEXT = 2 * 1024 * 1024;
interface PartState {
  node: MimeNode;
  parent: PartState | null;
  fields: HeaderField[];
  /** IMAP part number; '' for the top message; a message inside message/rfc822 shares its part's number */
  number: string;
  isMessageRoot: boolean;
  headerStart: number;
  bodyStart: number;
  bodyEnd: number;
  lfAtBodyStart: number;
  lines: number;
  type: string;
  subtype: string;
  params: Array<[string, string]>;
  boundary: Buffer | null;
  /** offset just past this multipart's close delimiter line, once seen */
  closeDelimiterEnd: number;
  children: PartState[];
  message: PartState | null;
  captured: Buffer[] | null;
  capturedBytes: number;
}

interface TextPiece {
  part: PartState;
  html: boolean;
  text: string;
}

export async function summariseMessage(source: Readable | Buffer, limits: SummaryLimits = {}): Promise<MessageSummary> {
  const maxText = limits.maxSearchText ?? DEFAULT_SEARCH_TEXT;
  // Encoded text may be up to 3x its decoded size (quoted-printable); stop collecting past that.
  let rawTextBudget = maxText * 3;
  const splitter = new StructureSplitter({ maxHeadSize: limits.maxHeaderSize, maxChildNodes: limits.maxParts });
  const states = new Map<MimeNode, PartState>();
  const open: PartState[] = [];
  const texts: TextPiece[] = [];
  let pos = 0;
  let lfCount = 0;
  let tail1 = -1;
  let tail2 = -1;
  let root: PartState | null = null;

  const close = (part: PartState, end: number, lfAtEnd: number) => {
    // A header-only part: the line break before the boundary ends its header, as in Dovecot.
    if (end < part.bodyStart) part.bodyStart = end;
    part.bodyEnd = end;
    part.lines = Math.max(lfAtEnd - part.lfAtBodyStart, 0);
    if (part.captured) {
      const piece = decodeText(part);
      if (piece) texts.push(piece);
      part.captured = null;
    }
  };

  // A boundary line of an open multipart closes every part opened inside it. A multipart whose close
  // delimiter is the line right before keeps that delimiter's line break (Dovecot does; RFC 2046 is silent).
  const closeInside = (multipart: PartState, lineStart: number, end: number, lfAtEnd: number) => {
    let keepsBreak = false;
    while (open.length && open[open.length - 1] !== multipart) {
      const part = open.pop()!;
      keepsBreak = part.closeDelimiterEnd === lineStart || (keepsBreak && part.message !== null);
      if (keepsBreak) close(part, lineStart, lfCount);
      else close(part, end, lfAtEnd);
    }
  };

  const onNode = (node: MimeNode) => {
    const parent = node.parentNode ? (states.get(node.parentNode) ?? null) : null;
    const raw = Buffer.concat(node._headersLines, node._headerlen);
    const fields = parseHeaderBlock(raw);
    const contentType = describeType(fields, parent, node);
    const isMessageRoot = !parent || parent.message === null && isRfc822(parent);
    let number = '';
    if (parent) {
      // The attached message takes the number of its message/rfc822 part; when that part is the whole body of a
      // message (non-multipart), the part is `<message>.1`, or `1` at the top.
      if (isMessageRoot) number = parent.isMessageRoot ? (parent.number ? `${parent.number}.1` : '1') : parent.number;
      else number = (parent.number ? parent.number + '.' : '') + (parent.children.length + 1);
    }
    const state: PartState = {
      node,
      parent,
      fields,
      number,
      isMessageRoot,
      headerStart: pos,
      bodyStart: pos + node._headerlen,
      bodyEnd: -1,
      lfAtBodyStart: 0,
      lines: 0,
      ...contentType,
      boundary: contentType.type.toLowerCase() === 'multipart' && node._boundary ? node._boundary : null,
      closeDelimiterEnd: -1,
      children: [],
      message: null,
      captured: null,
      capturedBytes: 0,
    };
    if (parent) {
      if (isMessageRoot) parent.message = state;
      else parent.children.push(state);
    } else root = state;
    for (const line of node._headersLines) lfCount += countLf(line);
    pos += node._headerlen;
    state.lfAtBodyStart = lfCount;
    if (wantsText(state) && rawTextBudget > 0) state.captured = [];
    states.set(node, state);
    open.push(state);
    const headerTail = node._headersLines[node._headersLines.length - 1];
    if (headerTail && headerTail.length) rememberTail(headerTail);
  };

  const rememberTail = (buf: Buffer) => {
    if (buf.length >= 2) {
      tail2 = buf[buf.length - 2];
      tail1 = buf[buf.length - 1];
    } else if (buf.length === 1) {
      tail2 = tail1;
      tail1 = buf[0];
    }
  };

  const onBody = (chunk: SplitterChunk) => {
    const state = states.get(chunk.node);
    const value = chunk.value;
    if (state?.captured && rawTextBudget > 0) {
      const take = value.length <= rawTextBudget ? value : value.subarray(0, rawTextBudget);
      state.captured.push(Buffer.from(take));
      state.capturedBytes += take.length;
      rawTextBudget -= take.length;
    }
    lfCount += countLf(value);
    pos += value.length;
    rememberTail(value);
  };

  const onData = (value: Buffer) => {
    let i = 0;
    while (i < value.length) {
      const nl = value.indexOf(10, i);
      const lineEnd = nl < 0 ? value.length : nl + 1;
      if (value[i] === 0x2d && value[i + 1] === 0x2d) {
        const hit = matchBoundary(value, i, lineEnd);
        if (hit) {
          const before1 = i >= 1 ? value[i - 1] : tail1;
          const before2 = i >= 2 ? value[i - 2] : i === 1 ? tail1 : tail2;
          const breakLen = before1 === 10 ? (before2 === 13 ? 2 : 1) : 0;
          const lineStart = pos + i;
          closeInside(hit, lineStart, lineStart - breakLen, lfCount - (breakLen ? 1 : 0));
          if (value[i + 2 + hit.boundary!.length] === 0x2d) hit.closeDelimiterEnd = pos + lineEnd;
        }
      }
      if (nl >= 0) lfCount++;
      i = lineEnd;
    }
    pos += value.length;
    rememberTail(value);
  };

  const matchBoundary = (value: Buffer, start: number, end: number): PartState | null => {
    for (let k = open.length - 1; k >= 0; k--) {
      const boundary = open[k].boundary;
      if (!boundary) continue;
      const after = start + 2 + boundary.length;
      if (after > end || value.compare(boundary, 0, boundary.length, start + 2, after) !== 0) continue;
      const rest = value.subarray(after, end).toString('latin1');
      if (/^(--)?[ \t]*\r?\n?$/.test(rest)) return open[k];
    }
    return null;
  };

  const input = Buffer.isBuffer(source) ? Readable.from([source]) : source;
  const aligned = new LineAlignedChunks();
  await pipeline(input, aligned, splitter, async (objects: AsyncIterable<MimeNode | SplitterChunk>) => {
    for await (const item of objects) {
      if (item.type === 'node') onNode(item);
      else if (item.type === 'body') onBody(item);
      else onData(item.value);
    }
  });
  for (let k = open.length - 1; k >= 0; k--) close(open[k], pos, lfCount);
  if (!root) throw new Error('message has no header');
  if (pos !== aligned.bytes) throw new Error(`MIME splitter lost bytes: ${pos} of ${aligned.bytes} octets accounted for`);
  return assemble(root, pos, texts, maxText);
}

function countLf(buf: Buffer): number {
  let n = 0;
  let i = buf.indexOf(10);
  while (i >= 0) {
    n++;
    i = buf.indexOf(10, i + 1);
  }
  return n;
}

function isRfc822(part: PartState): boolean {
  return part.type.toLowerCase() === 'message' && part.subtype.toLowerCase() === 'rfc822' && part.node.rfc822;
}

function describeType(fields: HeaderField[], parent: PartState | null, node: MimeNode) {
  const raw = firstHeader(fields, 'content-type');
  const parsed = raw === null ? null : parseStructuredValue(raw);
  const slash = parsed ? parsed.value.indexOf('/') : -1;
  if (parsed && slash > 0 && slash < parsed.value.length - 1) {
    return { type: parsed.value.slice(0, slash).trim(), subtype: parsed.value.slice(slash + 1).trim(), params: parsed.params };
  }
  const inDigest = parent && !(parent.message === null && isRfc822(parent)) && parent.subtype.toLowerCase() === 'digest';
  if (inDigest || node.contentType === 'message/rfc822') return { type: 'message', subtype: 'rfc822', params: [] };
  return { type: 'text', subtype: 'plain', params: [] };
}

function dispositionOf(part: PartState): Disposition | null {
  const raw = firstHeader(part.fields, 'content-disposition');
  if (raw === null) return null;
  const parsed = parseStructuredValue(raw);
  return parsed.value ? { type: parsed.value, params: parsed.params } : null;
}

function wantsText(part: PartState): boolean {
  if (part.type.toLowerCase() !== 'text') return false;
  const sub = part.subtype.toLowerCase();
  if (sub !== 'plain' && sub !== 'html') return false;
  return dispositionOf(part)?.type.toLowerCase() !== 'attachment';
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeText(part: PartState): TextPiece | null {
  const raw = Buffer.concat(part.captured!, part.capturedBytes);
  const encoding = (firstHeader(part.fields, 'content-transfer-encoding') ?? '').trim().toLowerCase();
  let bytes: Buffer;
  if (encoding === 'base64') bytes = decodeBase64(raw.toString('latin1'));
  else if (encoding === 'quoted-printable') bytes = decodeQuotedPrintable(raw);
  else bytes = raw;
  const charset = paramValue(part.params, 'charset');
  let text: string;
  if (charset && !/^(us-)?ascii$/i.test(charset)) {
    text = decodeCharset(bytes, charset);
  } else {
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      text = decodeCharset(bytes, 'gb18030');
    }
  }
  const html = part.subtype.toLowerCase() === 'html';
  return { part, html, text: html ? htmlToText(text) : text };
}

function envelopeOf(fields: HeaderField[]): Envelope {
  const from = parseEnvelopeAddresses(firstHeader(fields, 'from'));
  return {
    date: firstHeader(fields, 'date'),
    subject: firstHeader(fields, 'subject'),
    from,
    sender: parseEnvelopeAddresses(firstHeader(fields, 'sender')) ?? from,
    replyTo: parseEnvelopeAddresses(firstHeader(fields, 'reply-to')) ?? from,
    to: parseEnvelopeAddresses(firstHeader(fields, 'to')),
    cc: parseEnvelopeAddresses(firstHeader(fields, 'cc')),
    bcc: parseEnvelopeAddresses(firstHeader(fields, 'bcc')),
    inReplyTo: firstHeader(fields, 'in-reply-to'),
    messageId: firstHeader(fields, 'message-id'),
  };
}

function structureOf(part: PartState, offsets: Record<string, PartOffsets>): BodyStructure {
  const disposition = dispositionOf(part);
  const languageRaw = firstHeader(part.fields, 'content-language');
  const language = languageRaw === null ? null : languageTags(languageRaw);
  const location = firstHeader(part.fields, 'content-location');
  const ext: ExtensionFields = { disposition, language: language && language.length ? language : null, location };
  const range = { headerStart: part.headerStart, bodyStart: part.bodyStart, bodyEnd: part.bodyEnd };
  if (part.isMessageRoot) offsets[part.number ? `${part.number}.TEXT` : 'TEXT'] = range;

  if (part.type.toLowerCase() === 'multipart') {
    if (!part.isMessageRoot) offsets[part.number] = range;
    const children = part.children.length
      ? part.children.map((c) => structureOf(c, offsets))
      : [emptyTextPart()];
    return { kind: 'multipart', subtype: part.subtype, params: part.params, children, ...ext };
  }

  offsets[part.isMessageRoot ? (part.number ? `${part.number}.1` : '1') : part.number] = range;
  const isText = part.type.toLowerCase() === 'text';
  const params = isText && paramValue(part.params, 'charset') === null ? [...part.params, ['charset', 'us-ascii'] as [string, string]] : part.params;
  const nested = part.message;
  return {
    kind: 'single',
    type: part.type,
    subtype: part.subtype,
    params,
    id: firstHeader(part.fields, 'content-id'),
    description: firstHeader(part.fields, 'content-description'),
    encoding: (firstHeader(part.fields, 'content-transfer-encoding') ?? '7bit').trim() || '7bit',
    size: part.bodyEnd - part.bodyStart,
    lines: isText || nested ? part.lines : null,
    md5: firstHeader(part.fields, 'content-md5'),
    message: nested ? { envelope: envelopeOf(nested.fields), body: structureOf(nested, offsets) } : null,
    ...ext,
  };
}

function emptyTextPart(): SinglePartStructure {
  return {
    kind: 'single', type: 'text', subtype: 'plain', params: [['charset', 'us-ascii']], id: null, description: null,
    encoding: '7bit', size: 0, lines: 0, md5: null, message: null, disposition: null, language: null, location: null,
  };
}

function collectAttachments(part: PartState, names: string[]): boolean {
  let found = false;
  const disposition = dispositionOf(part)?.type.toLowerCase();
  const name = decodedFileName(firstHeader(part.fields, 'content-disposition'), firstHeader(part.fields, 'content-type'));
  const isMultipart = part.type.toLowerCase() === 'multipart';
  if (part.parent && !part.isMessageRoot && !isMultipart && (disposition === 'attachment' || (name && disposition !== 'inline') || isRfc822(part))) {
    found = true;
  }
  if (name && part.parent) names.push(name);
  for (const child of part.children) found = collectAttachments(child, names) || found;
  if (part.message) found = collectAttachments(part.message, names) || found;
  return found;
}

function messageIds(value: string | null): string[] {
  return value ? (unfold(value).match(/<[^<>\s]+>/g) ?? []) : [];
}

function parseDate(value: string | null): Date | null {
  if (!value) return null;
  const cleaned = unfold(value).replace(/\([^)]*\)/g, ' ').replace(/\s+/g, ' ').trim();
  const date = new Date(cleaned);
  return Number.isNaN(date.getTime()) ? null : date;
}

// IMAP TEXT matches any header field. Subject and addresses are indexed decoded above; the rest are
// bulky, machine-made and never what a user searches for.
const UNINDEXED_HEADERS = /^(from|subject|to|cc|received|dkim-signature|x-google-dkim-signature|arc-[a-z-]+|authentication-results)$/;
const MAX_OTHER_HEADER_TEXT = 16 * 1024;

function otherHeaderText(fields: HeaderField[]): string {
  let out = '';
  for (const f of fields) {
    if (UNINDEXED_HEADERS.test(f.key)) continue;
    out += `${decodeHeaderText(f.value)}\n`;
    if (out.length >= MAX_OTHER_HEADER_TEXT) return out.slice(0, MAX_OTHER_HEADER_TEXT);
  }
  return out;
}

function assemble(root: PartState, size: number, texts: TextPiece[], maxText: number): MessageSummary {
  const partOffsets: Record<string, PartOffsets> = {};
  const bodyStructure = structureOf(root, partOffsets);
  const fields = root.fields;
  const rawSubject = firstHeader(fields, 'subject');
  const subject = rawSubject === null ? '' : decodeHeaderText(rawSubject);
  const to = parseMailAddresses(firstHeader(fields, 'to'));
  const cc = parseMailAddresses(firstHeader(fields, 'cc'));
  const fromList = parseMailAddresses(firstHeader(fields, 'from'));
  const attachmentNames: string[] = [];
  const hasAttachments = collectAttachments(root, attachmentNames);

  // An HTML alternative repeats its plain sibling: index the plain one only.
  const body: string[] = [];
  let remaining = maxText;
  for (const piece of texts) {
    const parent = piece.part.parent;
    const hasPlainSibling = parent && parent.subtype.toLowerCase() === 'alternative'
      && texts.some((t) => t !== piece && t.part.parent === parent && !t.html);
    if (piece.html && hasPlainSibling) continue;
    if (remaining <= 0) break;
    const text = piece.text.slice(0, remaining);
    body.push(text);
    remaining -= text.length;
  }
  const addressText = (list: MailAddress[]) => list.map((a) => [a.name, a.address].filter(Boolean).join(' '));
  const headers = [subject, ...addressText(fromList), ...addressText(to), ...addressText(cc), ...attachmentNames, otherHeaderText(fields)]
    .filter(Boolean)
    .join('\n');

  return {
    size,
    envelope: envelopeOf(fields),
    bodyStructure,
    partOffsets,
    subject,
    baseSubject: baseSubject(subject),
    from: fromList[0] ?? null,
    to,
    cc,
    date: parseDate(firstHeader(fields, 'date')),
    messageId: messageIds(firstHeader(fields, 'message-id'))[0] ?? null,
    inReplyTo: messageIds(firstHeader(fields, 'in-reply-to'))[0] ?? null,
    references: messageIds(firstHeader(fields, 'references')),
    attachmentNames,
    hasAttachments,
    // Raw List-Id values as the header block holds them (kept for SEARCH HEADER List-Id).
    listIds: fields.filter((f) => f.key === 'list-id').map((f) => f.value),
    searchText: { headers, body: body.join('\n') },
  };
}
