/** Tokens of RFC 5228 §8.1: identifiers, tags, numbers with K/M/G, quoted and multi-line strings, comments skipped. */
import { type SourcePosition, syntaxError } from './sieve-error';

export type TokenKind = 'identifier' | 'tag' | 'number' | 'string' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Identifier/tag name (tags without the colon), decoded string, or the punctuation character. */
  text: string;
  value?: number;
  position: SourcePosition;
}

const QUANTIFIERS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const PUNCT = new Set(['[', ']', '(', ')', '{', '}', ',', ';']);
const isIdentStart = (c: string) => /[A-Za-z_]/.test(c);
const isIdentChar = (c: string) => /[A-Za-z0-9_]/.test(c);
const isDigit = (c: string) => c >= '0' && c <= '9';

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const here = (): SourcePosition => ({ line, column: i - lineStart + 1 });
  const newline = (at: number) => {
    line++;
    lineStart = at + 1;
  };

  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      newline(i);
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const start = here();
      i += 2;
      for (;;) {
        if (i >= text.length) throw syntaxError('unterminated bracket comment (missing "*/")', start);
        if (text[i] === '*' && text[i + 1] === '/') {
          i += 2;
          break;
        }
        if (text[i] === '\n') newline(i);
        i++;
      }
      continue;
    }
    const position = here();
    if (PUNCT.has(c)) {
      tokens.push({ kind: 'punct', text: c, position });
      i++;
      continue;
    }
    if (c === '"') {
      i++;
      let value = '';
      for (;;) {
        if (i >= text.length) throw syntaxError('unterminated quoted string (missing closing ")', position);
        const d = text[i];
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\') {
          if (i + 1 >= text.length) throw syntaxError('unterminated quoted string (missing closing ")', position);
          // §2.4.2: "\\" and "\"" are escapes; any other escaped character stands for itself.
          const e = text[i + 1];
          if (e === '\n') newline(i + 1);
          value += e;
          i += 2;
          continue;
        }
        if (d === '\n') newline(i);
        value += d;
        i++;
      }
      tokens.push({ kind: 'string', text: value, position });
      continue;
    }
    if (isDigit(c)) {
      let j = i;
      while (j < text.length && isDigit(text[j])) j++;
      let value = Number(text.slice(i, j));
      const q = text[j]?.toLowerCase();
      if (q && QUANTIFIERS[q]) {
        value *= QUANTIFIERS[q];
        j++;
      }
      if (j < text.length && isIdentChar(text[j])) throw syntaxError(`invalid number "${text.slice(i, j + 1)}": digits may be followed only by K, M or G`, position);
      if (!Number.isSafeInteger(value)) throw syntaxError(`number ${text.slice(i, j)} is too large`, position);
      tokens.push({ kind: 'number', text: text.slice(i, j), value, position });
      i = j;
      continue;
    }
    if (c === ':') {
      let j = i + 1;
      if (!isIdentStart(text[j] ?? '')) throw syntaxError('a tag is a colon followed by a name (e.g. :is)', position);
      while (j < text.length && isIdentChar(text[j])) j++;
      tokens.push({ kind: 'tag', text: text.slice(i + 1, j).toLowerCase(), position });
      i = j;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i;
      while (j < text.length && isIdentChar(text[j])) j++;
      const word = text.slice(i, j);
      if (word.toLowerCase() === 'text' && text[j] === ':') {
        i = j + 1;
        const { value, end } = readMultiline(i, position);
        tokens.push({ kind: 'string', text: value, position });
        i = end;
        continue;
      }
      tokens.push({ kind: 'identifier', text: word.toLowerCase(), position });
      i = j;
      continue;
    }
    throw syntaxError(`unexpected character ${JSON.stringify(c)}`, position);
  }
  tokens.push({ kind: 'eof', text: '', position: here() });
  return tokens;

  /** "text:" [whitespace] [hash-comment] CRLF, then lines up to a lone "."; a leading ".." loses one dot (§2.4.2). */
  function readMultiline(from: number, start: SourcePosition): { value: string; end: number } {
    let j = from;
    while (text[j] === ' ' || text[j] === '\t') j++;
    if (text[j] === '#') while (j < text.length && text[j] !== '\n') j++;
    if (text[j] === '\r') j++;
    if (text[j] !== '\n') throw syntaxError('"text:" must be followed by the end of the line', start);
    newline(j);
    j++;
    const lines: string[] = [];
    for (;;) {
      if (j >= text.length) throw syntaxError('unterminated multi-line string (missing a line with a single ".")', start);
      const nl = text.indexOf('\n', j);
      const endOfLine = nl === -1 ? text.length : nl;
      let content = text.slice(j, endOfLine);
      if (content.endsWith('\r')) content = content.slice(0, -1);
      if (nl !== -1) newline(nl);
      j = nl === -1 ? text.length : nl + 1;
      if (content === '.') break;
      if (nl === -1) throw syntaxError('unterminated multi-line string (missing a line with a single ".")', start);
      lines.push(content.startsWith('..') ? content.slice(1) : content);
    }
    // Every line of the string ends in CRLF, the last included (§2.4.2).
    return { value: lines.map((l) => `${l}\r\n`).join(''), end: j };
  }
}
