/**
 * Reads started ahead of their use and handed back in order: while one message is written the next ones are being
 * read, at most `count` of them and, past the first, about `bytes` in flight.
 */
export interface ReadAheadLimits {
  count: number;
  bytes: number;
}

interface Pending<T> {
  item: T;
  size: number;
  data: Promise<Buffer | null>;
}

export class ReadAhead<T> {
  private readonly queue: Array<Pending<T>> = [];
  private bytes = 0;
  private filling = true;

  constructor(private readonly limits: ReadAheadLimits) {}

  get length(): number {
    return this.queue.length;
  }

  /**
   * Whether to start more reads: once full, not again until half has been taken, so reads are asked for in bursts
   * (one message to a read worker per burst rather than one per message).
   */
  wantsMore(): boolean {
    const n = this.queue.length;
    if (n === 0) this.filling = true;
    else if (n >= this.limits.count || this.bytes >= this.limits.bytes) this.filling = false;
    else if (n <= this.limits.count / 2 && this.bytes <= this.limits.bytes / 2) this.filling = true;
    return this.filling;
  }

  /** `size`: what the read will hold, for the byte limit. */
  push(item: T, size: number, data: Promise<Buffer | null>): void {
    // Observed now, so a failure while earlier items are still being written is not an unhandled rejection;
    // it is thrown again where the item is taken.
    data.catch(() => undefined);
    this.queue.push({ item, size, data });
    this.bytes += size;
  }

  async take(): Promise<{ item: T; data: Buffer | null }> {
    const next = this.queue.shift()!;
    this.bytes -= next.size;
    return { item: next.item, data: await next.data };
  }
}
