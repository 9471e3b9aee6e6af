// Lexemes for a PostgreSQL tsvector/tsquery with the 'simple' configuration, CJK included (see STACK.md, "Chinese full-text search").

const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+/gu;
const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
const WORD_SPLIT = /[^\p{L}\p{N}]+/u;
// Longer "words" are base64 or hashes: useless to search and heavy in the index.
const MAX_TOKEN_LENGTH = 64;
// A tsvector holds at most 1 MB; stay well below it.
const DEFAULT_MAX_BYTES = 512 * 1024;

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

function latinTokens(text: string, out: (t: string) => void): void {
  for (const word of text.split(WORD_SPLIT)) if (word) out(word);
}

function tokenize(text: string, forQuery: boolean, emit: (t: string) => boolean): void {
  const normalised = text.normalize('NFKC').toLowerCase();
  let stopped = false;
  const out = (token: string) => {
    if (!stopped && token.length <= MAX_TOKEN_LENGTH && !emit(token)) stopped = true;
  };
  // Addresses: whole, local part and domain; their words follow from the plain split below.
  const withoutEmails = normalised.replace(EMAIL, (address) => {
    out(address);
    if (!forQuery) {
      const at = address.lastIndexOf('@');
      out(address.slice(0, at));
      out(address.slice(at + 1));
      return ` ${address.replace(/[@.]/g, ' ')} `;
    }
    return ' ';
  });
  let last = 0;
  for (const match of withoutEmails.matchAll(CJK_RUN)) {
    latinTokens(withoutEmails.slice(last, match.index), out);
    // A query uses only bigrams: every bigram of the query occurs in a matching message.
    cjkRunTokens(match[0], !forQuery, out);
    last = match.index! + match[0].length;
  }
  latinTokens(withoutEmails.slice(last), out);
}

/**
 * Distinct lexemes of a message's text, to store with `array_to_tsvector($1::text[])` (lexemes taken
 * verbatim; to_tsvector would split them again). Stops adding lexemes past maxBytes of UTF-8.
 */
export function searchTokens(text: string, maxBytes = DEFAULT_MAX_BYTES): string[] {
  const seen = new Set<string>();
  let bytes = 0;
  tokenize(text, false, (token) => {
    if (seen.has(token)) return true;
    bytes += Buffer.byteLength(token) + 1;
    if (bytes > maxBytes) return false;
    seen.add(token);
    return true;
  });
  return [...seen];
}

/**
 * Lexemes a message must all contain to match a search query (AND them in a tsquery). A one-character
 * CJK lexeme only occurs in the index inside bigrams: search it as a prefix (`'海':*`) against bigrams too.
 */
export function searchQueryTokens(query: string): string[] {
  const seen = new Set<string>();
  tokenize(query, true, (token) => {
    seen.add(token);
    return true;
  });
  return [...seen];
}
