/**
 * A message's MIME parts as it streams: which bytes are a part's header, its body, or a multipart's own lines
 * (preamble, boundary lines, epilogue). It splits as StructureSplitter (mailsplit 5.4.6's Splitter with the changes of
 * structure-splitter.ts) splits a message handed over whole, odd cases included, so that summaries stay byte for
 * byte what they were (test/summary-differential.spec.ts compares the two); but it reads a line only where the line can
 * change something (in a header, or where it starts like a boundary), hands bytes on as ranges of the chunks it is
 * given, and needs no timer per line nor any object per body line. Each part's header is still read by mailsplit's
 * MimeNode, so Content-Type, boundary and transfer encoding mean exactly what they meant.
 */
import type { MimeNode } from 'mailsplit';
import MimeNodeClass from 'mailsplit/lib/mime-node';

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const SPACE = 0x20;
const TAB = 0x09;

export interface PartEvents {
  /** A part whose header is complete (node._headersLines holds its bytes), in byte order with the ranges. */
  node(node: MimeNode): void;
  /** Body bytes of a part that is not a multipart. */
  body(node: MimeNode, bytes: Buffer, start: number, end: number): void;
  /** A multipart's own bytes: preamble, boundary lines (with the line break before them), epilogue. */
  data(bytes: Buffer, start: number, end: number): void;
}

export interface PartLimits {
  /** bytes of one part's header kept for reading; the rest of it is counted, not kept (default 1 MiB) */
  maxHeadSize?: number;
  /** parts in a message; past it no boundary opens another (default 1000) */
  maxChildNodes?: number;
  /** levels of parts, the top one included; a part on the last is a leaf even when it says multipart or message (default 50:
   * a BODYSTRUCTURE that deep nests some 55 parentheses, and imapflow drops one past 100) */
  maxDepth?: number;
}

/**
 * What a hostile message costs is bounded, and it never makes the split fail: such a message is still delivered
 * (as Dovecot does), with a structure that stops where the limits are (see MimeNodeLimits).
 */
export const DEFAULT_PART_LIMITS = { maxHeadSize: 1024 * 1024, maxChildNodes: 1000, maxDepth: 50 } as const;

/** Bytes of short field lines kept past maxHeadSize (see headerLine). */
const HEADER_SPARE = 64 * 1024;

/** A line longer than this cannot be a boundary (70 octets at most, RFC 2046) and is handed on before its end. */
const LONG_LINE = 64 * 1024;

/** What the limits left out of a part, on its MimeNode. */
export interface MimeNodeLimits {
  /** header bytes past maxHeadSize: in the message, not in _headersLines */
  _headerOverflow?: number;
  /** line feeds in those bytes */
  _headerOverflowLf?: number;
  /** the last two bytes of the header when some were left out (-1: none) */
  _headerTail?: [number, number];
  /** a multipart or attached message read as one opaque leaf (too deep, or no parts left) */
  _opaque?: boolean;
  /** parts between it and the top */
  _depth?: number;
}

export type LimitedMimeNode = MimeNode & MimeNodeLimits;

/** Header bytes of a part in the message, kept or not. */
export function headerBytesOf(node: MimeNode): number {
  return node._headerlen + ((node as LimitedMimeNode)._headerOverflow ?? 0);
}

/** What a line that starts like a boundary is to the current part. */
const enum Boundary {
  None = 0,
  /** `--b` of the part's own boundary: a new part inside it */
  Child = 1,
  /** `--b--` of its own boundary */
  Close = 2,
  /** its parent's boundary: a new sibling */
  Sibling = 3,
  /** its parent's close delimiter */
  CloseParent = 4,
}

const enum Kind {
  None,
  Body,
  Data,
}

export class PartSplitter {
  private node!: MimeNode;
  private inHeader = true;
  /** mailsplit's stack of multiparts to return to on a parent's close delimiter; it starts with the top part in it. */
  private readonly returns: MimeNode[] = [];
  private nodes = 0;
  private readonly maxHeadSize: number;
  private readonly maxNodes: number;
  private readonly maxDepth: number;
  /** No part is left: no line is a boundary any more, the rest of the message goes to the part it is in. */
  private flat = false;
  /** The current line is past LONG_LINE: handed on as it comes (in a body), or counted and dropped (in a header). */
  private longLine = false;
  /** Some limit changed how the message is read (its structure is degraded). */
  degraded = false;
  /**
   * The line break ending the last body line of a part inside another: it is the boundary line's if one follows, and
   * the body's otherwise. As in mailsplit, a part whose body so far is that one empty line keeps it when the next line
   * opens a part.
   */
  private held: Buffer | null = null;
  private heldStart = 0;
  private heldEnd = 0;
  private bodyLineCount = 0;
  private onlyEmptyLine = false;
  /** The start of a line that the last chunk did not finish. */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Adjacent ranges of one kind are handed on as one. */
  private pendingKind = Kind.None;
  private pendingNode: MimeNode | null = null;
  private pendingBytes: Buffer | null = null;
  private pendingStart = 0;
  private pendingEnd = 0;

  constructor(private readonly events: PartEvents, limits: PartLimits = {}) {
    this.maxHeadSize = limits.maxHeadSize || DEFAULT_PART_LIMITS.maxHeadSize;
    this.maxNodes = limits.maxChildNodes || DEFAULT_PART_LIMITS.maxChildNodes;
    this.maxDepth = limits.maxDepth || DEFAULT_PART_LIMITS.maxDepth;
    this.returns.push(this.newNode(false));
  }

  write(chunk: Buffer): void {
    let at = 0;
    if (this.longLine) {
      const lf = chunk.indexOf(LF);
      if (lf < 0) return this.longLinePart(chunk, 0, chunk.length, false);
      this.longLinePart(chunk, 0, lf + 1, true);
      at = lf + 1;
    } else if (this.partialBytes) {
      const lf = chunk.indexOf(LF);
      if (lf < 0) {
        this.partial.push(chunk);
        this.partialBytes += chunk.length;
        if (this.partialBytes > LONG_LINE) this.spillLongLine();
        return;
      }
      this.partial.push(chunk.subarray(0, lf + 1));
      const line = Buffer.concat(this.partial, this.partialBytes + lf + 1);
      this.partial = [];
      this.partialBytes = 0;
      this.line(line, 0, line.length);
      at = lf + 1;
    }
    // Where the next line starting with "-" or with a CR is: searched again only once passed (-1: none in the chunk).
    let dashAt = -2;
    let crAt = -2;
    while (at < chunk.length) {
      const node = this.node;
      if (!this.inHeader && (this.flat || (!node.multipart && !node._boundary && !node._parentBoundary))) {
        // No line can be a boundary any more: the rest of the message is this part's body. (A multipart's lines are
        // still handed on whole: message-summary.ts reads them for boundaries of its own.)
        this.rest(chunk, at, chunk.length);
        break;
      }
      if (!this.inHeader && !node.multipart && chunk[at] !== DASH && chunk[at] !== CR) {
        // Body lines up to the next one that starts like a boundary (with "--", or with a CR: see boundaryOf) are
        // handed on at once, found by two native searches instead of a look at every line.
        if (dashAt !== -1 && dashAt < at) dashAt = chunk.indexOf(LINE_DASH, at);
        if (crAt !== -1 && crAt < at) crAt = chunk.indexOf(LINE_CR, at);
        const upTo = nextMaybeBoundary(chunk, at, dashAt, crAt);
        if (upTo > at) {
          this.bodyLines(chunk, at, upTo);
          at = upTo;
          continue;
        }
      }
      const lf = chunk.indexOf(LF, at);
      if (lf < 0) {
        this.partial.push(chunk.subarray(at));
        this.partialBytes = chunk.length - at;
        if (this.partialBytes > LONG_LINE) this.spillLongLine();
        break;
      }
      this.line(chunk, at, lf + 1);
      at = lf + 1;
    }
    this.flush();
  }

  /**
   * The line held in `partial` is too long to be a boundary: rather than gathering all of it (a hostile message may
   * be one line of many megabytes), what came so far goes on now, and the rest as it comes (longLinePart). In a
   * multipart's own lines it is still gathered: message-summary.ts reads those a line at a time.
   */
  private spillLongLine(): void {
    if (!this.inHeader && this.node.multipart) return;
    if (this.inHeader && headerBytesOf(this.node) + this.partialBytes <= this.maxHeadSize) return;
    const partial = this.partial;
    this.partial = [];
    this.partialBytes = 0;
    this.longLine = true;
    for (const piece of partial) this.longLinePart(piece, 0, piece.length, false);
  }

  /** bytes[start, end) of a long line; `ends`: with its line break. */
  private longLinePart(bytes: Buffer, start: number, end: number, ends: boolean): void {
    if (ends) this.longLine = false;
    if (this.inHeader) {
      this.overflowHeader(this.node as LimitedMimeNode, bytes, start, end, ends ? 1 : 0);
      return;
    }
    if (ends) {
      // Its line break is held as any body line's is (a boundary line may follow).
      this.bodyLines(bytes, start, end, 1);
      return;
    }
    this.release(Kind.Body);
    this.emit(Kind.Body, this.node, bytes, start, end);
    // Whatever ends this line, the part's body is more than one empty line (see `held`).
    this.bodyLineCount = 2;
  }

  /** Header bytes past maxHeadSize: in the message (offsets count them), not kept for reading. */
  private overflowHeader(node: LimitedMimeNode, bytes: Buffer, start: number, end: number, lfs: number, kept?: Buffer): void {
    this.degraded = true;
    node._headerOverflow = (node._headerOverflow ?? 0) + end - start;
    node._headerOverflowLf = (node._headerOverflowLf ?? 0) + lfs;
    // The header's last two bytes, whether kept (`kept`, a line just added) or not.
    const [b, e, s] = kept ? [kept, kept.length, 0] : [bytes, end, start];
    const tail = node._headerTail ?? tailOf(node._headersLines);
    if (e - s >= 2) node._headerTail = [b[e - 2], b[e - 1]];
    else if (e > s) node._headerTail = [tail[1], b[s]];
    else node._headerTail = tail;
  }

  /** The message has ended: its last line (without a line break) and what is held. */
  end(): void {
    if (this.longLine) {
      // The last line was a long one, handed on already; nothing of it is held.
      this.longLine = false;
      if (this.inHeader) this.headerLine(Buffer.alloc(0), true);
      this.release(Kind.Body);
      this.flush();
      return;
    }
    // mailsplit reads the last line together with the line break held before it.
    const line = Buffer.concat(this.held ? [this.held.subarray(this.heldStart, this.heldEnd), ...this.partial] : this.partial);
    this.held = null;
    this.partial = [];
    this.partialBytes = 0;
    const boundary = this.boundaryOf(line, 0, line.length);
    if (boundary !== Boundary.None) this.boundaryLine(boundary, line, 0, line.length);
    else if (this.inHeader) this.headerLine(line, true);
    else if (line.length) this.rest(line, 0, line.length);
    this.flush();
  }

  /** One line, with its line break. */
  private line(bytes: Buffer, start: number, end: number): void {
    const boundary = this.boundaryOf(bytes, start, end);
    if (boundary !== Boundary.None) this.boundaryLine(boundary, bytes, start, end);
    else if (this.inHeader) this.headerLine(bytes.subarray(start, end), false);
    else if (this.node.multipart) this.emit(Kind.Data, null, bytes, start, end);
    else this.bodyLines(bytes, start, end, 1);
  }

  /** Whole body lines, bytes[start, end) (`lines` of them, or 0: count them when it matters). */
  private bodyLines(bytes: Buffer, start: number, end: number, lines = 0): void {
    const node = this.node;
    this.release(Kind.Body);
    if (!node.parentNode) {
      // The top part's body keeps every line break.
      this.emit(Kind.Body, node, bytes, start, end);
      return;
    }
    const breakAt = end - start >= 2 && bytes[end - 2] === CR ? end - 2 : end - 1;
    this.emit(Kind.Body, node, bytes, start, breakAt);
    this.held = bytes;
    this.heldStart = breakAt;
    this.heldEnd = end;
    // Only whether the part's body is one line matters: past two, the count is left as two.
    this.bodyLineCount += lines || (bytes.indexOf(LF, start) === end - 1 ? 1 : 2);
    this.onlyEmptyLine = this.bodyLineCount === 1 && breakAt === start;
  }

  /** The rest of the message, or of the last line, as the current part's body (no boundary can follow). */
  private rest(bytes: Buffer, start: number, end: number): void {
    this.release(Kind.Body);
    if (this.node.multipart) this.emit(Kind.Data, null, bytes, start, end);
    else this.emit(Kind.Body, this.node, bytes, start, end);
  }

  /** Hands the held line break on as `kind`. */
  private release(kind: Kind): void {
    if (!this.held) return;
    const held = this.held;
    this.held = null;
    this.emit(kind, kind === Kind.Body ? this.node : null, held, this.heldStart, this.heldEnd);
  }

  private boundaryLine(boundary: Boundary, bytes: Buffer, start: number, end: number): void {
    const opens = boundary === Boundary.Child || boundary === Boundary.Sibling;
    if (opens && this.nodes >= this.maxNodes) {
      // No part is left for it: from here on nothing is a boundary, and the rest of the message, this line first,
      // belongs to the part it is in (Dovecot's message_max_total_mime_parts does the same).
      this.flat = true;
      this.degraded = true;
      this.line(bytes, start, end);
      return;
    }
    this.release(opens && this.onlyEmptyLine ? Kind.Body : Kind.Data);
    const node = this.node;
    if (boundary === Boundary.Child) this.newNode(node);
    else if (boundary === Boundary.Sibling) {
      // A part of an attached message closes up to the multipart holding that message.
      let parent = node.parentNode;
      if (parent && parent.contentType === 'message/rfc822') parent = parent.parentNode;
      this.newNode(parent);
    } else if (boundary === Boundary.CloseParent) {
      if (headerBytesOf(node) && !node.headers) this.emitNode(this.readHeader(node));
      if (this.returns.length) this.node = this.returns.pop()!;
      this.inHeader = false;
    }
    this.emit(Kind.Data, null, bytes, start, end);
    this.bodyLineCount = 0;
    this.onlyEmptyLine = false;
  }

  private headerLine(line: Buffer, last: boolean): void {
    const node = this.node as LimitedMimeNode;
    const blank = (line.length === 1 && line[0] === LF) || (line.length === 2 && line[0] === CR && line[1] === LF);
    // Past maxHeadSize a header's lines are counted, not kept: its end (the blank line) always is, and so is the first
    // line of each field after (a short one, while they fit in HEADER_SPARE), so that a Subject of a megabyte does
    // not take the Message-ID after it out of the ENVELOPE.
    const over = node._headerOverflow || node._headerlen + line.length > this.maxHeadSize;
    const spare = over && line.length <= 1000 && line[0] !== SPACE && line[0] !== TAB && node._headerlen + line.length <= this.maxHeadSize + HEADER_SPARE;
    if (!blank && line.length && over && !spare) {
      this.overflowHeader(node, line, 0, line.length, line[line.length - 1] === LF ? 1 : 0);
    } else {
      node.addHeaderChunk(line);
      if (node._headerOverflow) this.overflowHeader(node, line, 0, 0, 0, line);
    }
    if (!last && !blank) return;
    this.readHeader(node);
    if (node.contentType === 'message/rfc822' && (!node.encoding || ['7bit', '8bit', 'binary'].includes(node.encoding))) {
      // An attached message in plain octets: its own header follows at once.
      this.newNode(node);
      if (node.parentNode) this.node._parentBoundary = node.parentNode._boundary;
    } else {
      this.inHeader = false;
      if (node.multipart && node._boundary) this.returns.push(node);
    }
    this.emitNode(node);
  }

  private newNode(parent: MimeNode | false): MimeNode {
    // A part whose header a boundary cut short is a part all the same (mailsplit would drop it; see structure-splitter.ts).
    const abandoned = this.node as MimeNode | undefined;
    if (abandoned && this.inHeader && headerBytesOf(abandoned) > 0 && !abandoned.headers) this.emitNode(this.readHeader(abandoned));
    const node: LimitedMimeNode = new MimeNodeClass(parent || false, {});
    node._depth = parent ? ((parent as LimitedMimeNode)._depth ?? 0) + 1 : 0;
    this.node = node;
    this.inHeader = true;
    this.nodes++;
    return node;
  }

  /**
   * readHeader, then the limits: a multipart or attached message as deep as maxDepth, or an attached message when no
   * part is left for it, is one opaque leaf (its boundary is not looked for, its content is its body).
   */
  private readHeader(node: LimitedMimeNode): MimeNode {
    readHeader(node);
    const attached = node.contentType === 'message/rfc822' && (!node.encoding || ['7bit', '8bit', 'binary'].includes(node.encoding));
    if (((node.multipart || node._boundary || attached) && (node._depth ?? 0) >= this.maxDepth - 1) || (attached && this.nodes >= this.maxNodes)) {
      node._opaque = true;
      node.multipart = false;
      node._boundary = false;
      node.rfc822 = false;
      node.contentType = 'application/octet-stream';
      this.degraded = true;
    }
    return node;
  }

  private emitNode(node: MimeNode): void {
    this.flush();
    this.events.node(node);
    this.bodyLineCount = 0;
    this.onlyEmptyLine = false;
  }

  private emit(kind: Kind, node: MimeNode | null, bytes: Buffer, start: number, end: number): void {
    if (start === end) return;
    if (this.pendingKind === kind && this.pendingBytes === bytes && this.pendingEnd === start && this.pendingNode === node) {
      this.pendingEnd = end;
      return;
    }
    this.flush();
    this.pendingKind = kind;
    this.pendingNode = node;
    this.pendingBytes = bytes;
    this.pendingStart = start;
    this.pendingEnd = end;
  }

  private flush(): void {
    const kind = this.pendingKind;
    if (kind === Kind.None) return;
    this.pendingKind = Kind.None;
    if (kind === Kind.Body) this.events.body(this.pendingNode!, this.pendingBytes!, this.pendingStart, this.pendingEnd);
    else this.events.data(this.pendingBytes!, this.pendingStart, this.pendingEnd);
    this.pendingBytes = null;
    this.pendingNode = null;
  }

  /** mailsplit's test of a line against the current part's boundary, then its parent's. */
  private boundaryOf(bytes: Buffer, start: number, end: number): Boundary {
    const length = end - start;
    if (length < 4 || this.flat) return Boundary.None;
    // A line may start with the line break held before it (the last line, see end()); mailsplit skips up to two bytes.
    let skip = 0;
    const first = bytes[start];
    if (first === CR) skip = 2;
    else if (first === LF) skip = bytes[start + 1] === LF ? 2 : 1;
    if (bytes[start + skip] !== DASH || bytes[start + skip + 1] !== DASH) return Boundary.None;
    const node = this.node;
    let kind = node._boundary ? compareBoundary(bytes, start, end, skip, node._boundary) : Boundary.None;
    if (kind !== Boundary.None) return kind;
    kind = node._parentBoundary ? compareBoundary(bytes, start, end, skip, node._parentBoundary) : Boundary.None;
    return kind === Boundary.None ? Boundary.None : kind + 2;
  }
}

const LINE_DASH = Buffer.from('\n-', 'latin1');
const LINE_CR = Buffer.from('\n\r', 'latin1');

/**
 * Where the first line after `from` (a line start) that starts with "-" or CR begins, given where "\n-" and "\n\r"
 * are next (or -1); the end of the last whole line when no such line follows; `from` when no line ends.
 */
function nextMaybeBoundary(bytes: Buffer, from: number, dashAt: number, crAt: number): number {
  if (dashAt >= 0 || crAt >= 0) return (dashAt < 0 ? crAt : crAt < 0 ? dashAt : Math.min(dashAt, crAt)) + 1;
  return Math.max(bytes.lastIndexOf(LF) + 1, from);
}

/** A header past this is read by mailsplit for its Content-* fields only (parseContentFields). */
const BIG_HEADER = 64 * 1024;

/**
 * node.parseHeaders() given only the Content-* fields of a big header: mailsplit reads nothing else, and it joins
 * folded lines by splicing an array, which for tens of thousands of them (a Subject of 50,000 encoded words) took
 * over a minute.
 */
function parseContentFields(node: MimeNode): void {
  const all = node._headersLines;
  const length = node._headerlen;
  const kept: Buffer[] = [];
  let keeping = false;
  for (const line of all) {
    const folded = line.length > 0 && (line[0] === SPACE || line[0] === TAB);
    if (!folded) keeping = line.length > 8 && /^content-/i.test(line.toString('latin1', 0, 8));
    if (keeping) kept.push(line);
  }
  node._headersLines = kept;
  node._headerlen = kept.reduce((n, line) => n + line.length, 0);
  try {
    node.parseHeaders();
  } finally {
    node._headersLines = all;
    node._headerlen = length;
  }
}

/** The last two bytes of header lines (-1 where there are fewer). */
function tailOf(lines: Buffer[]): [number, number] {
  const tail: [number, number] = [-1, -1];
  for (const line of lines) {
    if (line.length >= 2) {
      tail[0] = line[line.length - 2];
      tail[1] = line[line.length - 1];
    } else if (line.length === 1) {
      tail[0] = tail[1];
      tail[1] = line[0];
    }
  }
  return tail;
}

/** Reads a part's header once, as StructureSplitter does: in a digest a part without Content-Type is a message. */
function readHeader(node: MimeNode): MimeNode {
  if (node._headerlen > BIG_HEADER) parseContentFields(node);
  else node.parseHeaders();
  const parent = node.parentNode;
  if (parent && parent.multipart === 'digest' && !/^content-type\s*:/im.test(Buffer.concat(node._headersLines).toString('latin1'))) {
    node.contentType = 'message/rfc822';
    node.rfc822 = true;
  }
  // mailsplit descends into an attached message only when inline; IMAP describes every one.
  if (node.contentType === 'message/rfc822') node.disposition = 'inline';
  return node;
}

/**
 * Child (or Close) when bytes[start, end), `skip` bytes in, is `--boundary` (or `--boundary--`) and a line break,
 * with spaces and tabs allowed before the line break (RFC 2046 transport padding) and mailsplit's leniency kept: the
 * line compared is the line without that padding, and it may end without a line break, or after `--boundary-`.
 */
function compareBoundary(bytes: Buffer, start: number, end: number, skip: number, boundary: Buffer): Boundary {
  let textEnd = end;
  while (textEnd > start && (bytes[textEnd - 1] === LF || bytes[textEnd - 1] === CR)) textEnd--;
  let cut = textEnd;
  const afterBoundary = start + skip + 2 + boundary.length;
  while (cut > afterBoundary && (bytes[cut - 1] === SPACE || bytes[cut - 1] === TAB)) cut--;
  // The line compared: bytes[start, cut) then the line break bytes[textEnd, end).
  const length = cut - start + (end - textEnd);
  if (length < boundary.length + 3 + skip || length > boundary.length + 6 + skip) return Boundary.None;
  // Padding is cut only past the boundary, so the boundary's own bytes are where they are in the line.
  for (let i = 0; i < boundary.length; i++) if (bytes[start + skip + 2 + i] !== boundary[i]) return Boundary.None;
  for (let k = 0, at = skip + 2 + boundary.length; at < length; k++, at++) {
    const c = at < cut - start ? bytes[start + at] : bytes[textEnd + at - (cut - start)];
    if (k === 0 && (c === CR || c === LF)) return Boundary.Child;
    if ((k === 0 || k === 1) && c !== DASH) return Boundary.None;
    if (k === 2 && c !== CR && c !== LF) return Boundary.None;
    if (k === 3 && c !== LF) return Boundary.None;
  }
  return Boundary.Close;
}
