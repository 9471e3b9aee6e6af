// Pull-style reader over a socket's chunks: lines and literals are taken only as far as their limits allow.
import type { Writable } from 'node:stream';

export class InputClosedError extends Error {
  constructor() {
    super('connection closed');
    this.name = 'InputClosedError';
  }
}

export type LineResult = { ok: true; line: Buffer } | { ok: false; discarded: number };

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
   * One line without its CRLF (a bare LF is accepted). A line longer than maxBytes is consumed up to its end without
   * being kept, so an attacker never makes us hold more than maxBytes.
   */
  async readLine(maxBytes: number): Promise<LineResult> {
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let discarded = 0;
    for (;;) {
      await this.waitForData();
      const head = this.chunks[0];
      const nl = head.indexOf(10);
      const piece = this.take(nl >= 0 ? nl + 1 : head.length);
      if (discarded === 0 && keptBytes + piece.length <= maxBytes + 2) {
        kept.push(piece);
        keptBytes += piece.length;
      } else {
        if (discarded === 0) discarded = keptBytes;
        kept.length = 0;
        keptBytes = 0;
        discarded += piece.length;
      }
      if (nl < 0) continue;
      if (discarded > 0) return { ok: false, discarded };
      let line = Buffer.concat(kept, keptBytes);
      line = line.subarray(0, line.length - 1);
      if (line.length && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
      if (line.length > maxBytes) return { ok: false, discarded: line.length };
      return { ok: true, line };
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
