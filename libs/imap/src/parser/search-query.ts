// SEARCH keys (RFC 3501 §6.4.4 with CONDSTORE MODSEQ and SEARCHRES `$`) parsed into a tree.
import { bad } from '../imap-error';
import { parseSearchDate } from '../wire';
import { argString, type ImapArg } from './command-parser';
import { parseSequenceSet, type SequenceSet } from './sequence-set';

export type SearchKey =
  | { op: 'all' }
  | { op: 'and'; keys: SearchKey[] }
  | { op: 'or'; a: SearchKey; b: SearchKey }
  | { op: 'not'; key: SearchKey }
  | { op: 'flag'; flag: string; set: boolean }
  | { op: 'new' }
  | { op: 'old' }
  | { op: 'recent'; set: boolean }
  | { op: 'seq'; set: SequenceSet }
  | { op: 'uid'; set: SequenceSet }
  | { op: 'size'; larger: boolean; n: number }
  | { op: 'date'; field: 'internal' | 'sent'; cmp: 'before' | 'on' | 'since'; day: number }
  | { op: 'header'; field: string; value: string }
  | { op: 'text'; body: boolean; value: string }
  | { op: 'modseq'; n: number };

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true], UNANSWERED: ['\\Answered', false], DELETED: ['\\Deleted', true], UNDELETED: ['\\Deleted', false],
  DRAFT: ['\\Draft', true], UNDRAFT: ['\\Draft', false], FLAGGED: ['\\Flagged', true], UNFLAGGED: ['\\Flagged', false],
  SEEN: ['\\Seen', true], UNSEEN: ['\\Seen', false],
};
const HEADER_KEYS = new Set(['FROM', 'TO', 'CC', 'BCC', 'SUBJECT']);
const DATE_KEYS: Record<string, ['internal' | 'sent', 'before' | 'on' | 'since']> = {
  BEFORE: ['internal', 'before'], ON: ['internal', 'on'], SINCE: ['internal', 'since'],
  SENTBEFORE: ['sent', 'before'], SENTON: ['sent', 'on'], SENTSINCE: ['sent', 'since'],
};

/**
 * Deepest tree of search keys (parentheses, NOT, OR) accepted: the parser and every evaluator walk it recursively, so
 * `NOT NOT … ALL` sixteen thousand times deep must be refused, not overflow the stack. Same default as the parser's
 * maxListDepth setting.
 */
export const MAX_SEARCH_KEY_DEPTH = 64;

export function parseSearchKeys(args: ImapArg[], maxDepth = MAX_SEARCH_KEY_DEPTH, depth = 0): SearchKey {
  if (depth > maxDepth) throw bad(`Search keys nested deeper than ${maxDepth}`);
  let i = 0;
  const next = (): ImapArg => {
    if (i >= args.length) throw bad('Missing search argument');
    return args[i++];
  };
  const str = (): string => {
    const arg = next();
    // Dovecot reads NIL as an empty string here; clients send it.
    if (arg.type === 'nil') return '';
    const s = argString(arg);
    if (s === null) throw bad('Expected a string');
    return s;
  };
  // NOT and OR nest like parentheses do.
  const nested = (): SearchKey => {
    if (++depth > maxDepth) throw bad(`Search keys nested deeper than ${maxDepth}`);
    try {
      return one();
    } finally {
      depth--;
    }
  };
  const one = (): SearchKey => {
    const arg = next();
    if (arg.type === 'list') {
      if (arg.items.length === 0) throw bad('Empty search list');
      return parseSearchKeys(arg.items, maxDepth, depth + 1);
    }
    const word = argString(arg);
    if (word === null) throw bad('Invalid search key');
    const key = word.toUpperCase();
    if (FLAG_KEYS[key]) return { op: 'flag', flag: FLAG_KEYS[key][0], set: FLAG_KEYS[key][1] };
    if (HEADER_KEYS.has(key)) return { op: 'header', field: key.toLowerCase(), value: str() };
    if (DATE_KEYS[key]) {
      const day = parseSearchDate(str());
      if (day === null) throw bad('Invalid date');
      return { op: 'date', field: DATE_KEYS[key][0], cmp: DATE_KEYS[key][1], day };
    }
    switch (key) {
      case 'ALL': return { op: 'all' };
      case 'NEW': return { op: 'new' };
      case 'OLD': return { op: 'old' };
      case 'RECENT': return { op: 'recent', set: true };
      case 'KEYWORD': return { op: 'flag', flag: str(), set: true };
      case 'UNKEYWORD': return { op: 'flag', flag: str(), set: false };
      case 'LARGER':
      case 'SMALLER': {
        const n = str();
        if (!/^\d+$/.test(n)) throw bad('Expected a number');
        return { op: 'size', larger: key === 'LARGER', n: Number(n) };
      }
      case 'HEADER': return { op: 'header', field: str().toLowerCase(), value: str() };
      case 'BODY': return { op: 'text', body: true, value: str() };
      case 'TEXT': return { op: 'text', body: false, value: str() };
      case 'NOT': return { op: 'not', key: nested() };
      case 'OR': {
        const a = nested();
        return { op: 'or', a, b: nested() };
      }
      case 'UID': {
        const set = parseSequenceSet(str());
        if (!set) throw bad('Invalid UID set');
        return { op: 'uid', set };
      }
      case 'MODSEQ': {
        // MODSEQ [entry-name entry-type] n
        let n = str();
        if (!/^\d+$/.test(n)) {
          str();
          n = str();
        }
        if (!/^\d+$/.test(n)) throw bad('Invalid MODSEQ');
        return { op: 'modseq', n: Number(n) };
      }
    }
    if (arg.type === 'atom') {
      const set = parseSequenceSet(word);
      if (set) return { op: 'seq', set };
    }
    throw bad(`Unknown search key ${word}`);
  };
  const keys: SearchKey[] = [];
  while (i < args.length) keys.push(one());
  if (keys.length === 0) throw bad('Missing search keys');
  return keys.length === 1 ? keys[0] : { op: 'and', keys };
}

export interface SearchReturn {
  min: boolean;
  max: boolean;
  all: boolean;
  count: boolean;
  save: boolean;
}

/** `[RETURN (...)] [CHARSET x] keys`; returnOpts null means a plain SEARCH response. */
export function parseSearchCommand(args: ImapArg[], allowReturn: boolean): { returnOpts: SearchReturn | null; charset: string | null; rest: ImapArg[] } {
  let i = 0;
  let returnOpts: SearchReturn | null = null;
  if (allowReturn && argString(args[0])?.toUpperCase() === 'RETURN' && args[1]?.type === 'list') {
    returnOpts = { min: false, max: false, all: false, count: false, save: false };
    for (const o of args[1].items) {
      const name = argString(o)?.toUpperCase();
      if (name === 'MIN' || name === 'MAX' || name === 'ALL' || name === 'COUNT' || name === 'SAVE') returnOpts[name.toLowerCase() as keyof SearchReturn] = true;
      else throw bad(`Unknown RETURN option ${name ?? ''}`);
    }
    if (!returnOpts.min && !returnOpts.max && !returnOpts.count && !returnOpts.save) returnOpts.all = true;
    i = 2;
  }
  let charset: string | null = null;
  if (argString(args[i])?.toUpperCase() === 'CHARSET') {
    charset = argString(args[i + 1]);
    if (charset === null) throw bad('CHARSET needs a name');
    i += 2;
  }
  return { returnOpts, charset, rest: args.slice(i) };
}

export function usesModseq(key: SearchKey): boolean {
  switch (key.op) {
    case 'modseq': return true;
    case 'and': return key.keys.some(usesModseq);
    case 'or': return usesModseq(key.a) || usesModseq(key.b);
    case 'not': return usesModseq(key.key);
    default: return false;
  }
}
