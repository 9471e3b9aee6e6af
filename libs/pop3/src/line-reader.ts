// Command lines from a byte stream, with the line length limit checked before the bytes are kept.

export type LineResult = { kind: 'line'; text: string } | { kind: 'too-long' } | { kind: 'closed' };

export class LineReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Dropping an oversized line until its end. */
  private skipping = false;
  private closed = false;
  private wake: (() => void) | null = null;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** After STLS: anything the client pipelined in clear text must not be read as if it came over TLS. */
  discardBuffered(): void {
    this.chunks = [];
    this.buffered = 0;
    this.skipping = false;
  }

  async readLine(): Promise<LineResult> {
    for (;;) {
      const result = this.take();
      if (result) return result;
      if (this.closed) return { kind: 'closed' };
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private take(): LineResult | null {
    for (;;) {
      const data = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.chunks = data.length ? [data] : [];
      const lf = data.indexOf(0x0a);
      if (this.skipping) {
        // The rest of a line already answered as too long: dropped as it comes, up to its end.
        this.chunks = lf < 0 ? [] : [data.subarray(lf + 1)];
        this.buffered = lf < 0 ? 0 : data.length - lf - 1;
        if (lf < 0) return null;
        this.skipping = false;
        continue;
      }
      if (lf < 0) {
        if (data.length <= this.maxLineBytes) return null;
        // Answered now, not when (if ever) its end arrives: a client waiting for a reply gets one, and nothing is kept.
        this.skipping = true;
        this.chunks = [];
        this.buffered = 0;
        return { kind: 'too-long' };
      }
      const rest = data.subarray(lf + 1);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
      if (lf + 1 > this.maxLineBytes) return { kind: 'too-long' };
      const end = lf > 0 && data[lf - 1] === 0x0d ? lf - 1 : lf;
      return { kind: 'line', text: data.subarray(0, end).toString('utf8') };
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
