/**
 * A message's MIME tree as JMAP describes it (RFC 8621 §4.1.4): leaf parts numbered like IMAP sections, multiparts
 * with their children, message/rfc822 parts left whole (JMAP does not descend into them). Works on the bytes as
 * stored (header prefix + blob); bodies are decoded only when asked for.
 */
import { TextDecoder } from 'node:util';
import { parseStructuredValue, paramValue, decodedFileName } from '@dizi/mime/mime-header';

export interface RawHeader {
  name: string;
  /** Everything after the colon up to the line end, folding kept (the Raw form). */
  value: string;
}

export interface MimePart {
  /** null for multiparts. */
  partId: string | null;
  headers: RawHeader[];
  /** Lower-cased type/subtype; text/plain when absent. */
  type: string;
  charset: string | null;
  disposition: string | null;
  name: string | null;
  cid: string | null;
  language: string[] | null;
  location: string | null;
  encoding: string;
  /** Body octets within the message. */
  bodyStart: number;
  bodyEnd: number;
  subParts: MimePart[] | null;
}

const MAX_DEPTH = 50;

export function parseMessage(source: Buffer): MimePart {
  return parsePart(source, 0, source.length, '', 'text/plain', 0);
}

function parsePart(source: Buffer, start: number, end: number, section: string, defaultType: string, depth: number): MimePart {
  const headerEnd = findHeaderEnd(source, start, end);
  const headers = splitHeaders(source.subarray(start, headerEnd.headerEnd).toString('latin1'));
  const contentType = lastHeader(headers, 'content-type');
  const structured = contentType ? parseStructuredValue(contentType) : null;
  let type = structured?.value.toLowerCase() ?? defaultType;
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) type = 'text/plain';
  const params = structured?.params ?? [];
  const dispositionRaw = lastHeader(headers, 'content-disposition');
  const disposition = dispositionRaw ? parseStructuredValue(dispositionRaw).value.toLowerCase() || null : null;
  const cidRaw = lastHeader(headers, 'content-id');
  const languageRaw = lastHeader(headers, 'content-language');
  const part: MimePart = {
    partId: null,
    headers,
    type,
    charset: paramValue(params, 'charset')?.toLowerCase() ?? (type.startsWith('text/') ? 'us-ascii' : null),
    disposition,
    name: decodedFileName(dispositionRaw, contentType),
    cid: cidRaw ? cidRaw.trim().replace(/^<|>$/g, '') : null,
    language: languageRaw ? languageRaw.split(',').map((l) => l.trim()).filter(Boolean) : null,
    location: lastHeader(headers, 'content-location')?.trim() ?? null,
    encoding: (lastHeader(headers, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase(),
    bodyStart: headerEnd.bodyStart,
    bodyEnd: end,
    subParts: null,
  };
  const boundary = paramValue(params, 'boundary');
  if (type.startsWith('multipart/') && boundary && depth < MAX_DEPTH) {
    part.charset = null;
    const childDefault = type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
    part.subParts = splitMultipart(source, part.bodyStart, end, boundary).map((r, i) =>
      parsePart(source, r.start, r.end, section ? `${section}.${i + 1}` : String(i + 1), childDefault, depth + 1));
    return part;
  }
  part.partId = section || '1';
  return part;
}

function findHeaderEnd(source: Buffer, start: number, end: number): { headerEnd: number; bodyStart: number } {
  // A part may start with its blank line (no headers at all).
  if (source[start] === 0x0a) return { headerEnd: start, bodyStart: start + 1 };
  if (source[start] === 0x0d && source[start + 1] === 0x0a) return { headerEnd: start, bodyStart: start + 2 };
  for (let i = start; i < end; i++) {
    if (source[i] !== 0x0a) continue;
    if (source[i + 1] === 0x0a) return { headerEnd: i + 1, bodyStart: Math.min(i + 2, end) };
    if (source[i + 1] === 0x0d && source[i + 2] === 0x0a) return { headerEnd: i + 1, bodyStart: Math.min(i + 3, end) };
  }
  return { headerEnd: end, bodyStart: end };
}

function splitHeaders(text: string): RawHeader[] {
  const out: RawHeader[] = [];
  for (const line of text.split(/(?<=\n)/)) {
    if ((line[0] === ' ' || line[0] === '\t') && out.length > 0) {
      out[out.length - 1].value += line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1) });
  }
  for (const h of out) h.value = h.value.replace(/\r?\n$/, '');
  return out;
}

export function lastHeader(headers: RawHeader[], lowerName: string): string | null {
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i].name.toLowerCase() === lowerName) return headers[i].value;
  return null;
}

/** The byte ranges between `--boundary` lines; the preamble and epilogue are not parts. */
function splitMultipart(source: Buffer, start: number, end: number, boundary: string): Array<{ start: number; end: number }> {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const ranges: Array<{ start: number; end: number }> = [];
  let partStart = -1;
  let lineStart = start;
  while (lineStart < end) {
    let lineEnd = source.indexOf(0x0a, lineStart);
    if (lineEnd < 0 || lineEnd >= end) lineEnd = end;
    if (source[lineStart] === 0x2d && source.subarray(lineStart, lineStart + delimiter.length).equals(delimiter)) {
      const rest = source.subarray(lineStart + delimiter.length, lineEnd).toString('latin1').trimEnd();
      if (rest === '' || rest === '--') {
        if (partStart >= 0) ranges.push({ start: partStart, end: withoutLineBreak(source, partStart, lineStart) });
        if (rest === '--') return ranges;
        partStart = Math.min(lineEnd + 1, end);
      }
    }
    lineStart = lineEnd + 1;
  }
  if (partStart >= 0 && partStart < end) ranges.push({ start: partStart, end });
  return ranges;
}

/** The CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1). */
function withoutLineBreak(source: Buffer, start: number, at: number): number {
  let end = at;
  if (end > start && source[end - 1] === 0x0a) end--;
  if (end > start && source[end - 1] === 0x0d) end--;
  return end;
}

/** The part's body with its transfer encoding undone. */
export function decodedBody(source: Buffer, part: MimePart): Buffer {
  const raw = source.subarray(part.bodyStart, part.bodyEnd);
  if (part.encoding === 'base64') return Buffer.from(raw.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (part.encoding === 'quoted-printable') return decodeQuotedPrintable(raw);
  return raw;
}

function decodeQuotedPrintable(raw: Buffer): Buffer {
  const out = Buffer.alloc(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== 0x3d) {
      out[n++] = c;
      continue;
    }
    // Soft line break: "=" then optional whitespace then a line end.
    let j = i + 1;
    while (raw[j] === 0x20 || raw[j] === 0x09) j++;
    if (raw[j] === 0x0d && raw[j + 1] === 0x0a) { i = j + 1; continue; }
    if (raw[j] === 0x0a) { i = j; continue; }
    const hex = raw.subarray(i + 1, i + 3).toString('latin1');
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else out[n++] = c;
  }
  return out.subarray(0, n);
}

/** Text of a text part in its charset; `problem` when the bytes were not valid in it (or the charset is unknown). */
export function decodedText(source: Buffer, part: MimePart): { text: string; problem: boolean } {
  const bytes = decodedBody(source, part);
  const charset = part.charset === 'us-ascii' ? 'utf-8' : part.charset ?? 'utf-8';
  try {
    return { text: new TextDecoder(charset, { fatal: true }).decode(bytes), problem: false };
  } catch {
    try {
      return { text: new TextDecoder(charset).decode(bytes), problem: true };
    } catch {
      return { text: new TextDecoder('utf-8').decode(bytes), problem: true };
    }
  }
}

/** Decoded size of a leaf part (what JMAP `size` means), without decoding it. */
export function decodedSize(source: Buffer, part: MimePart): number {
  if (part.encoding === 'base64') {
    const len = source.subarray(part.bodyStart, part.bodyEnd).toString('latin1').replace(/[^A-Za-z0-9+/]/g, '').length;
    return Math.floor((len * 3) / 4);
  }
  if (part.encoding === 'quoted-printable') return decodedBody(source, part).length;
  return part.bodyEnd - part.bodyStart;
}

/** The leaves in textBody, htmlBody and attachments: RFC 8621 §4.1.4's algorithm, as its pseudo-code writes it. */
export function bodyLists(root: MimePart): { textBody: MimePart[]; htmlBody: MimePart[]; attachments: MimePart[] } {
  const textBody: MimePart[] = [];
  const htmlBody: MimePart[] = [];
  const attachments: MimePart[] = [];
  walk([root], 'mixed', false, htmlBody, textBody, attachments);
  return { textBody, htmlBody, attachments };
}

function isInlineMediaType(type: string): boolean {
  return type.startsWith('image/') || type.startsWith('audio/') || type.startsWith('video/');
}

function walk(parts: MimePart[], multipartType: string, inAlternative: boolean,
  htmlBody: MimePart[] | null, textBody: MimePart[] | null, attachments: MimePart[]): void {
  const textLength = textBody ? textBody.length : -1;
  const htmlLength = htmlBody ? htmlBody.length : -1;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const isMultipart = part.subParts !== null;
    const isInline = part.disposition !== 'attachment'
      && (part.type === 'text/plain' || part.type === 'text/html' || isInlineMediaType(part.type))
      && (i === 0 || (multipartType !== 'related' && (isInlineMediaType(part.type) || !part.name)));
    if (isMultipart) {
      const subType = part.type.split('/')[1];
      walk(part.subParts!, subType, inAlternative || subType === 'alternative', htmlBody, textBody, attachments);
    } else if (isInline) {
      if (multipartType === 'alternative') {
        if (part.type === 'text/plain') textBody?.push(part);
        else if (part.type === 'text/html') htmlBody?.push(part);
        else attachments.push(part);
        continue;
      } else if (inAlternative) {
        if (part.type === 'text/plain') htmlBody = null;
        if (part.type === 'text/html') textBody = null;
      }
      textBody?.push(part);
      htmlBody?.push(part);
      if ((!textBody || !htmlBody) && isInlineMediaType(part.type)) attachments.push(part);
    } else {
      attachments.push(part);
    }
  }
  if (multipartType === 'alternative' && textBody && htmlBody) {
    // Only an HTML part found: it is the text body too; only a plain one: the HTML body too.
    if (textLength === textBody.length && htmlLength !== htmlBody.length) for (let i = htmlLength; i < htmlBody.length; i++) textBody.push(htmlBody[i]);
    if (htmlLength === htmlBody.length && textLength !== textBody.length) for (let i = textLength; i < textBody.length; i++) htmlBody.push(textBody[i]);
  }
}

export function leaves(part: MimePart): MimePart[] {
  return part.subParts ? part.subParts.flatMap(leaves) : [part];
}
