/**
 * The distinct words of a text, found in one pass without a regular expression or a string per occurrence: a long
 * body repeats most of its words, and splitting it into an array of strings to look each one up in a Set costs more
 * than everything else search-tokens.ts does. ASCII text is scanned as bytes into an open-addressing table keyed by
 * an FNV-1a hash computed while scanning; a slot also holds the word's first eight bytes packed in two integers (an
 * exact comparison for most words, without a byte loop) and, for longer words, where the rest is in a byte pool. A
 * word becomes a string only the first time it is seen. Other words go through a Set.
 */

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;
/** 1 for the bytes of ASCII letters and digits (what `\p{L}\p{N}` matches in ASCII). */
const WORD_BYTE = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) WORD_BYTE[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) WORD_BYTE[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) WORD_BYTE[c] = 1;

export class DistinctWords {
  private readonly others = new Set<string>();
  // The table: per slot the word's hash, its length (0: free), its bytes 0-3 and 4-7 little-endian (zero past its
  // end), and where its bytes start in the pool (words longer than 8 bytes only).
  private hashes = new Int32Array(128);
  private lengths = new Int32Array(128);
  private heads = new Int32Array(128);
  private tails = new Int32Array(128);
  private offsets = new Int32Array(128);
  private size = 0;
  private pool = new Uint8Array(1024);
  private poolUsed = 0;

  /**
   * Calls onNew with each word of ASCII `text` seen for the first time, in order: the runs of [A-Za-z0-9], as
   * `text.split(/[^\p{L}\p{N}]+/u)` would find them.
   */
  asciiWords(text: string, onNew: (word: string) => void): void {
    // Indexing bytes is much cheaper than charCodeAt on the concatenated or sliced strings tokenize() hands over.
    // Spaces after the text end its last word and let a word's first eight bytes be read without a bounds test.
    const bytes = Buffer.allocUnsafe(text.length + 8);
    bytes.write(text, 0, 'latin1');
    bytes.fill(0x20, text.length);
    const end = text.length + 1;
    let start = -1;
    let hash = FNV_OFFSET;
    for (let i = 0; i < end; i++) {
      const c = bytes[i];
      if (WORD_BYTE[c] === 1) {
        if (start < 0) {
          start = i;
          hash = FNV_OFFSET;
        }
        hash = Math.imul(hash ^ c, FNV_PRIME);
      } else if (start >= 0) {
        if (!this.seenShort(bytes, start, i, hash) && this.addBytes(bytes, start, i, hash)) onNew(bytes.toString('latin1', start, i));
        start = -1;
      }
    }
  }

  /** True when `word` was not seen before by add() (and is now). */
  add(word: string): boolean {
    if (this.others.has(word)) return false;
    this.others.add(word);
    return true;
  }

  /** True when bytes[start, end) is a word of up to 8 bytes in its first slot: the common case, small to be inlined. */
  private seenShort(bytes: Uint8Array, start: number, end: number, hash: number): boolean {
    const length = end - start;
    const slot = hash & (this.hashes.length - 1);
    if (length > 8 || this.hashes[slot] !== hash || this.lengths[slot] !== length) return false;
    const head = packed(bytes, start);
    const tail = packed(bytes, start + 4);
    return length >= 4
      ? this.heads[slot] === head && this.tails[slot] === (length === 8 ? tail : tail & ((1 << ((length - 4) * 8)) - 1))
      : this.heads[slot] === (head & ((1 << (length * 8)) - 1));
  }

  /** True when bytes[start, end) is new (and added now); bytes holds at least 8 bytes from start. */
  private addBytes(bytes: Uint8Array, start: number, end: number, hash: number): boolean {
    const length = end - start;
    const head = length >= 4 ? packed(bytes, start) : packed(bytes, start) & ((1 << (length * 8)) - 1);
    const tail = length <= 4 ? 0 : length >= 8 ? packed(bytes, start + 4) : packed(bytes, start + 4) & ((1 << ((length - 4) * 8)) - 1);
    const { hashes, lengths, heads, tails } = this;
    const mask = hashes.length - 1;
    let slot = hash & mask;
    for (; lengths[slot] !== 0; slot = (slot + 1) & mask) {
      if (hashes[slot] !== hash || lengths[slot] !== length || heads[slot] !== head || tails[slot] !== tail) continue;
      if (length <= 8) return false;
      const pool = this.pool;
      const offset = this.offsets[slot] - start;
      let k = start + 8;
      while (k < end && pool[offset + k] === bytes[k]) k++;
      if (k === end) return false;
    }
    hashes[slot] = hash;
    lengths[slot] = length;
    heads[slot] = head;
    tails[slot] = tail;
    if (length > 8) {
      if (this.poolUsed + length > this.pool.length) {
        const pool = new Uint8Array(Math.max(this.pool.length * 2, this.poolUsed + length));
        pool.set(this.pool.subarray(0, this.poolUsed));
        this.pool = pool;
      }
      this.pool.set(bytes.subarray(start, end), this.poolUsed);
      this.offsets[slot] = this.poolUsed;
      this.poolUsed += length;
    }
    if (++this.size * 2 > hashes.length) this.grow();
    return true;
  }

  private grow(): void {
    const { hashes, lengths, heads, tails, offsets } = this;
    const capacity = hashes.length * 2;
    this.hashes = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.heads = new Int32Array(capacity);
    this.tails = new Int32Array(capacity);
    this.offsets = new Int32Array(capacity);
    const mask = capacity - 1;
    for (let i = 0; i < hashes.length; i++) {
      if (lengths[i] === 0) continue;
      let slot = hashes[i] & mask;
      while (this.lengths[slot] !== 0) slot = (slot + 1) & mask;
      this.hashes[slot] = hashes[i];
      this.lengths[slot] = lengths[i];
      this.heads[slot] = heads[i];
      this.tails[slot] = tails[i];
      this.offsets[slot] = offsets[i];
    }
  }
}

/** bytes[at, at + 4) as a little-endian 32-bit integer. */
function packed(bytes: Uint8Array, at: number): number {
  return bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24);
}
