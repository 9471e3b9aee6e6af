/**
 * Lexemes for the message search index, CJK included (words plus bigrams, see STACK.md, "Chinese full-text search");
 * the index holds each as a 53-bit key (libs/domain search-key.ts). Besides words, a message's lexemes hold the 1-, 2- and 3-character pieces of every word and the
 * single characters of CJK runs, so that IMAP SEARCH TEXT/BODY (a substring match, RFC 3501 §6.4.4) can use the
 * index as a prefilter: a message containing a query as a substring carries every lexeme of substringQueryTokens().
 */
import { DistinctWords } from './distinct-words';

const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+/gu;
/** What a text holds if it holds a CJK run (none of the four scripts has a character below U+1100; the spec checks). */
const MAYBE_CJK = /[\u1100-\uffff]/;
const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
const WORD_SPLIT = /[^\p{L}\p{N}]+/u;
// Longer "words" are base64 or hashes: useless to search and heavy in the index.
const MAX_TOKEN_LENGTH = 64;
// A message's lexemes stop here; past it the index is marked incomplete and SEARCH reads the message to check it.
const DEFAULT_MAX_BYTES = 512 * 1024;
// Substring lexemes: every piece of a word up to this many characters.
const MAX_PIECE = 3;
// A longer query is narrowed by this many of its pieces (any subset keeps the prefilter sound).
const MAX_QUERY_PIECES = 32;

/**
 * Added to a message whose lexemes stopped at the byte budget: its index cannot rule a substring out, so a substring
 * search always checks it. No text yields it (lexemes never hold a space).
 */
export const INCOMPLETE_INDEX_TOKEN = ' index-incomplete';

/** How text and queries are compared: NFKC, lower case (the index is built from text normalised this way). */
export function normalizeSearchText(text: string): string {
  // NFKC leaves ASCII as it is.
  return isAscii(text) ? text.toLowerCase() : text.normalize('NFKC').toLowerCase();
}

/** True when every character is ASCII: only then is the UTF-8 length the string's length (a cheap native count). */
function isAscii(text: string): boolean {
  return Buffer.byteLength(text, 'utf8') === text.length;
}

/** Runs of letters and digits (CJK runs apart): a substring of a text is inside one such run of the text. */
function pieceRuns(normalised: string, onRun: (run: string, cjk: boolean) => void): void {
  let last = 0;
  const latin = (text: string) => {
    for (const word of text.split(WORD_SPLIT)) if (word) onRun(word, false);
  };
  for (const match of normalised.matchAll(CJK_RUN)) {
    latin(normalised.slice(last, match.index));
    onRun(match[0], true);
    last = match.index! + match[0].length;
  }
  latin(normalised.slice(last));
}

/** The pieces of `run` of length 1..maxLength characters (all of them: a substring of the run has its pieces among these). */
function pieces(run: string, maxLength: number, out: (t: string) => boolean): boolean {
  // Characters outside the BMP take two code units: only then is the run split into code points first.
  const chars = SURROGATE.test(run) ? Array.from(run) : null;
  const length = chars ? chars.length : run.length;
  for (let n = 1; n <= Math.min(maxLength, length); n++) {
    for (let i = 0; i + n <= length; i++) if (!out(chars ? chars.slice(i, i + n).join('') : run.slice(i, i + n))) return false;
  }
  return true;
}

/** Every character an EMAIL match can hold. */
const EMAIL_CHAR = /^[\p{L}\p{N}._%+\-@]$/u;
const SURROGATE = /[\uD800-\uDFFF]/;
/** An ASCII byte an EMAIL match can hold (EMAIL_CHAR). */
const EMAIL_BYTE = new Uint8Array(256);
for (const c of Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-@', 'latin1')) EMAIL_BYTE[c] = 1;
/** A Latin-1 character an EMAIL match can hold. */
const LATIN1_EMAIL_BYTE = new Uint8Array(256);
for (let c = 0; c < 256; c++) LATIN1_EMAIL_BYTE[c] = EMAIL_CHAR.test(String.fromCharCode(c)) ? 1 : 0;

/**
 * The Latin-1 characters that normalizeSearchText does not map one to one: a letter or digit that becomes anything but
 * one letter or digit (½ becomes 1⁄2), or another character that becomes a letter, a digit or an address character.
 * Text without them is read as Latin-1 bytes: each character of a word or an address stands for its normalised self,
 * and every other character stays a separator, so normalising each word found gives the words of the normalised text.
 * (NFKC composes no two Latin-1 characters: the spec checks every pair.)
 */
const LATIN1_IRREGULAR = Array.from({ length: 256 }, (_, c) => c).filter((c) => {
  const char = String.fromCharCode(c);
  const normalised = Array.from(char.normalize('NFKC').toLowerCase());
  const word = /[\p{L}\p{N}]/u.test(char);
  const address = EMAIL_CHAR.test(char);
  return (word && normalised.length !== 1)
    || normalised.some((n) => /[\p{L}\p{N}]/u.test(n) !== word || EMAIL_CHAR.test(n) !== address);
});
const BEYOND_LATIN1 = /[\u0100-\uffff]/;

/**
 * `text.replace(EMAIL, replace)`, faster: a match lies inside a run of EMAIL_CHAR holding an '@', so only such runs
 * are handed to the regular expression (which would otherwise try every position of every word of a long body).
 */
function replaceEmails(text: string, replace: (address: string) => string): string {
  let at = text.indexOf('@');
  if (at < 0) return text;
  // The character (one or two code units) just before / at a position, if it may be part of an address: ASCII by
  // EMAIL_BYTE, any other (and the text's ends, where charCodeAt gives NaN) by the pattern.
  const before = (i: number) => {
    const c = text.charCodeAt(i - 1);
    if (c < 0x80) return EMAIL_BYTE[c];
    const pair = i >= 2 && /[\uDC00-\uDFFF]/.test(text[i - 1]) && /[\uD800-\uDBFF]/.test(text[i - 2]);
    return EMAIL_CHAR.test(text.slice(pair ? i - 2 : i - 1, i)) ? (pair ? 2 : 1) : 0;
  };
  const from = (i: number) => {
    const c = text.charCodeAt(i);
    if (c < 0x80) return EMAIL_BYTE[c];
    const pair = i + 1 < text.length && /[\uD800-\uDBFF]/.test(text[i]) && /[\uDC00-\uDFFF]/.test(text[i + 1]);
    return EMAIL_CHAR.test(text.slice(i, pair ? i + 2 : i + 1)) ? (pair ? 2 : 1) : 0;
  };
  let out = '';
  let done = 0;
  while (at >= 0) {
    let start = at;
    for (let step = before(start); step > 0 && start - step >= done; step = before(start)) start -= step;
    let end = at + 1;
    for (let step = from(end); step > 0 && end < text.length; step = from(end)) end += step;
    out += text.slice(done, start) + text.slice(start, end).replace(EMAIL, replace);
    done = end;
    at = text.indexOf('@', end);
  }
  return out + text.slice(done);
}

const segmenter = new Intl.Segmenter('zh', { granularity: 'word' });
/** Characters of a CJK run segmented at once (a sentence is far shorter). */
const CJK_SEGMENT_WINDOW = 1024;

function cjkRunTokens(run: string, withWords: boolean, out: (t: string) => void): void {
  const chars = Array.from(run);
  if (chars.length === 1) {
    out(chars[0]);
    return;
  }
  if (withWords) {
    // ICU's dictionary segmentation grows faster than the run does (a run of 64 K characters took seconds; text
    // has punctuation between runs, a hostile Subject has none): a long run is segmented in windows, where only a
    // word across two windows is missed (its bigrams are not).
    for (let at = 0; at < run.length;) {
      let end = Math.min(at + CJK_SEGMENT_WINDOW, run.length);
      // Never between the two halves of a surrogate pair.
      if (end < run.length && run.charCodeAt(end - 1) >= 0xd800 && run.charCodeAt(end - 1) <= 0xdbff) end++;
      for (const s of segmenter.segment(end - at === run.length ? run : run.slice(at, end))) if (s.isWordLike) out(s.segment);
      at = end;
    }
  }
  // ICU splits names (海淀 → 海|淀); overlapping bigrams find any two-character word.
  for (let i = 0; i + 1 < chars.length; i++) out(chars[i] + chars[i + 1]);
}

/** Text to index: a string, or bytes that are all ASCII (node:buffer isAscii says so), read as they are. */
export type SearchTextPart = string | Buffer;

/**
 * The EMAIL matches of ASCII or Latin-1 bytes (`emailByte` tells which), normalised, in order: replaceEmails on
 * `normalizeSearchText(bytes.toString('latin1'))`, with no string of the whole. A run of address characters is
 * normalised alone, which gives the same characters (see LATIN1_IRREGULAR).
 */
function byteAddresses(bytes: Buffer, emailByte: Uint8Array, runs: Map<number, string>, onAddress: (address: string) => void): void {
  let done = 0;
  for (let at = bytes.indexOf(0x40); at >= 0; at = bytes.indexOf(0x40, done)) {
    let start = at;
    let high = 0;
    let hash = 0x40;
    while (start > done && emailByte[bytes[start - 1]] === 1) {
      const c = bytes[--start];
      high |= c;
      hash = Math.imul(hash ^ c, 0x01000193);
    }
    let end = at + 1;
    while (end < bytes.length && emailByte[bytes[end]] === 1) {
      const c = bytes[end++];
      high |= c;
      hash = Math.imul(hash ^ c, 0x01000193);
    }
    done = end;
    // A run met before gives the same addresses again, nothing new (a signature or a quoted header repeats): the
    // run last seen with the same hash is compared without making a string of this one.
    const last = runs.get(hash);
    if (last !== undefined && sameLatin1(last, bytes, start, end)) continue;
    const run = bytes.toString('latin1', start, end);
    runs.set(hash, run);
    for (const match of (high < 0x80 ? run : run.normalize('NFKC')).toLowerCase().matchAll(EMAIL)) onAddress(match[0]);
  }
}

/** True when `text` is bytes[start, end) read as Latin-1. */
function sameLatin1(text: string, bytes: Buffer, start: number, end: number): boolean {
  if (text.length !== end - start) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}

/**
 * A message's text part as bytes, when its words and addresses can be read from them: ASCII (read lower-cased), or
 * Latin-1 without LATIN1_IRREGULAR characters (each word normalised as found). Null for any other text.
 */
function asBytes(part: string): { bytes: Buffer; latin1: boolean } | null {
  if (Buffer.byteLength(part, 'utf8') === part.length) return { bytes: Buffer.from(part, 'latin1'), latin1: false };
  // The test costs nothing on V8's one-byte strings; the few irregular characters are looked for natively.
  if (BEYOND_LATIN1.test(part)) return null;
  const bytes = Buffer.from(part, 'latin1');
  for (const c of LATIN1_IRREGULAR) if (bytes.indexOf(c) >= 0) return null;
  return { bytes, latin1: true };
}

/**
 * Emits the lexemes of `parts.join('\n')`; `onRun` (messages only) also gets the runs of letters and digits of the
 * text, CJK runs apart, in order, as pieceRuns would find them (an address is replaced by its words, at its place).
 * Neither an address, a word, a CJK run nor a case or NFKC rule reaches across a line break, so each part is
 * normalised and read alone, in two rounds as the whole text would be: its addresses first, then its words.
 */
function tokenize(parts: readonly SearchTextPart[], forQuery: boolean, emit: (t: string) => boolean, onRun?: (run: string, cjk: boolean) => void): void {
  let stopped = false;
  const out = (token: string) => {
    if (!stopped && token.length <= MAX_TOKEN_LENGTH && !emit(token)) stopped = true;
  };
  // A word seen before is skipped: onRun and out would both do nothing with it again (a long body repeats most words).
  const words = new DistinctWords();
  const word = (w: string) => {
    onRun?.(w, false);
    out(w);
  };
  const latin = (segment: string) => words.words(segment, word);
  // Addresses: whole, local part and domain; their words follow from the plain split below.
  const address = (found: string) => {
    out(found);
    if (forQuery) return;
    const at = found.lastIndexOf('@');
    out(found.slice(0, at));
    out(found.slice(at + 1));
  };
  const replaceAddress = (found: string) => {
    address(found);
    return forQuery ? ' ' : ` ${found.replace(/[@.]/g, ' ')} `;
  };
  const addressRuns = new Map<number, string>();
  const cjkRuns = new Set<string>();
  // Replacing addresses keeps ASCII text ASCII; tested before, on a flat string (the result of replaceEmails is not).
  // A message's addresses need no replacing where the text holds no CJK run (byte parts, and strings asBytes takes):
  // an address's words, ` a b c `, are the words the text holds at its place anyway (no letter or digit touches
  // either end of a match). A query's are replaced by a space: they are kept whole only.
  const texts = parts.map((part) => {
    if (typeof part !== 'string') {
      byteAddresses(part, EMAIL_BYTE, addressRuns, address);
      return { bytes: part, latin1: false };
    }
    const read = forQuery ? null : asBytes(part);
    if (read) {
      byteAddresses(read.bytes, read.latin1 ? LATIN1_EMAIL_BYTE : EMAIL_BYTE, addressRuns, address);
      return read;
    }
    const normalised = normalizeSearchText(part);
    return { ascii: isAscii(normalised), withoutEmails: replaceEmails(normalised, replaceAddress) };
  });
  for (const text of texts) {
    if ('bytes' in text) {
      if (text.latin1) words.normalisedLatin1Words(text.bytes, word);
      else words.lowerAsciiWords(text.bytes, word);
      continue;
    }
    const { ascii, withoutEmails } = text;
    // ASCII holds no CJK run: one pass over the bytes (a long plain body is the common heavy case).
    if (ascii) {
      words.asciiWords(withoutEmails, word);
      continue;
    }
    // Scanning for the pattern costs more than the rest for European text: most has no character that can start a run.
    if (!MAYBE_CJK.test(withoutEmails)) {
      latin(withoutEmails);
      continue;
    }
    let last = 0;
    for (const match of withoutEmails.matchAll(CJK_RUN)) {
      latin(withoutEmails.slice(last, match.index));
      const run = match[0];
      // A run met before has nothing new to give (ICU's segmenter costs microseconds a run).
      if (!cjkRuns.has(run)) {
        cjkRuns.add(run);
        onRun?.(run, true);
        // A query uses only bigrams: every bigram of the query occurs in a matching message.
        cjkRunTokens(run, !forQuery, out);
      }
      last = match.index! + run.length;
    }
    latin(withoutEmails.slice(last));
  }
}

/**
 * Distinct lexemes of a message's text, to index as they are: words first, then their substring pieces. Stops adding
 * lexemes past maxBytes of UTF-8 and then adds INCOMPLETE_INDEX_TOKEN first.
 */
export function searchTokens(text: string, maxBytes = DEFAULT_MAX_BYTES): string[] {
  return searchTokensOf([text], maxBytes);
}

/** searchTokens(parts.join('\n')), the same list, without the joined text (nor a string of an ASCII byte part). */
export function searchTokensOf(parts: readonly SearchTextPart[], maxBytes = DEFAULT_MAX_BYTES): string[] {
  const lexemes = new Lexemes(maxBytes);
  const add = (token: string) => lexemes.add(token);
  // The runs for the pieces come with the same pass (one normalisation, one split of the text). tokenize reports
  // each run once, but for a word next to a non-ASCII character, which may come again: its pieces are then known
  // already and add nothing (a set of the runs cost more than those few repeats).
  const runs: string[] = [];
  const cjkRuns: boolean[] = [];
  tokenize(parts, false, add, (run, cjk) => {
    runs.push(run);
    cjkRuns.push(cjk);
  });
  if (lexemes.complete) {
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i];
      const cjk = cjkRuns[i];
      // Longer "words" are not indexed at all (see MAX_TOKEN_LENGTH); CJK runs have their bigrams already.
      if (!cjk && run.length > MAX_TOKEN_LENGTH) continue;
      if (!(cjk ? pieces(run, 1, add) : lexemes.addPieces(run))) break;
    }
  }
  lexemes.release();
  return lexemes.complete ? lexemes.list : [INCOMPLETE_INDEX_TOKEN, ...lexemes.list];
}

/** 1 to 36 for the characters of a small piece ([0-9a-z]), 0 for any other. */
const PIECE_CODE = new Uint8Array(128);
for (let c = 0; c < 36; c++) PIECE_CODE[c.toString(36).charCodeAt(0)] = c + 1;
const PIECE_CODES = 37;
/**
 * The table of small pieces of the last list made, kept for the next (a list is made start to end, and a message's
 * is made every few milliseconds): an entry is set when it holds that list's number, so nothing needs clearing.
 */
let spareSmall: Int32Array | null = null;
let lastList = 0;

/**
 * A message's distinct lexemes in the order first added, within a byte budget. Most lexemes are pieces of up to
 * MAX_PIECE letters and digits, and most pieces were added before: such a piece is kept as a number, in a table
 * indexed by its characters' PIECE_CODEs, and a piece of a word is looked up there without making its string.
 */
class Lexemes {
  readonly list: string[] = [];
  complete = true;
  private readonly others = new Set<string>();
  private readonly small: Int32Array;
  private readonly number: number;
  // The marker's room is kept free, so a capped list still fits.
  private bytes = Buffer.byteLength(INCOMPLETE_INDEX_TOKEN) + 1;
  private readonly codes = new Int32Array(MAX_TOKEN_LENGTH);

  constructor(private readonly maxBytes: number) {
    // A list made while another is (none is now) gets a table of its own.
    this.small = spareSmall ?? new Int32Array(PIECE_CODES ** MAX_PIECE);
    spareSmall = null;
    if (lastList === 0x7fffffff) {
      this.small.fill(0);
      lastList = 0;
    }
    this.number = ++lastList;
  }

  /** Hands the table of small pieces on to the next list. */
  release(): void {
    spareSmall = this.small;
  }

  /** Adds a lexeme unless known; false (and nothing more is added) once the budget is spent. */
  add(token: string): boolean {
    const key = smallKey(token);
    if (key >= 0 ? this.small[key] === this.number : this.others.has(token)) return true;
    if (!this.fits(utf8Length(token))) return false;
    if (key >= 0) this.small[key] = this.number;
    else this.others.add(token);
    this.list.push(token);
    return true;
  }

  /** pieces(word, MAX_PIECE, add), with no string of a piece seen before when the word is all [0-9a-z]. */
  addPieces(word: string): boolean {
    const { codes, small, number } = this;
    const length = word.length;
    // The loops below are written out for pieces of 1, 2 and 3 characters, of words up to MAX_TOKEN_LENGTH.
    if (MAX_PIECE !== 3 || length > codes.length) return pieces(word, MAX_PIECE, (t) => this.add(t));
    for (let i = 0; i < length; i++) {
      const c = word.charCodeAt(i);
      if (c >= 0x80 || PIECE_CODE[c] === 0) return pieces(word, MAX_PIECE, (t) => this.add(t));
      codes[i] = PIECE_CODE[c];
    }
    // The key of a piece of n characters is that of n + 1 with a last code of 0 (see smallKey; MAX_PIECE is 3).
    const square = PIECE_CODES * PIECE_CODES;
    for (let i = 0; i < length; i++) {
      const key = codes[i] * square;
      if (small[key] !== number && !this.addSmall(key, word, i, 1)) return false;
    }
    for (let i = 0; i + 2 <= length; i++) {
      const key = codes[i] * square + codes[i + 1] * PIECE_CODES;
      if (small[key] !== number && !this.addSmall(key, word, i, 2)) return false;
    }
    for (let i = 0; i + 3 <= length; i++) {
      const key = codes[i] * square + codes[i + 1] * PIECE_CODES + codes[i + 2];
      if (small[key] !== number && !this.addSmall(key, word, i, 3)) return false;
    }
    return true;
  }

  private addSmall(key: number, word: string, at: number, length: number): boolean {
    if (!this.fits(length)) return false;
    this.small[key] = this.number;
    this.list.push(word.slice(at, at + length));
    return true;
  }

  /** Counts a new lexeme of `length` UTF-8 bytes in, unless it does not fit (the list is then incomplete). */
  private fits(length: number): boolean {
    this.bytes += length + 1;
    if (this.bytes > this.maxBytes) this.complete = false;
    return this.complete;
  }
}

/** A piece's index in Lexemes.small, or -1 when `token` is not 1 to MAX_PIECE characters of [0-9a-z]. */
function smallKey(token: string): number {
  const length = token.length;
  if (length > MAX_PIECE || length === 0) return -1;
  let key = 0;
  for (let i = 0; i < MAX_PIECE; i++) {
    let code = 0;
    if (i < length) {
      const c = token.charCodeAt(i);
      code = c < 0x80 ? PIECE_CODE[c] : 0;
      if (code === 0) return -1;
    }
    key = key * PIECE_CODES + code;
  }
  return key;
}

/** Buffer.byteLength(token), without the native call for ASCII. */
function utf8Length(token: string): number {
  for (let i = 0; i < token.length; i++) if (token.charCodeAt(i) >= 0x80) return Buffer.byteLength(token, 'utf8');
  return token.length;
}

/**
 * Lexemes every message containing `query` as a substring (after normalizeSearchText) carries, to AND in the index query:
 * a piece of a run of letters and digits of the query is a piece of the run of the text that holds it. Empty when the
 * query has no letters or digits (nothing to narrow by). Messages with INCOMPLETE_INDEX_TOKEN must be checked too.
 */
export function substringQueryTokens(query: string): string[] {
  const out = new Set<string>();
  pieceRuns(normalizeSearchText(query), (run, cjk) => {
    const chars = Array.from(run);
    if (chars.length <= (cjk ? 1 : MAX_PIECE)) out.add(run);
    else {
      const n = cjk ? 2 : MAX_PIECE;
      for (let i = 0; i + n <= chars.length; i++) out.add(chars.slice(i, i + n).join(''));
    }
  });
  return [...out].slice(0, MAX_QUERY_PIECES);
}

/**
 * Lexemes a message must all contain to match a search query (ANDed in the index query). A one-character
 * CJK lexeme only occurs in the index inside bigrams: search it as a prefix (`'海':*`) against bigrams too.
 */
export function searchQueryTokens(query: string): string[] {
  const seen = new Set<string>();
  tokenize([query], true, (token) => {
    seen.add(token);
    return true;
  });
  return [...seen];
}
