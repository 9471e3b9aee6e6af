/**
 * A message as a POP3 multi-line response body (RFC 1939 §3): lines starting with "." get another one, the response
 * ends with CRLF "." CRLF. The bytes are otherwise served as stored, so RETR gives back exactly what was delivered.
 * With `bodyLines` it also cuts the message after the header and that many body lines (TOP).
 */
const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const DOT_BUFFER = Buffer.from('.');
const CRLF = Buffer.from('\r\n');
const TERMINATOR = Buffer.from('.\r\n');

export class DotStuffer {
  private atLineStart = true;
  private inHeader = true;
  /** Bytes of the current line so far and its last one, to tell an empty line (header end) across chunks. */
  private lineBytes = 0;
  private lastByte = -1;
  private remaining: number | null;
  /** TOP has what it asked for: the caller stops reading the source. */
  done = false;

  constructor(bodyLines?: number) {
    this.remaining = bodyLines ?? null;
  }

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length && !this.done) {
      if (this.atLineStart && chunk[pos] === DOT) out.push(DOT_BUFFER);
      const lf = chunk.indexOf(LF, pos);
      if (lf < 0) {
        out.push(chunk.subarray(pos));
        this.lineBytes += chunk.length - pos;
        this.lastByte = chunk[chunk.length - 1];
        this.atLineStart = false;
        break;
      }
      out.push(chunk.subarray(pos, lf + 1));
      this.lineBytes += lf - pos;
      if (lf > pos) this.lastByte = chunk[lf - 1];
      this.endLine();
      pos = lf + 1;
    }
    return out;
  }

  /** What still has to be written after the last chunk: a missing final CRLF and the terminator. */
  end(): Buffer[] {
    return this.atLineStart ? [TERMINATOR] : [CRLF, TERMINATOR];
  }

  private endLine(): void {
    const empty = this.lineBytes === 0 || (this.lineBytes === 1 && this.lastByte === CR);
    this.atLineStart = true;
    this.lineBytes = 0;
    this.lastByte = -1;
    if (this.inHeader) {
      if (!empty) return;
      this.inHeader = false;
      if (this.remaining === 0) this.done = true;
      return;
    }
    if (this.remaining !== null && --this.remaining <= 0) this.done = true;
  }
}

/** Byte-stuffs a whole buffer (tests, small responses). */
export function stuffMessage(source: Buffer, bodyLines?: number): Buffer {
  const s = new DotStuffer(bodyLines);
  return Buffer.concat([...s.push(source), ...s.end()]);
}
