/**
 * Group commit: work submitted while a batch is running is collected and handed over as the next batch, so many
 * concurrent callers share one round trip (one statement, one transaction, one WAL flush) instead of each paying
 * for their own. An idle queue flushes on the next turn of the event loop, so a lone caller waits for nobody.
 *
 * A batch that fails is retried item by item, so one bad item fails alone; `flush` must therefore be all or nothing
 * (one statement or one transaction), or harmless to repeat.
 */
export interface GroupCommitOptions<T, R> {
  /** Does the work of a batch; returns one result per item, in the same order. */
  flush(items: T[]): Promise<R[]>;
  /** Largest batch (default 100). */
  maxBatch?: number;
  /**
   * Batches running at once (default 1). Beyond the first, a batch starts only when it is full: a half-empty one
   * would only split what, a moment later, the next could take in one round trip.
   */
  maxInFlight?: number;
  /**
   * An idle queue waits this long for company before flushing (default 0: the next turn of the event loop). For
   * work nobody waits on, such as log rows.
   */
  delayMs?: number;
}

interface Pending<T, R> {
  item: T;
  resolve(result: R): void;
  reject(err: unknown): void;
}

export class GroupCommit<T, R> {
  private readonly queue: Array<Pending<T, R>> = [];
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly o: GroupCommitOptions<T, R>) {
    this.maxBatch = o.maxBatch ?? 100;
    this.maxInFlight = o.maxInFlight ?? 1;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.inFlight < this.maxInFlight && !this.scheduled) {
        // Whatever else arrives in this turn of the event loop (other sockets, other jobs) joins the batch.
        this.scheduled = true;
        const flush = () => {
          this.scheduled = false;
          this.pump();
        };
        if (this.o.delayMs) setTimeout(flush, this.o.delayMs);
        else setImmediate(flush);
      }
    });
  }

  /** Items waiting for a batch. */
  get waiting(): number {
    return this.queue.length;
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0 && (this.inFlight === 0 || this.queue.length >= this.maxBatch)) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async run(batch: Array<Pending<T, R>>): Promise<void> {
    try {
      const results = await this.o.flush(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i]));
    } catch (err) {
      if (batch.length === 1) {
        batch[0].reject(err);
        return;
      }
      await Promise.all(batch.map(async (p) => {
        try {
          const [result] = await this.o.flush([p.item]);
          p.resolve(result);
        } catch (alone) {
          p.reject(alone);
        }
      }));
    }
  }
}
