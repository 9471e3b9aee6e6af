// distinct-words.ts as it was before the per-word hashing rewrite, kept verbatim as the reference that
// search-tokens-differential.spec.ts compares the current one against (through reference-search-tokens.ts). Test only.
/**
 * The distinct words of a text, found in one pass without a regular expression or a string per occurrence: a long
 * body repeats most of its words, and splitting it into an array of strings to look each one up in a Set costs more
 * than everything else search-tokens.ts does. ASCII text is scanned as bytes into an open-addressing table keyed by
 * an FNV-1a hash computed while scanning; a slot also holds the word's first eight bytes packed in two integers (an
 * exact comparison for most words, without a byte loop) and, for longer words, where the rest is in a byte pool. A
 * word becomes a string only the first time it is seen. Other text is scanned the same way as UTF-8, by runs of ASCII
 * letters, digits and non-ASCII characters: only a run not seen before is split by the regular expression.
 */

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;
/**
 * 1 for the bytes of ASCII letters and digits (what `\p{L}\p{N}` matches in ASCII), and for every byte of a non-ASCII
 * character in UTF-8 (which may or may not be a letter: the run holding it is split by WORD_SPLIT).
 */
const WORD_BYTE = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) WORD_BYTE[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) WORD_BYTE[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) WORD_BYTE[c] = 1;
for (let c = 0x80; c <= 0xff; c++) WORD_BYTE[c] = 1;
const WORD_SPLIT = /[^\p{L}\p{N}]+/u;

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
    // Spaces after the text let a word's first eight bytes be read without running off the end.
    const bytes = Buffer.allocUnsafe(text.length + 8);
    bytes.write(text, 0, 'latin1');
    bytes.fill(0x20, text.length);
    this.scan(bytes, text.length, 0, onNew);
  }

  /**
   * The words of any text, as `text.split(/[^\p{L}\p{N}]+/u)` finds them, in order; each is reported the first time
   * it is seen, and may be reported again where it also stands next to a non-ASCII character (callers keep a set).
   */
  words(text: string, onNew: (word: string) => void): void {
    const length = Buffer.byteLength(text, 'utf8');
    if (length === text.length) {
      this.asciiWords(text, onNew);
      return;
    }
    // A lone surrogate becomes U+FFFD: neither is a letter or a digit, so the words stay the same.
    const bytes = Buffer.allocUnsafe(length + 8);
    bytes.write(text, 0, 'utf8');
    bytes.fill(0x20, length);
    this.scan(bytes, length, 0, onNew);
  }

  /**
   * asciiWords for ASCII bytes, lower-cased (as toLowerCase would): `lowerAsciiWords(b)` finds what
   * `asciiWords(b.toString('latin1').toLowerCase())` finds, without either string.
   */
  lowerAsciiWords(bytes: Buffer, onNew: (word: string) => void): void {
    this.scan(bytes, bytes.length, 0x20, onNew);
  }

  /**
   * The words of bytes[0, end), each byte or'ed with `fold`: 0x20 lower-cases an ASCII letter and leaves a digit as it
   * is, so a word's bytes are compared, hashed and kept folded. Reads past `end` (padding, or undefined past the
   * array, which the bit operations take as 0) only into bytes that the masks below drop.
   */
  private scan(bytes: Buffer, end: number, fold: number, onNew: (word: string) => void): void {
    let start = -1;
    let hash = FNV_OFFSET;
    for (let i = 0; i < end; i++) {
      const c = bytes[i];
      if (WORD_BYTE[c] === 1) {
        if (start < 0) {
          start = i;
          hash = FNV_OFFSET;
        }
        hash = Math.imul(hash ^ (c | fold), FNV_PRIME);
      } else if (start >= 0) {
        this.word(bytes, start, i, hash, fold, onNew);
        start = -1;
      }
    }
    if (start >= 0) this.word(bytes, start, end, hash, fold, onNew);
  }

  private word(bytes: Buffer, start: number, end: number, hash: number, fold: number, onNew: (word: string) => void): void {
    if (this.seenShort(bytes, start, end, hash, fold) || !this.addBytes(bytes, start, end, hash, fold)) return;
    let ascii = true;
    for (let i = start; i < end && ascii; i++) ascii = bytes[i] < 0x80;
    if (ascii) {
      const word = bytes.toString('latin1', start, end);
      onNew(fold ? word.toLowerCase() : word);
      return;
    }
    for (const word of bytes.toString('utf8', start, end).split(WORD_SPLIT)) if (word) onNew(word);
  }

  /** True when `word` was not seen before by add() (and is now). */
  add(word: string): boolean {
    if (this.others.has(word)) return false;
    this.others.add(word);
    return true;
  }

  /** True when bytes[start, end) is a word of up to 8 bytes seen before: the common case, compared without a byte loop. */
  private seenShort(bytes: Uint8Array, start: number, end: number, hash: number, fold: number): boolean {
    const length = end - start;
    if (length > 8) return false;
    const head = length >= 4 ? packed(bytes, start, fold) : packed(bytes, start, fold) & ((1 << (length * 8)) - 1);
    const tail = length <= 4 ? 0 : length === 8 ? packed(bytes, start + 4, fold) : packed(bytes, start + 4, fold) & ((1 << ((length - 4) * 8)) - 1);
    const { hashes, lengths, heads, tails } = this;
    const mask = hashes.length - 1;
    for (let slot = slotOf(hash, mask); lengths[slot] !== 0; slot = (slot + 1) & mask) {
      if (hashes[slot] === hash && lengths[slot] === length && heads[slot] === head && tails[slot] === tail) return true;
    }
    return false;
  }

  /** True when bytes[start, end) (folded) is new, and adds it. */
  private addBytes(bytes: Uint8Array, start: number, end: number, hash: number, fold: number): boolean {
    const length = end - start;
    const head = length >= 4 ? packed(bytes, start, fold) : packed(bytes, start, fold) & ((1 << (length * 8)) - 1);
    const tail = length <= 4 ? 0 : length >= 8 ? packed(bytes, start + 4, fold) : packed(bytes, start + 4, fold) & ((1 << ((length - 4) * 8)) - 1);
    const { hashes, lengths, heads, tails } = this;
    const mask = hashes.length - 1;
    let slot = slotOf(hash, mask);
    for (; lengths[slot] !== 0; slot = (slot + 1) & mask) {
      if (hashes[slot] !== hash || lengths[slot] !== length || heads[slot] !== head || tails[slot] !== tail) continue;
      if (length <= 8) return false;
      const pool = this.pool;
      const offset = this.offsets[slot] - start;
      let k = start + 8;
      while (k < end && pool[offset + k] === (bytes[k] | fold)) k++;
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
      for (let k = 0; k < length; k++) this.pool[this.poolUsed + k] = bytes[start + k] | fold;
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
      let slot = slotOf(hashes[i], mask);
      while (this.lengths[slot] !== 0) slot = (slot + 1) & mask;
      this.hashes[slot] = hashes[i];
      this.lengths[slot] = lengths[i];
      this.heads[slot] = heads[i];
      this.tails[slot] = tails[i];
      this.offsets[slot] = offsets[i];
    }
  }
}

/** A hash's first slot: FNV-1a's low bits see only the low bits of each byte, so the high bits are folded in. */
function slotOf(hash: number, mask: number): number {
  return (hash ^ (hash >>> 16)) & mask;
}

/** bytes[at, at + 4), each or'ed with fold, as a little-endian 32-bit integer. */
function packed(bytes: Uint8Array, at: number, fold: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) | Math.imul(fold, 0x01010101);
}
