// search-tokens.ts as it was before the per-word hashing rewrite, kept verbatim (but for the import below) as the
// reference that search-tokens-differential.spec.ts compares the current one against. Test only.
/**
 * Lexemes for a PostgreSQL tsvector/tsquery with the 'simple' configuration, CJK included (see STACK.md, "Chinese
 * full-text search"). Besides words, a message's lexemes hold the 1-, 2- and 3-character pieces of every word and the
 * single characters of CJK runs, so that IMAP SEARCH TEXT/BODY (a substring match, RFC 3501 §6.4.4) can use the
 * index as a prefilter: a message containing a query as a substring carries every lexeme of substringQueryTokens().
 */
import { DistinctWords } from './reference-distinct-words';

const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+/gu;
const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
const WORD_SPLIT = /[^\p{L}\p{N}]+/u;
// Longer "words" are base64 or hashes: useless to search and heavy in the index.
const MAX_TOKEN_LENGTH = 64;
// A tsvector holds at most 1 MB; stay well below it.
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

/**
 * `text.replace(EMAIL, replace)`, faster: a match lies inside a run of EMAIL_CHAR holding an '@', so only such runs
 * are handed to the regular expression (which would otherwise try every position of every word of a long body).
 */
function replaceEmails(text: string, replace: (address: string) => string): string {
  let at = text.indexOf('@');
  if (at < 0) return text;
  // The character (one or two code units) just before / at a position, if it may be part of an address.
  const before = (i: number) => {
    const pair = i >= 2 && /[\uDC00-\uDFFF]/.test(text[i - 1]) && /[\uD800-\uDBFF]/.test(text[i - 2]);
    return EMAIL_CHAR.test(text.slice(pair ? i - 2 : i - 1, i)) ? (pair ? 2 : 1) : 0;
  };
  const from = (i: number) => {
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

function cjkRunTokens(run: string, withWords: boolean, out: (t: string) => void): void {
  const chars = Array.from(run);
  if (chars.length === 1) {
    out(chars[0]);
    return;
  }
  if (withWords) {
    for (const s of segmenter.segment(run)) if (s.isWordLike) out(s.segment);
  }
  // ICU splits names (海淀 → 海|淀); overlapping bigrams find any two-character word.
  for (let i = 0; i + 1 < chars.length; i++) out(chars[i] + chars[i + 1]);
}

/** Text to index: a string, or bytes that are all ASCII (node:buffer isAscii says so), read as they are. */
export type SearchTextPart = string | Buffer;

/** An ASCII byte an EMAIL match can hold (EMAIL_CHAR). */
const EMAIL_BYTE = new Uint8Array(256);
for (const c of Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-@', 'latin1')) EMAIL_BYTE[c] = 1;

/** The EMAIL matches of lower-cased ASCII bytes, in order: replaceEmails on bytes, with no string of the whole. */
function asciiAddresses(bytes: Buffer, onAddress: (address: string) => void): void {
  let done = 0;
  for (let at = bytes.indexOf(0x40); at >= 0; at = bytes.indexOf(0x40, done)) {
    let start = at;
    while (start > done && EMAIL_BYTE[bytes[start - 1]] === 1) start--;
    let end = at + 1;
    while (end < bytes.length && EMAIL_BYTE[bytes[end]] === 1) end++;
    for (const match of bytes.toString('latin1', start, end).toLowerCase().matchAll(EMAIL)) onAddress(match[0]);
    done = end;
  }
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
  const onAddress = (address: string) => {
    out(address);
    if (!forQuery) {
      const at = address.lastIndexOf('@');
      out(address.slice(0, at));
      out(address.slice(at + 1));
      return ` ${address.replace(/[@.]/g, ' ')} `;
    }
    return ' ';
  };
  // Replacing addresses keeps ASCII text ASCII; tested before, on a flat string (the result of replaceEmails is not).
  // Byte parts are a message's (a query is one string): in ASCII an address's words, ` a b c `, are the words the
  // bytes hold at its place anyway (no letter or digit touches either end of a match), so the bytes need no replacing.
  const texts = parts.map((part) => {
    if (typeof part !== 'string') {
      asciiAddresses(part, onAddress);
      return part;
    }
    const normalised = normalizeSearchText(part);
    return { ascii: isAscii(normalised), withoutEmails: replaceEmails(normalised, onAddress) };
  });
  for (const text of texts) {
    if (Buffer.isBuffer(text)) {
      words.lowerAsciiWords(text, word);
      continue;
    }
    const { ascii, withoutEmails } = text;
    // ASCII holds no CJK run: one pass over the bytes (a long plain body is the common heavy case).
    if (ascii) {
      words.asciiWords(withoutEmails, word);
      continue;
    }
    let last = 0;
    for (const match of withoutEmails.matchAll(CJK_RUN)) {
      latin(withoutEmails.slice(last, match.index));
      onRun?.(match[0], true);
      // A query uses only bigrams: every bigram of the query occurs in a matching message.
      cjkRunTokens(match[0], !forQuery, out);
      last = match.index! + match[0].length;
    }
    latin(withoutEmails.slice(last));
  }
}

/**
 * Distinct lexemes of a message's text, to store with `array_to_tsvector($1::text[])` (lexemes taken
 * verbatim; to_tsvector would split them again): words first, then their substring pieces. Stops adding lexemes
 * past maxBytes of UTF-8 and then adds INCOMPLETE_INDEX_TOKEN first.
 */
export function searchTokens(text: string, maxBytes = DEFAULT_MAX_BYTES): string[] {
  return searchTokensOf([text], maxBytes);
}

/** searchTokens(parts.join('\n')), the same list, without the joined text (nor a string of an ASCII byte part). */
export function searchTokensOf(parts: readonly SearchTextPart[], maxBytes = DEFAULT_MAX_BYTES): string[] {
  const seen = new Set<string>();
  // The marker's room is kept free, so a capped list still fits.
  let bytes = Buffer.byteLength(INCOMPLETE_INDEX_TOKEN) + 1;
  let complete = true;
  const add = (token: string): boolean => {
    if (seen.has(token)) return true;
    bytes += Buffer.byteLength(token) + 1;
    if (bytes > maxBytes) {
      complete = false;
      return false;
    }
    seen.add(token);
    return true;
  };
  // The runs for the pieces come with the same pass (one normalisation, one split of the text).
  const runs: Array<[string, boolean]> = [];
  const distinct = new Set<string>();
  tokenize(parts, false, add, (run, cjk) => {
    if (distinct.has(run)) return;
    distinct.add(run);
    runs.push([run, cjk]);
  });
  if (complete) {
    for (const [run, cjk] of runs) {
      // Longer "words" are not indexed at all (see MAX_TOKEN_LENGTH); CJK runs have their bigrams already.
      if (!cjk && run.length > MAX_TOKEN_LENGTH) continue;
      if (!pieces(run, cjk ? 1 : MAX_PIECE, add)) break;
    }
  }
  return complete ? [...seen] : [INCOMPLETE_INDEX_TOKEN, ...seen];
}

/**
 * Lexemes every message containing `query` as a substring (after normalizeSearchText) carries, to AND in a tsquery:
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
 * Lexemes a message must all contain to match a search query (AND them in a tsquery). A one-character
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
