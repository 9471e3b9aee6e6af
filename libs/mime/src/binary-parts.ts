/**
 * RFC 3516 APPEND of binary content: each part sent with `Content-Transfer-Encoding: binary` is stored re-encoded as
 * base64 (its header field says so), as Dovecot does. FETCH BODY[] then never carries NUL or bare line-end octets in
 * a plain literal, and FETCH BINARY[] decodes the part back to exactly the octets the client sent. Every other byte —
 * other parts, boundaries, preamble — passes through unchanged.
 */
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import type { MimeNode, SplitterChunk } from 'mailsplit';
import { LineAlignedChunks, StructureSplitter } from './structure-splitter';

const LINE = 76;

function isBinaryLeaf(node: MimeNode): boolean {
  return node.encoding === 'binary' && !node.multipart && node.contentType !== 'message/rfc822';
}

/** The header block with its first Content-Transfer-Encoding field (folded lines included) saying base64. */
function base64Header(header: Buffer): Buffer {
  const text = header.toString('latin1');
  const out = text.replace(/^content-transfer-encoding[ \t]*:[^\n]*?(\r?\n)(?:[ \t][^\n]*\n)*/im, (_field, eol: string) => `Content-Transfer-Encoding: base64${eol}`);
  return Buffer.from(out, 'latin1');
}

/** Base64 in lines of 76 characters, fed in pieces. */
class Base64Lines {
  private rest = Buffer.alloc(0);
  private column = 0;

  push(bytes: Buffer): string {
    const all = this.rest.length ? Buffer.concat([this.rest, bytes]) : bytes;
    const whole = all.length - (all.length % 3);
    this.rest = Buffer.from(all.subarray(whole));
    return this.wrap(all.subarray(0, whole).toString('base64'));
  }

  end(): string {
    const out = this.wrap(this.rest.toString('base64'));
    this.rest = Buffer.alloc(0);
    this.column = 0;
    return out;
  }

  private wrap(encoded: string): string {
    let out = '';
    let i = 0;
    while (i < encoded.length) {
      if (this.column === LINE) {
        out += '\r\n';
        this.column = 0;
      }
      const take = Math.min(LINE - this.column, encoded.length - i);
      out += encoded.slice(i, i + take);
      this.column += take;
      i += take;
    }
    return out;
  }
}

/**
 * Splitter items in, message bytes out. mailsplit hands the line break before a boundary over with the boundary (it
 * belongs there, RFC 2046), so every body item of a converted part is the part's content.
 */
class BinaryPartEncoder extends Transform {
  private encoding: Base64Lines | null = null;

  constructor() {
    super({ writableObjectMode: true });
  }

  override _transform(item: MimeNode | SplitterChunk, _enc: BufferEncoding, done: TransformCallback): void {
    if (item.type === 'body' && this.encoding) {
      const text = this.encoding.push(item.value);
      if (text) this.push(Buffer.from(text, 'latin1'));
      return done();
    }
    this.finishPart('');
    if (item.type === 'node') {
      const header = Buffer.concat(item._headersLines, item._headerlen);
      if (isBinaryLeaf(item)) {
        this.encoding = new Base64Lines();
        this.push(base64Header(header));
      } else this.push(header);
    } else this.push(item.value);
    done();
  }

  override _flush(done: TransformCallback): void {
    // A part that ends the message gets a final line break after its base64.
    this.finishPart('\r\n');
    done();
  }

  private finishPart(lineEnd: string): void {
    if (!this.encoding) return;
    this.push(Buffer.from(this.encoding.end() + lineEnd, 'latin1'));
    this.encoding = null;
  }
}

/** The message with its binary parts in base64; an error (too many parts, an overlong header) ends it. */
export function encodeBinaryParts(source: Readable, limits: { maxHeaderSize?: number; maxParts?: number } = {}): Readable {
  const encoder = new BinaryPartEncoder();
  const splitter = new StructureSplitter({ maxHeadSize: limits.maxHeaderSize, maxChildNodes: limits.maxParts });
  pipeline(source, new LineAlignedChunks(), splitter, encoder, (err) => {
    if (err) encoder.destroy(err);
  });
  return encoder;
}
