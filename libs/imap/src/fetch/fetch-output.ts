/**
 * A FETCH response on its way to the socket: response text and literals gathered into large writes, each sent once
 * it reaches a chunk's size and only when the socket has taken the previous one (backpressure).
 */
import type { Session } from '../session';

/** Bytes per socket write: large enough that TLS and DEFLATE see big records, small enough to bound memory. */
export const OUTPUT_CHUNK_BYTES = 256 * 1024;

export class FetchOutput {
  private text = '';
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly session: Session) {}

  /** Response text: byte strings (one char per octet), as imap-format prints them. */
  add(value: string): void {
    this.text += value;
  }

  literal(data: Buffer): void {
    this.seal();
    this.chunks.push(data);
    this.bytes += data.length;
  }

  get full(): boolean {
    return this.bytes + this.text.length >= OUTPUT_CHUNK_BYTES;
  }

  /** Sends what is gathered and waits for the socket to drain. */
  async flush(): Promise<void> {
    this.hand();
    await this.session.flush();
  }

  /** Leaves the rest to go out with the tagged reply. */
  end(): void {
    this.hand();
  }

  /** To the session, piece by piece: the socket gets them in one vectored write, not copied into one buffer. */
  private hand(): void {
    this.seal();
    for (const chunk of this.chunks) this.session.write(chunk);
    this.chunks = [];
    this.bytes = 0;
  }

  private seal(): void {
    if (!this.text) return;
    const buf = Buffer.from(this.text, 'latin1');
    this.chunks.push(buf);
    this.bytes += buf.length;
    this.text = '';
  }
}
