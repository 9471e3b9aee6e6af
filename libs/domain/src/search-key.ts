/**
 * The keys the message search index holds: each lexeme (a word, a word's piece, an address; see libs/mime
 * search-tokens.ts) stands in the index as a 53-bit hash of its UTF-8 bytes, an int8 in PostgreSQL and an exact
 * integer in JavaScript. A GIN index over int8[] costs PostgreSQL a fraction of one over a tsvector of the words.
 *
 * Keys are stored, so this function must never change: a new hash needs a migration that rekeys every message.
 * Two lexemes may share a key, with odds of about 1 in 10^16 for a given pair: a SEARCH of a million messages of a
 * thousand lexemes each confirms a message wrongly about once in ten million searches (libs/imap text-search.ts
 * takes a message whose keys include the whole query's as containing it; it reads the others it must check).
 */

const TWO_32 = 4294967296;

/** murmur3's 32-bit finaliser: every input bit reaches every output bit. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The key of one lexeme as given (no case folding): two 32-bit multiplicative hashes of its UTF-8 bytes, one kept
 * whole and 21 bits of the other, as an integer in [0, 2^53). A lone surrogate counts as U+FFFD, as in Buffer.from.
 */
export function searchKey(lexeme: string): number {
  ha = 0x811c9dc5;
  hb = 0x9747b28c;
  for (let i = 0; i < lexeme.length; i++) {
    let c = lexeme.charCodeAt(i);
    if (c < 0x80) {
      feed(c);
      continue;
    }
    if (c < 0x800) {
      feed(0xc0 | (c >> 6));
      feed(0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < lexeme.length ? lexeme.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        feed(0xf0 | (c >> 18));
        feed(0x80 | ((c >> 12) & 0x3f));
        feed(0x80 | ((c >> 6) & 0x3f));
        feed(0x80 | (c & 0x3f));
        continue;
      }
      c = 0xfffd;
    }
    feed(0xe0 | (c >> 12));
    feed(0x80 | ((c >> 6) & 0x3f));
    feed(0x80 | (c & 0x3f));
  }
  return mix(ha) + (mix(hb) & 0x1fffff) * TWO_32;
}

// The two hashes being computed (module state rather than a closure per call: searchKey runs for every lexeme).
let ha = 0;
let hb = 0;

function feed(x: number): void {
  ha = Math.imul(ha ^ x, 0x01000193);
  hb = Math.imul(hb ^ x, 0x5bd1e995);
  hb ^= hb >>> 15;
}

/** The lexeme as indexed: NUL removed, lower case; '' is never indexed. */
function indexedLexeme(raw: string): string {
  return (raw.includes('\0') ? raw.replace(/\0/g, '') : raw).toLowerCase();
}

/** The distinct keys of some lexemes (normalised as indexedLexeme), ascending. */
export function searchKeys(lexemes: Iterable<string>): Float64Array {
  const keys: number[] = [];
  for (const raw of lexemes) {
    const lexeme = indexedLexeme(raw);
    if (lexeme !== '') keys.push(searchKey(lexeme));
  }
  const sorted = Float64Array.from(keys).sort();
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[n - 1]) sorted[n++] = sorted[i];
  return sorted.subarray(0, n);
}

/**
 * A message's keys as carried from the summariser to the store: ascending decimal integers joined by ','; the text
 * of a PostgreSQL array literal without its braces: one string, cheap to pass on.
 */
export type SearchKeyList = string;

export function searchKeyList(lexemes: Iterable<string>): SearchKeyList {
  return formatKeyList(searchKeys(lexemes));
}

/** Writes n (below 10^8, an int32) in decimal at `at`, zero-padded to `width` digits; returns the end. */
function writeDigits(out: Buffer, at: number, value: number, width: number): number {
  // As an int32, so that % and / stay integer operations (on a double, % is a call to fmod).
  let n = value | 0;
  let length = 1;
  for (let m = n; m >= 10; m = (m / 10) | 0) length++;
  if (length < width) length = width;
  for (let w = at + length - 1; w >= at; w--) {
    out[w] = 48 + (n % 10);
    n = (n / 10) | 0;
  }
  return at + length;
}

/**
 * Keys as decimal text written byte by byte, each as two int32 halves of up to 8 digits: a typed array's join
 * formats each key as a double, several times slower, and a message of prose has ten thousand keys.
 */
export function formatKeyList(keys: Float64Array): SearchKeyList {
  const out = Buffer.allocUnsafe(keys.length * 17);
  let at = 0;
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out[at++] = 44;
    const key = keys[i];
    const high = Math.floor(key / 1e8);
    at = high > 0 ? writeDigits(out, writeDigits(out, at, high, 0), key - high * 1e8, 8) : writeDigits(out, at, key, 0);
  }
  return out.toString('latin1', 0, at);
}

const KEY_LIST = /^(?:\d{1,16}(?:,\d{1,16})*)?$/;

/** True when `list` is a well-formed key list: what PostgreSQL reads as int8 values, and JavaScript exactly. */
export function isSearchKeyList(list: unknown): list is SearchKeyList {
  return typeof list === 'string' && KEY_LIST.test(list);
}

/** The keys of a list; throws on anything that is not one. */
export function parseSearchKeyList(list: SearchKeyList): number[] {
  if (!isSearchKeyList(list)) throw new Error('not a search key list');
  return list === '' ? [] : list.split(',').map(Number);
}
