/**
 * The distinct words of a text, found in one pass without a regular expression or a string per occurrence: a long
 * body repeats most of its words, and splitting it into an array of strings to look each one up in a Set costs more
 * than everything else search-tokens.ts does. Text is scanned as bytes, a block at a time: first where its words start
 * and end, four bytes a step through table lookups and without a branch (where a word ends is what a processor cannot
 * predict), then each word is looked up in an open-addressing table by its first sixteen bytes read as four 32-bit
 * integers (an exact comparison for most words; longer ones also compare the rest, kept in a byte pool). A word
 * becomes a string only the first time it is seen. A word seen before also remembers where: when the bytes after it
 * repeat those after its last occurrence (a quoted reply, a signature, a repeated line), the repeated stretch holds
 * no word not seen yet and is passed over at four bytes a step.
 */

/** Which bytes are parts of words: one bit a byte, and two bits for each pair of bytes (little-endian), to read four at a time. */
interface WordBytes {
  readonly byte: Uint8Array;
  readonly pair: Uint8Array;
}

function wordBytes(isWord: (c: number) => boolean): WordBytes {
  const byte = new Uint8Array(256);
  for (let c = 0; c < 256; c++) byte[c] = isWord(c) ? 1 : 0;
  const pair = new Uint8Array(65536);
  for (let p = 0; p < 65536; p++) pair[p] = byte[p & 0xff] | (byte[p >>> 8] << 1);
  return { byte, pair };
}

/**
 * ASCII letters and digits (what `\p{L}\p{N}` matches in ASCII), and every byte of a non-ASCII character in UTF-8
 * (which may or may not be a letter: the run holding it is split by WORD_SPLIT).
 */
const UTF8_WORD = wordBytes((c) => c >= 0x80 || /[\p{L}\p{N}]/u.test(String.fromCharCode(c)));
const WORD_SPLIT = /[^\p{L}\p{N}]+/u;
/** The Latin-1 characters `\p{L}\p{N}` matches: in text of such characters a byte is a whole character. */
const LATIN1_WORD = wordBytes((c) => /[\p{L}\p{N}]/u.test(String.fromCharCode(c)));

/**
 * Where words start or end among four bytes, by key: the four bytes' word bits (see WordBytes) shifted left once, or'ed
 * with the bit of the byte before them. EDGE_COUNT says how many places, EDGE_AT (four per key) which (0 to 3).
 */
const EDGE_COUNT = new Uint8Array(32);
const EDGE_AT = new Uint8Array(4 * 32);
for (let key = 0; key < 32; key++) {
  for (let b = 0, before = key & 1; b < 4; b++) {
    const bit = (key >> (b + 1)) & 1;
    if (bit !== before) EDGE_AT[4 * key + EDGE_COUNT[key]++] = b;
    before = bit;
  }
}
/** Bytes whose word edges are found before their words are looked up: few enough to stay in the first-level cache. */
const BLOCK = 2048;

/** How many of a word's first bytes the table holds as integers: most words are shorter. */
const KEY_BYTES = 16;
/**
 * Per word length (0 to KEY_BYTES), the masks that keep a word's own bytes in each of the four 32-bit integers read
 * from where it starts (the bytes after it are zeroed).
 */
const KEY_MASKS = new Int32Array(4 * (KEY_BYTES + 1));
for (let length = 0; length <= KEY_BYTES; length++) {
  for (let k = 0; k < 4; k++) KEY_MASKS[4 * length + k] = lowBytes(Math.min(Math.max(length - 4 * k, 0), 4));
}
// What a new word's bytes become: ASCII as they are (or lower-cased), a UTF-8 run split by WORD_SPLIT, or Latin-1
// characters normalised as normalizeSearchText would.
const AS_UTF8 = 0;
const AS_LATIN1 = 1;
// A slot of the table: eight integers.
const LENGTH = 0; // the word's length in bytes; 0: a free slot
const KEY = 1; // four integers: bytes 0-15, little-endian, zero past the word's end
const HASH = 5;
const POOLED = 6; // where the bytes of a word longer than KEY_BYTES start in the pool
const LAST_AT = 7; // where the word was last met, as `origin + index + 1` (0: in no text scanned since)

export class DistinctWords {
  private readonly others = new Set<string>();
  private slots = new Int32Array(8 * 128);
  private size = 0;
  private pool = new Uint8Array(1024);
  private poolUsed = 0;
  // Positions of the text being scanned are told apart from those of texts scanned before by this offset.
  private origin = 0;
  private nextOrigin = 1;
  // Room for a block's word edges (and four more, see wordEdges), for the longest block scanned yet.
  private edges = new Int32Array(0);

  /**
   * Calls onNew with each word of ASCII `text` seen for the first time, in order: the runs of [A-Za-z0-9], as
   * `text.split(/[^\p{L}\p{N}]+/u)` would find them.
   */
  asciiWords(text: string, onNew: (word: string) => void): void {
    // Indexing bytes is much cheaper than charCodeAt on the concatenated or sliced strings tokenize() hands over.
    this.scan(Buffer.from(text, 'latin1'), UTF8_WORD, 0, AS_UTF8, onNew);
  }

  /**
   * The words of any text, as `text.split(/[^\p{L}\p{N}]+/u)` finds them, in order; each is reported the first time
   * it is seen, and may be reported again where it also stands next to a non-ASCII character (callers keep a set).
   */
  words(text: string, onNew: (word: string) => void): void {
    // A lone surrogate becomes U+FFFD: neither is a letter or a digit, so the words stay the same.
    this.scan(Buffer.from(text, 'utf8'), UTF8_WORD, 0, AS_UTF8, onNew);
  }

  /**
   * asciiWords for ASCII bytes, lower-cased (as toLowerCase would): `lowerAsciiWords(b)` finds what
   * `asciiWords(b.toString('latin1').toLowerCase())` finds, without either string.
   */
  lowerAsciiWords(bytes: Buffer, onNew: (word: string) => void): void {
    this.scan(bytes, UTF8_WORD, 0x20, AS_UTF8, onNew);
  }

  /**
   * The words of Latin-1 text (one byte per character), normalised: what `words(normalizeSearchText(text))` finds
   * for the text `bytes.toString('latin1')`, provided that normalising maps each of its letters and digits to one
   * letter or digit and every other character to neither (search-tokens.ts checks that). A word may be reported once
   * per way of writing it (`The`, `the`): callers keep a set.
   */
  normalisedLatin1Words(bytes: Buffer, onNew: (word: string) => void): void {
    this.scan(bytes, LATIN1_WORD, 0, AS_LATIN1, onNew);
  }

  /** True when `word` was not seen before by add() (and is now). */
  add(word: string): boolean {
    if (this.others.has(word)) return false;
    this.others.add(word);
    return true;
  }

  /**
   * The words of `bytes`: the runs of bytes `wordBytes` marks, each byte or'ed with `fold` (0x20 lower-cases an ASCII
   * letter and leaves a digit as it is), so that a word's bytes are compared, hashed and kept folded. A block's word
   * edges are found first, four bytes a step and without a branch (where a word ends is not predictable), then its
   * words are looked up.
   */
  private scan(bytes: Buffer, wordBytes: WordBytes, fold: number, as: number, onNew: (word: string) => void): void {
    const end = bytes.length;
    if (this.nextOrigin > 0x3fffffff - end) this.forgetPlaces();
    const origin = (this.origin = this.nextOrigin);
    this.nextOrigin += end + 1;
    const view = new DataView(bytes.buffer, bytes.byteOffset, end);
    const fold32 = Math.imul(fold, 0x01010101);
    const { byte, pair } = wordBytes;
    // Up to `limit` every word is followed by a byte that ends it; the word after is read apart.
    let limit = end;
    while (limit > 0 && byte[bytes[limit - 1]] === 1) limit--;
    if (this.edges.length < Math.min(end, BLOCK) + 5) this.edges = new Int32Array(Math.min(end, BLOCK) + 5);
    const edges = this.edges;
    let slots = this.slots;
    let mask = (slots.length >> 3) - 1;
    // The start of a word that goes on past the block; every word that starts before `known` was seen (repeatEnd).
    let open = -1;
    let known = 0;
    for (let from = 0; from < limit;) {
      const to = Math.min(from + BLOCK, limit);
      let count = 0;
      if (open >= 0) edges[count++] = open;
      count = wordEdges(bytes, view, from, to, pair, byte, open >= 0 ? 1 : 0, edges, count);
      let k = 0;
      for (; k + 1 < count; k += 2) {
        const start = edges[k];
        const wordEnd = edges[k + 1];
        if (start < known) continue;
        const length = wordEnd - start;
        // The common case, inline: a word of up to KEY_BYTES, seen before, in the first slot its hash gives.
        if (length <= KEY_BYTES && start + KEY_BYTES <= end) {
          const m = length << 2;
          const k0 = (view.getInt32(start, true) | fold32) & KEY_MASKS[m];
          const k1 = (view.getInt32(start + 4, true) | fold32) & KEY_MASKS[m + 1];
          const k2 = (view.getInt32(start + 8, true) | fold32) & KEY_MASKS[m + 2];
          const k3 = (view.getInt32(start + 12, true) | fold32) & KEY_MASKS[m + 3];
          const hash = hashOf(length, k0, k1, k2, k3);
          let at = ((hash ^ (hash >>> 16)) & mask) << 3;
          while (slots[at + LENGTH] !== 0 && !(slots[at + LENGTH] === length && slots[at + KEY] === k0 && slots[at + KEY + 1] === k1 && slots[at + KEY + 2] === k2 && slots[at + KEY + 3] === k3)) {
            at = (at + 8) & (mask << 3);
          }
          if (slots[at + LENGTH] !== 0) {
            const before = slots[at + LAST_AT] - 1 - origin;
            slots[at + LAST_AT] = origin + start + 1;
            if (before >= 0 && wordEnd + 4 <= end && view.getInt32(wordEnd, true) === view.getInt32(wordEnd - start + before, true)) {
              known = repeatEnd(bytes, view, wordEnd, start - before, byte);
            }
            continue;
          }
        }
        known = Math.max(known, this.word(bytes, view, start, wordEnd, byte, fold32, as, onNew));
        slots = this.slots;
        mask = (slots.length >> 3) - 1;
      }
      open = k < count ? edges[k] : -1;
      from = to;
      // A repeated stretch past the block: its words are known, the byte before `known` ends a word.
      if (known > from) {
        from = known;
        open = -1;
      }
    }
    if (limit < end) this.word(bytes, view, limit, end, byte, fold32, as, onNew);
  }

  /** Looks bytes[start, wordEnd) up (adding it when new) and tells where scanning goes on: past a repeated stretch. */
  private word(bytes: Buffer, view: DataView, start: number, wordEnd: number, wordByte: Uint8Array, fold32: number, as: number, onNew: (word: string) => void): number {
    const length = wordEnd - start;
    const m = Math.min(length, KEY_BYTES) << 2;
    let k0: number, k1: number, k2: number, k3: number;
    if (start + KEY_BYTES <= bytes.length) {
      k0 = (view.getInt32(start, true) | fold32) & KEY_MASKS[m];
      k1 = (view.getInt32(start + 4, true) | fold32) & KEY_MASKS[m + 1];
      k2 = (view.getInt32(start + 8, true) | fold32) & KEY_MASKS[m + 2];
      k3 = (view.getInt32(start + 12, true) | fold32) & KEY_MASKS[m + 3];
    } else {
      // Near the end, where reading four bytes could run past it.
      k0 = packed(bytes, start, wordEnd, fold32) & KEY_MASKS[m];
      k1 = packed(bytes, start + 4, wordEnd, fold32) & KEY_MASKS[m + 1];
      k2 = packed(bytes, start + 8, wordEnd, fold32) & KEY_MASKS[m + 2];
      k3 = packed(bytes, start + 12, wordEnd, fold32) & KEY_MASKS[m + 3];
    }
    let hash = hashOf(length, k0, k1, k2, k3);
    if (length > KEY_BYTES) hash = longHash(bytes, view, start + KEY_BYTES, wordEnd, fold32, hash);
    const slots = this.slots;
    const mask = (slots.length >> 3) - 1;
    let at = ((hash ^ (hash >>> 16)) & mask) << 3;
    for (; slots[at + LENGTH] !== 0; at = (at + 8) & (mask << 3)) {
      if (slots[at + LENGTH] === length && slots[at + KEY] === k0 && slots[at + KEY + 1] === k1 && slots[at + KEY + 2] === k2 && slots[at + KEY + 3] === k3
        && (length <= KEY_BYTES || this.samePooled(slots[at + POOLED], bytes, start, wordEnd, fold32))) {
        return this.seenAgain(at, bytes, view, start, wordEnd, wordByte);
      }
    }
    slots[at + LENGTH] = length;
    slots[at + KEY] = k0;
    slots[at + KEY + 1] = k1;
    slots[at + KEY + 2] = k2;
    slots[at + KEY + 3] = k3;
    slots[at + HASH] = hash;
    if (length > KEY_BYTES) slots[at + POOLED] = this.pooled(bytes, start, wordEnd, fold32);
    slots[at + LAST_AT] = this.origin + start + 1;
    if (++this.size * 2 > mask) this.grow();
    this.report(bytes, start, wordEnd, fold32 !== 0, as, onNew);
    return wordEnd;
  }

  /** Records where the known word in slot `at` was met again, and where scanning goes on (see repeatEnd). */
  private seenAgain(at: number, bytes: Buffer, view: DataView, start: number, wordEnd: number, wordByte: Uint8Array): number {
    const before = this.slots[at + LAST_AT] - 1 - this.origin;
    this.slots[at + LAST_AT] = this.origin + start + 1;
    if (before < 0 || wordEnd + 4 > bytes.length || view.getInt32(wordEnd, true) !== view.getInt32(wordEnd - start + before, true)) return wordEnd;
    return repeatEnd(bytes, view, wordEnd, start - before, wordByte);
  }

  /** True when the bytes past KEY_BYTES of the word pooled at `offset` are those of bytes[start, wordEnd) (folded). */
  private samePooled(offset: number, bytes: Buffer, start: number, wordEnd: number, fold32: number): boolean {
    const pool = this.pool;
    const fold = fold32 & 0xff;
    const shift = offset - start;
    let k = start + KEY_BYTES;
    while (k < wordEnd && pool[shift + k] === (bytes[k] | fold)) k++;
    return k === wordEnd;
  }

  /** Keeps bytes[start, wordEnd) (folded) in the pool, and tells where. */
  private pooled(bytes: Buffer, start: number, wordEnd: number, fold32: number): number {
    const length = wordEnd - start;
    if (this.poolUsed + length > this.pool.length) {
      const pool = new Uint8Array(Math.max(this.pool.length * 2, this.poolUsed + length));
      pool.set(this.pool.subarray(0, this.poolUsed));
      this.pool = pool;
    }
    const fold = fold32 & 0xff;
    const offset = this.poolUsed;
    for (let k = 0; k < length; k++) this.pool[offset + k] = bytes[start + k] | fold;
    this.poolUsed += length;
    return offset;
  }

  /** Hands a new word over as a string (or strings: a UTF-8 run may hold several words, or none). */
  private report(bytes: Buffer, start: number, end: number, lower: boolean, as: number, onNew: (word: string) => void): void {
    let ascii = true;
    for (let i = start; i < end && ascii; i++) ascii = bytes[i] < 0x80;
    if (ascii) {
      const word = bytes.toString('latin1', start, end);
      onNew(lower || as === AS_LATIN1 ? word.toLowerCase() : word);
    } else if (as === AS_LATIN1) {
      onNew(bytes.toString('latin1', start, end).normalize('NFKC').toLowerCase());
    } else {
      for (const word of bytes.toString('utf8', start, end).split(WORD_SPLIT)) if (word) onNew(word);
    }
  }

  private grow(): void {
    const old = this.slots;
    // Four times as large while small (fewer rounds of moving every word), twice once past 2 MB.
    const slots = (this.slots = new Int32Array(old.length * (old.length < 8 * 65536 ? 4 : 2)));
    const mask = (slots.length >> 3) - 1;
    for (let from = 0; from < old.length; from += 8) {
      if (old[from + LENGTH] === 0) continue;
      const hash = old[from + HASH];
      let at = ((hash ^ (hash >>> 16)) & mask) << 3;
      while (slots[at + LENGTH] !== 0) at = (at + 8) & (mask << 3);
      for (let k = 0; k < 8; k++) slots[at + k] = old[from + k];
    }
  }

  /** Drops every word's last place (positions are about to wrap around). */
  private forgetPlaces(): void {
    for (let at = LAST_AT; at < this.slots.length; at += 8) this.slots[at] = 0;
    this.nextOrigin = 1;
  }
}

/**
 * Writes where words start and end in bytes[from, to) to `edges` from `count` on, in order, and tells how many there
 * are now. `inWord` is 1 when the byte before `from` is part of a word.
 */
function wordEdges(bytes: Buffer, view: DataView, from: number, to: number, pair: Uint8Array, byte: Uint8Array, inWord: number, edges: Int32Array, count: number): number {
  let before = inWord;
  let i = from;
  for (; i + 4 <= to; i += 4) {
    const four = view.getInt32(i, true);
    const key = ((pair[four & 0xffff] | (pair[four >>> 16] << 2)) << 1) | before;
    // Four places written whatever the count: the ones past it are overwritten next.
    const at = key << 2;
    edges[count] = i + EDGE_AT[at];
    edges[count + 1] = i + EDGE_AT[at + 1];
    edges[count + 2] = i + EDGE_AT[at + 2];
    edges[count + 3] = i + EDGE_AT[at + 3];
    count += EDGE_COUNT[key];
    before = key >>> 4;
  }
  for (; i < to; i++) {
    const bit = byte[bytes[i]];
    if (bit !== before) edges[count++] = i;
    before = bit;
  }
  return count;
}

/** A word's hash, from its length and first KEY_BYTES bytes: four independent multiplications. */
function hashOf(length: number, k0: number, k1: number, k2: number, k3: number): number {
  return Math.imul(k0, 0x9e3779b1) ^ Math.imul(k1, 0x85ebca77) ^ Math.imul(k2, 0xc2b2ae3d) ^ Math.imul(k3 + length, 0x27d4eb2f);
}

/**
 * Where scanning goes on after a word that ends at `wordEnd` and was also met `distance` bytes before, when the
 * 4 bytes after both are the same: at the end of the stretch that repeats, back to the last byte in it that ends a
 * word (the word after it may go on past the stretch). Any word wholly inside the stretch stands at the same place in
 * the earlier copy, which was scanned before (the copies may overlap: each word of it then is at an earlier place,
 * scanned before, by induction). The byte at wordEnd ends the word, so the last loop stops there at the latest.
 */
function repeatEnd(bytes: Buffer, view: DataView, wordEnd: number, distance: number, wordByte: Uint8Array): number {
  const end = bytes.length;
  let k = wordEnd + 4;
  // Most repeats are short; one that goes on past 64 bytes is compared natively, in chunks that grow.
  const short = Math.min(k + 64, end);
  while (k + 4 <= short && view.getInt32(k, true) === view.getInt32(k - distance, true)) k += 4;
  if (k + 4 > short) {
    for (let chunk = 256; k + chunk <= end && bytes.compare(bytes, k - distance, k - distance + chunk, k, k + chunk) === 0; chunk = Math.min(2 * chunk, 65536)) {
      k += chunk;
    }
    while (k + 4 <= end && view.getInt32(k, true) === view.getInt32(k - distance, true)) k += 4;
  }
  k--;
  while (wordByte[bytes[k]] === 1) k--;
  return k + 1;
}

/** An integer with the low `n` (0 to 4) bytes set. */
function lowBytes(n: number): number {
  return n === 4 ? -1 : (1 << (n * 8)) - 1;
}

/** bytes[at, min(at + 4, end)), each or'ed with fold, as a little-endian integer (0 past `end`). */
function packed(bytes: Uint8Array, at: number, end: number, fold32: number): number {
  let value = 0;
  for (let k = Math.min(at + 4, end) - 1; k >= at; k--) value = (value << 8) | bytes[k];
  return value | fold32;
}

/** Folds bytes[from, to) into a word's hash, four at a time. */
function longHash(bytes: Uint8Array, view: DataView, from: number, to: number, fold32: number, hash: number): number {
  let k = from;
  for (; k + 4 <= to; k += 4) hash = Math.imul(hash ^ (view.getInt32(k, true) | fold32), 0x27d4eb2d);
  if (k < to) hash = Math.imul(hash ^ (packed(bytes, k, to, fold32) & lowBytes(to - k)), 0x27d4eb2d);
  return hash;
}
