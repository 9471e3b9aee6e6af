/**
 * Streaming IMAP command parser: tag, command name and a tree of arguments (atoms, quoted strings, literals
 * `{n}` / `{n+}` / `~{n}`, NIL, lists). Limits are checked on the announced size, before any byte of a literal is
 * read, and an APPEND message literal is streamed to a sink instead of being buffered.
 */
import type { Writable } from 'node:stream';
import type { InputReader } from './input-reader';

export type ImapArg =
  | { type: 'atom'; value: string }
  | { type: 'string'; value: string; raw: Buffer; literal: boolean }
  | { type: 'nil' }
  | { type: 'list'; items: ImapArg[] }
  /** An APPEND message literal that went to a sink; `result` is whatever the sink factory returned. */
  | { type: 'stream'; size: number; binary: boolean; result: Promise<unknown> };

export interface ParsedCommand {
  tag: string;
  name: string;
  args: ImapArg[];
}

export interface ParserLimits {
  /** Longest command line (between literals), in octets. */
  maxLineBytes: number;
  /** Largest literal held in memory (mailbox names, search strings). */
  maxLiteralBytes: number;
  /** Largest APPEND message (streamed, never held). */
  maxAppendBytes: number;
  /** Largest total of all literals of one command. */
  maxCommandBytes: number;
  /** Before login: largest total of a command's literals; more is refused unread and the connection closed. */
  maxPreAuthLiteralBytes: number;
  /** Deepest nesting of parenthesised lists (SEARCH and FETCH walk them recursively). */
  maxListDepth: number;
  /** Largest total of the literals of one command kept in memory (everything but APPEND's streamed messages). */
  maxHeldLiteralBytes: number;
}

export const DEFAULT_PARSER_LIMITS: ParserLimits = {
  maxLineBytes: 64 * 1024,
  maxLiteralBytes: 64 * 1024,
  maxAppendBytes: 64 * 1024 * 1024,
  maxCommandBytes: 65 * 1024 * 1024,
  maxPreAuthLiteralBytes: 8 * 1024,
  maxListDepth: 64,
  maxHeldLiteralBytes: 1024 * 1024,
};

export interface ParserHooks {
  /** Sends `+ ...` for a synchronising literal that passed the limits. */
  continuation(): Promise<void> | void;
  /** For APPEND's message literal: a sink to stream into and the promise that settles when it is stored. */
  openMessageSink?(size: number, binary: boolean): { sink: Writable; result: Promise<unknown> };
}

export type ReadResult =
  | { kind: 'command'; command: ParsedCommand }
  | {
      kind: 'error'; tag: string | null; status: 'BAD' | 'NO'; code?: string; text: string;
      /** Answer, then close the connection: what follows on the wire cannot be read as commands. */
      fatal?: boolean;
      /** The answer goes out before the rest of an overlong line arrived: drop it (InputReader.discardLine) after. */
      restOfLinePending?: boolean;
    }
  | { kind: 'empty' };

/** Where the session is: before login, literals have a much smaller limit. */
export interface ReadOptions {
  authenticated: boolean;
}

const SP = 0x20;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

class SyntaxError_ extends Error {}

interface Frame {
  items: ImapArg[];
}

/** The tag at the start of a command line, or null when there is none worth answering to. */
function tagOf(line: Buffer): string | null {
  const end = line.indexOf(SP);
  const tag = line.subarray(0, end < 0 ? line.length : end).toString('latin1');
  return /^[\x21-\x7e]+$/.test(tag) && !/[(){%*"\\+]/.test(tag) ? tag : null;
}

/** An overlong line, answered as soon as the limit is passed: tagged when the tag was read, else BYE and close. */
function overlong(tag: string | null, start: Buffer, ended: boolean, limits: ParserLimits): ReadResult {
  const text = `Command line is longer than ${limits.maxLineBytes} octets`;
  return { kind: 'error', tag, status: 'BAD', code: 'TOOBIG', text, fatal: tag === null, restOfLinePending: !ended && tag !== null };
}

/** Reads one full command from the reader. */
export async function readCommand(reader: InputReader, limits: ParserLimits, hooks: ParserHooks, options: ReadOptions): Promise<ReadResult> {
  const first = await reader.readLine(limits.maxLineBytes);
  if (!first.ok) {
    // The tag must have come whole: a tag running into the limit is no tag.
    const tag = first.start.indexOf(SP) > 0 ? tagOf(first.start) : null;
    return overlong(tag, first.start, first.ended, limits);
  }
  let line = first.line;
  if (line.length === 0) return { kind: 'empty' };

  const stack: Frame[] = [{ items: [] }];
  let pos = 0;
  let tag: string | null = null;
  let name: string | null = null;
  let total = 0;
  /** Literal bytes kept in memory (all but APPEND's streamed message). */
  let held = 0;
  const literalBudget = options.authenticated ? limits.maxCommandBytes : limits.maxPreAuthLiteralBytes;

  // A non-synchronising literal announced at the end of the line is on its way: it must not be read as commands.
  const fail = async (text: string): Promise<ReadResult> => {
    const skipped = await skipAnnouncedLiterals(reader, line, limits, literalBudget - total);
    return { kind: 'error', tag, status: 'BAD', text, fatal: !skipped };
  };

  // Tag and command name first, so errors can be tagged.
  const tagEnd = line.indexOf(SP);
  tag = tagOf(line);
  if (tag === null) return { kind: 'error', tag: null, status: 'BAD', text: 'Invalid tag', fatal: !(await skipAnnouncedLiterals(reader, line, limits, literalBudget)) };
  if (tagEnd < 0) return fail('Missing command');
  pos = tagEnd + 1;
  const nameMatch = /^[A-Za-z]+/.exec(line.subarray(pos, pos + 32).toString('latin1'));
  if (!nameMatch) return fail('Missing command');
  name = nameMatch[0].toUpperCase();
  pos += nameMatch[0].length;
  const isAppend = name === 'APPEND';

  for (;;) {
    try {
      while (pos < line.length) {
        const c = line[pos];
        const frame = stack[stack.length - 1];
        if (c === SP) {
          pos++;
          continue;
        }
        if (c === 0x28) {
          if (stack.length > limits.maxListDepth) throw new SyntaxError_(`Parentheses nested deeper than ${limits.maxListDepth}`);
          const list: ImapArg = { type: 'list', items: [] };
          frame.items.push(list);
          stack.push({ items: list.items });
          pos++;
          continue;
        }
        if (c === 0x29) {
          if (stack.length === 1) throw new SyntaxError_('Unexpected ")"');
          stack.pop();
          pos++;
          continue;
        }
        if (c === 0x22) {
          const { value, end } = readQuoted(line, pos);
          frame.items.push({ type: 'string', value: value.toString('utf8'), raw: value, literal: false });
          pos = end;
          continue;
        }
        if (c === 0x7b || (c === 0x7e && line[pos + 1] === 0x7b)) {
          const binary = c === 0x7e;
          const m = /^\{(\d{1,20})(\+|-)?\}$/.exec(line.subarray(pos + (binary ? 1 : 0)).toString('latin1'));
          if (!m) throw new SyntaxError_('Invalid literal');
          const size = Number(m[1]);
          const nonSync = m[2] !== undefined;
          if (!options.authenticated && total + size > limits.maxPreAuthLiteralBytes) {
            // Nothing of it is read: a client that has not logged in gets no more of our memory or time.
            const text = `Literal of ${size} octets exceeds the limit of ${limits.maxPreAuthLiteralBytes} octets before login`;
            return { kind: 'error', tag, status: 'BAD', code: 'TOOBIG', text, fatal: true };
          }
          const isMessage = isAppend && stack.length === 1 && stack[0].items.length >= 1;
          const limit = isMessage ? limits.maxAppendBytes : limits.maxLiteralBytes;
          const tooBig = size > limit || total + size > limits.maxCommandBytes || (m[2] === '-' && size > 4096)
            || (!isMessage && held + size > limits.maxHeldLiteralBytes);
          if (tooBig) {
            // Never send "+" for it; a non-synchronising literal is on its way already and is skipped unread.
            if (nonSync) {
              await reader.pipeBytes(size, null);
              await skipRestOfCommand(reader, limits);
            }
            return { kind: 'error', tag, status: isMessage ? 'NO' : 'BAD', code: 'TOOBIG', text: `Literal of ${size} octets exceeds the limit of ${limit} octets` };
          }
          total += size;
          if (!isMessage) held += size;
          if (!nonSync) await hooks.continuation();
          if (isMessage && hooks.openMessageSink) {
            const { sink, result } = hooks.openMessageSink(size, binary);
            result.catch(() => undefined);
            await reader.pipeBytes(size, sink);
            sink.end();
            frame.items.push({ type: 'stream', size, binary, result });
          } else {
            const raw = await reader.readBytes(size);
            frame.items.push({ type: 'string', value: raw.toString('utf8'), raw, literal: true });
          }
          const next = await reader.readLine(limits.maxLineBytes);
          if (!next.ok) return overlong(tag, next.start, next.ended, limits);
          line = next.line;
          pos = 0;
          continue;
        }
        const { value, end } = readAtom(line, pos);
        if (value.length === 0) throw new SyntaxError_(`Unexpected character ${JSON.stringify(String.fromCharCode(c))}`);
        frame.items.push(value.toUpperCase() === 'NIL' ? { type: 'nil' } : { type: 'atom', value });
        pos = end;
      }
    } catch (err) {
      if (err instanceof SyntaxError_) return fail(err.message);
      throw err;
    }
    if (stack.length !== 1) return fail('Unclosed "("');
    return { kind: 'command', command: { tag, name, args: stack[0].items } };
  }
}

/**
 * After a syntax error: skips the non-synchronising literals the abandoned command announced (and the lines after
 * them) as long as they fit `budget`; false when they do not, and the connection must close.
 */
async function skipAnnouncedLiterals(reader: InputReader, line: Buffer, limits: ParserLimits, budget: number): Promise<boolean> {
  let current = line;
  let left = budget;
  for (;;) {
    const m = /\{(\d{1,20})[+-]\}$/.exec(current.subarray(Math.max(0, current.length - 24)).toString('latin1'));
    if (!m) return true;
    const size = Number(m[1]);
    if (size > left) return false;
    left -= size;
    await reader.pipeBytes(size, null);
    const next = await reader.readLine(limits.maxLineBytes);
    if (!next.ok) return false;
    current = next.line;
  }
}

async function skipRestOfCommand(reader: InputReader, limits: ParserLimits): Promise<void> {
  for (;;) {
    const next = await reader.readLine(limits.maxLineBytes);
    if (!next.ok) {
      if (!next.ended) await reader.discardLine();
      return;
    }
    const m = /\{(\d{1,20})\+\}$/.exec(next.line.toString('latin1'));
    if (!m) return;
    await reader.pipeBytes(Number(m[1]), null);
  }
}

function readQuoted(line: Buffer, start: number): { value: Buffer; end: number } {
  const out: number[] = [];
  let i = start + 1;
  while (i < line.length) {
    const c = line[i];
    if (c === 0x5c) {
      const n = line[i + 1];
      if (n !== 0x22 && n !== 0x5c) throw new SyntaxError_('Invalid escape in quoted string');
      out.push(n);
      i += 2;
      continue;
    }
    if (c === 0x22) return { value: Buffer.from(out), end: i + 1 };
    out.push(c);
    i++;
  }
  throw new SyntaxError_('Unterminated quoted string');
}

/** An atom; `[...]` (FETCH sections, response codes) may hold spaces and parentheses, `<...>` a partial range. */
function readAtom(line: Buffer, start: number): { value: string; end: number } {
  let i = start;
  let depth = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === 0x5b) depth++;
    else if (c === 0x5d) depth = Math.max(0, depth - 1);
    else if (depth === 0 && (c === SP || c === 0x28 || c === 0x29 || c === 0x22 || c === 0x7b || c < 0x20 || c === 0x7f)) break;
    i++;
  }
  return { value: line.subarray(start, i).toString('utf8'), end: i };
}

export function isDigitString(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/** atom / quoted / literal as a string (astring); null for NIL, lists and streams. */
export function argString(arg: ImapArg | undefined): string | null {
  if (!arg) return null;
  if (arg.type === 'atom' || arg.type === 'string') return arg.value;
  return null;
}
