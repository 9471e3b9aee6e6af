// mailsplit's splitter made lossless and faithful to IMAP's view of a message; every byte of the input comes out once.
import { Transform, type TransformCallback } from 'node:stream';
import { Splitter, type MimeNode } from 'mailsplit';

// Head state of mailsplit's splitter; a part still in it when a boundary arrives has no body.
const SPLITTER_HEAD = 0x01;

/**
 * mailsplit descends into message/rfc822 only when inline, but IMAP describes every attached message;
 * it also drops a header-only part followed by a sibling, which would shift every offset after it.
 */
export class StructureSplitter extends Splitter {
  // RFC 2046 allows transport padding (spaces, tabs) after a boundary; mailsplit does not.
  protected override compareBoundary(line: Buffer, startpos: number, boundary: Buffer): number | false {
    let end = line.length;
    while (end > 0 && (line[end - 1] === 0x0a || line[end - 1] === 0x0d)) end--;
    let cut = end;
    while (cut > startpos + 2 + boundary.length && (line[cut - 1] === 0x20 || line[cut - 1] === 0x09)) cut--;
    if (cut === end) return super.compareBoundary(line, startpos, boundary);
    return super.compareBoundary(Buffer.concat([line.subarray(0, cut), line.subarray(end)]), startpos, boundary);
  }

  protected override newNode(parent?: MimeNode | false): void {
    const abandoned = this.node;
    if (abandoned && this.state === SPLITTER_HEAD && abandoned._headerlen > 0 && !abandoned.headers) {
      abandoned.parseHeaders();
      this.push(abandoned);
    }
    super.newNode(parent);
    const node = this.node;
    const parse = node.parseHeaders.bind(node);
    node.parseHeaders = () => {
      parse();
      const parentNode = node.parentNode;
      const inDigest = parentNode && parentNode.multipart === 'digest';
      if (inDigest && !/^content-type\s*:/im.test(Buffer.concat(node._headersLines).toString('latin1'))) {
        node.contentType = 'message/rfc822';
        node.rfc822 = true;
      }
      if (node.contentType === 'message/rfc822') node.disposition = 'inline';
    };
  }
}

/**
 * mailsplit 5.4.6 loses bytes when a chunk ends inside a line (notably between CR and LF), which network
 * and file streams do at random; chunks that end at a line end keep it lossless. A line longer than
 * maxLine is cut anyway, never right after a CR.
 */
export class LineAlignedChunks extends Transform {
  private rest: Buffer | null = null;
  bytes = 0;

  constructor(private readonly maxLine = 1024 * 1024) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    let cut = buf.lastIndexOf(10) + 1;
    if (cut === 0 && buf.length > this.maxLine) {
      cut = buf.length;
      while (cut > 0 && buf[cut - 1] === 13) cut--;
    }
    if (cut > 0) this.push(buf.subarray(0, cut));
    this.rest = cut < buf.length ? buf.subarray(cut) : null;
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.rest) this.push(this.rest);
    done();
  }
}
