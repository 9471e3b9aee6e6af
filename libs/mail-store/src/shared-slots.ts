/**
 * Shared memory where a received message sits once, whole, while the threads that need it read it: the blob writer
 * (write, fsync) and the summariser (parse, tokenise). Without it each of them got its own copy, moved across as an
 * ArrayBuffer: two 300 KB allocations per message on the event loop and one in each worker, which V8 counts as
 * external memory and answers with garbage collections (for 300 KB messages about a fifth of the node's CPU went to
 * marking). The memory is handed to every thread once, when it starts; a message then travels as an offset and a
 * length.
 *
 * A slot is lent by take() and comes back by give(), once every reader has said it is done with it (the blob store
 * and the summariser settle their promises only then, or once their thread is gone). Slots are reused last-in
 * first-out, so a quiet node keeps touching the same few pages: the memory is reserved, not resident. When every
 * slot is out, or a message does not fit one, callers use their own buffers as before.
 */
export class SharedSlots {
  readonly memory: SharedArrayBuffer;
  /** Free slots, the most recently given back last. */
  private readonly free: number[] = [];
  /** Lent slots: their views' byte offsets, so give() accepts only what take() lent. */
  private readonly lent = new Set<number>();

  constructor(readonly slotBytes: number, readonly slotCount: number) {
    if (!(slotBytes > 0 && slotCount > 0)) throw new Error('SharedSlots needs a positive slot size and count');
    this.memory = new SharedArrayBuffer(slotBytes * slotCount);
    for (let i = slotCount - 1; i >= 0; i--) this.free.push(i);
  }

  /** A view of `length` bytes in a free slot, or null when none is free or the length does not fit one. */
  take(length: number): Buffer | null {
    if (length > this.slotBytes) return null;
    const slot = this.free.pop();
    if (slot === undefined) return null;
    const offset = slot * this.slotBytes;
    this.lent.add(offset);
    return Buffer.from(this.memory, offset, length);
  }

  /** Returns a slot lent by take(); its bytes may be overwritten from now on. */
  give(bytes: Buffer): void {
    const offset = bytes.byteOffset;
    if (bytes.buffer !== this.memory || !this.lent.delete(offset)) throw new Error('SharedSlots.give: not a lent slot');
    this.free.push(offset / this.slotBytes);
  }

  get inUse(): number {
    return this.lent.size;
  }
}
