// Pull-style reader over a socket's chunks: lines and literals are taken only as far as their limits allow.
import type { Writable } from 'node:stream';

export class InputClosedError extends Error {
  constructor() {
    super('connection closed');
    this.name = 'InputClosedError';
  }
}

/** An overlong line: `start` is what was read of it (about the limit); unless `ended`, the rest is still unread. */
export type LineResult = { ok: true; line: Buffer } | { ok: false; start: Buffer; ended: boolean };

export class InputReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private closed = false;
  private wake: (() => void) | null = null;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  get pending(): number {
    return this.buffered;
  }

  /** Bytes buffered beyond what a reader asked for: a back-pressure signal for the socket. */
  get isClosed(): boolean {
    return this.closed;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private async waitForData(): Promise<void> {
    if (this.buffered > 0) return;
    if (this.closed) throw new InputClosedError();
    await new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    if (this.buffered === 0 && this.closed) throw new InputClosedError();
  }

  private take(n: number): Buffer {
    const out: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const head = this.chunks[0];
      if (head.length <= left) {
        out.push(head);
        this.chunks.shift();
        left -= head.length;
      } else {
        out.push(head.subarray(0, left));
        this.chunks[0] = head.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n;
    return out.length === 1 ? out[0] : Buffer.concat(out, n);
  }

  /**
   * One line without its CRLF (a bare LF is accepted). A line longer than maxBytes is given up as soon as the limit is
   * passed, before its end arrives, so the client gets its answer at once and we never hold more than maxBytes: the
   * result then carries the line's first bytes (for the tag), and `discardLine` drops the rest.
   */
  async readLine(maxBytes: number): Promise<LineResult> {
    const kept: Buffer[] = [];
    let keptBytes = 0;
    for (;;) {
      await this.waitForData();
      const head = this.chunks[0];
      const nl = head.indexOf(10);
      // Room for the CR before the LF; more than that is over the limit whether or not the line ends here.
      const room = maxBytes + 2 - keptBytes;
      const want = nl >= 0 ? nl + 1 : head.length;
      if (want > room) {
        kept.push(this.take(Math.min(room, head.length)));
        return { ok: false, start: Buffer.concat(kept), ended: false };
      }
      const piece = this.take(want);
      kept.push(piece);
      keptBytes += piece.length;
      if (nl < 0) continue;
      let line = Buffer.concat(kept, keptBytes);
      line = line.subarray(0, line.length - 1);
      if (line.length && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
      if (line.length > maxBytes) return { ok: false, start: line.subarray(0, maxBytes), ended: true };
      return { ok: true, line };
    }
  }

  /** Drops input up to and including the next LF; returns the last bytes dropped (a literal announcement, if any). */
  async discardLine(): Promise<Buffer> {
    let tail = Buffer.alloc(0);
    for (;;) {
      await this.waitForData();
      const head = this.chunks[0];
      const nl = head.indexOf(10);
      const piece = this.take(nl >= 0 ? nl + 1 : head.length);
      tail = Buffer.concat([tail, piece]);
      if (tail.length > 64) tail = tail.subarray(tail.length - 64);
      if (nl >= 0) return tail;
    }
  }

  async readBytes(n: number): Promise<Buffer> {
    const out: Buffer[] = [];
    let left = n;
    while (left > 0) {
      await this.waitForData();
      const piece = this.take(Math.min(left, this.buffered));
      out.push(piece);
      left -= piece.length;
    }
    return Buffer.concat(out, n);
  }

  /** Streams n bytes into a writable (APPEND literals go to the blob store this way), respecting its back-pressure. */
  async pipeBytes(n: number, sink: Writable | null): Promise<void> {
    let left = n;
    while (left > 0) {
      await this.waitForData();
      const piece = this.take(Math.min(left, this.buffered));
      left -= piece.length;
      if (sink && !sink.destroyed && !sink.write(piece)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            sink.off('drain', done);
            sink.off('close', done);
            sink.off('error', done);
            resolve();
          };
          sink.once('drain', done);
          sink.once('close', done);
          sink.once('error', done);
        });
      }
    }
  }

  /** Whether the next unread byte is immediately available and equals `byte`. */
  peekByte(): number | null {
    return this.buffered > 0 ? this.chunks[0][0] : null;
  }
}
