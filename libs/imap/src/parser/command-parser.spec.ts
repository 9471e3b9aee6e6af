import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCommand, type ParserLimits } from './command-parser';
import { InputReader } from './input-reader';
import { parseSequenceSet, resolveRanges } from './sequence-set';
import { parseFetchItems } from './fetch-items';
import { parseSearchKeys } from './search-query';
import { decodeMutf7, encodeMutf7 } from '../mutf7';

const limits: ParserLimits = { maxLineBytes: 100, maxLiteralBytes: 20, maxAppendBytes: 50, maxCommandBytes: 60, maxPreAuthLiteralBytes: 10, maxListDepth: 4, maxHeldLiteralBytes: 1000 };

function feed(text: string | Buffer) {
  const reader = new InputReader();
  reader.push(Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1'));
  const continuations: number[] = [];
  const sunk: Buffer[] = [];
  const hooks = {
    continuation: () => {
      continuations.push(reader.pending);
    },
    openMessageSink: () => {
      const sink = new PassThrough();
      sink.on('data', (c: Buffer) => sunk.push(c));
      return { sink, result: new Promise((r) => sink.on('end', () => r(Buffer.concat(sunk).toString()))) };
    },
  };
  return { reader, continuations, sunk, run: (authenticated = true) => readCommand(reader, limits, hooks, { authenticated }) };
}

describe('command parser', () => {
  it('parses atoms, quoted strings, NIL, nested lists and sections', async () => {
    const r = await feed('a1 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.10>) "q \\"x\\"" NIL\r\n').run();
    expect(r).toEqual({
      kind: 'command',
      command: {
        tag: 'a1', name: 'FETCH',
        args: [
          { type: 'atom', value: '1:*' },
          { type: 'list', items: [{ type: 'atom', value: 'FLAGS' }, { type: 'atom', value: 'BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.10>' }] },
          { type: 'string', value: 'q "x"', raw: Buffer.from('q "x"'), literal: false },
          { type: 'nil' },
        ],
      },
    });
  });

  it('reads synchronising and non-synchronising literals, sending "+" only for the first', async () => {
    const f = feed('a LOGIN {4}\r\nuser {6+}\r\nsecret\r\n');
    const r = await f.run();
    expect(r.kind).toBe('command');
    if (r.kind !== 'command') return;
    expect(r.command.args.map((a) => (a as { value: string }).value)).toEqual(['user', 'secret']);
    expect(f.continuations).toHaveLength(1);
  });

  it('refuses an oversized synchronising literal with [TOOBIG] and no continuation', async () => {
    const f = feed('a LOGIN {21}\r\n');
    const r = await f.run();
    expect(r).toMatchObject({ kind: 'error', tag: 'a', status: 'BAD', code: 'TOOBIG' });
    expect(f.continuations).toHaveLength(0);
  });

  it('skips an oversized non-synchronising literal without keeping it, then parses the next command', async () => {
    const f = feed(`a LOGIN {30+}\r\n${'x'.repeat(30)}\r\nb NOOP\r\n`);
    expect(await f.run()).toMatchObject({ kind: 'error', tag: 'a', code: 'TOOBIG' });
    expect(await f.run()).toMatchObject({ kind: 'command', command: { tag: 'b', name: 'NOOP' } });
  });

  it('answers an APPEND message over the append limit with NO [TOOBIG] before reading it', async () => {
    const f = feed('a APPEND INBOX {51}\r\n');
    expect(await f.run()).toMatchObject({ kind: 'error', status: 'NO', code: 'TOOBIG' });
    expect(f.continuations).toHaveLength(0);
  });

  it('streams the APPEND message literal into the sink', async () => {
    const f = feed('a APPEND INBOX (\\Seen) {11+}\r\nhello world\r\n');
    const r = await f.run();
    expect(r.kind).toBe('command');
    if (r.kind !== 'command') return;
    const stream = r.command.args[2];
    expect(stream.type).toBe('stream');
    expect(await (stream as { result: Promise<unknown> }).result).toBe('hello world');
  });

  it('refuses too long lines, LITERAL- literals over 4096 octets and malformed input', async () => {
    expect(await feed(`a NOOP ${'x'.repeat(200)}\r\n`).run()).toMatchObject({ kind: 'error', code: 'TOOBIG' });
    expect(await feed('a NOOP (x\r\n').run()).toMatchObject({ kind: 'error', status: 'BAD', text: 'Unclosed "("' });
    expect(await feed('a NOOP x)\r\n').run()).toMatchObject({ kind: 'error', status: 'BAD' });
    expect(await feed('a NOOP "abc\r\n').run()).toMatchObject({ kind: 'error', text: 'Unterminated quoted string' });
    expect(await feed('a+b NOOP\r\n').run()).toMatchObject({ kind: 'error', tag: null, text: 'Invalid tag' });
    expect(await feed('a {x}\r\n').run()).toMatchObject({ kind: 'error' });
    expect(await feed('\r\n').run()).toEqual({ kind: 'empty' });
  });

  it('parses sequence sets including * and $', () => {
    expect(parseSequenceSet('1,3:5,7:*')).toEqual({ saved: false, ranges: [{ from: 1, to: 1 }, { from: 3, to: 5 }, { from: 7, to: Infinity }] });
    expect(parseSequenceSet('$')).toEqual({ saved: true });
    expect(parseSequenceSet('0')).toBeNull();
    expect(parseSequenceSet('1:x')).toBeNull();
    expect(resolveRanges([{ from: 10, to: Infinity }], 5)).toEqual([{ from: 5, to: 10 }]);
  });

  it('parses fetch attributes and search keys', () => {
    const plan = parseFetchItems({ type: 'list', items: [{ type: 'atom', value: 'BINARY.PEEK[1.2]<0.5>' }, { type: 'atom', value: 'FAST' }] });
    expect(plan.flags && plan.internalDate && plan.size).toBe(true);
    expect(plan.sections[0]).toMatchObject({ kind: 'binary', peek: true, part: '1.2', partial: { offset: 0, length: 5 }, label: 'BINARY[1.2]<0>' });
    expect(plan.setsSeen).toBe(false);
    expect(() => parseFetchItems({ type: 'atom', value: 'BODY[0]' })).toThrow();
    const key = parseSearchKeys([{ type: 'atom', value: 'OR' }, { type: 'atom', value: 'SEEN' }, { type: 'atom', value: 'FROM' }, { type: 'string', value: 'bob', raw: Buffer.from('bob'), literal: false }, { type: 'atom', value: '1:3' }]);
    expect(key).toEqual({ op: 'and', keys: [{ op: 'or', a: { op: 'flag', flag: '\\Seen', set: true }, b: { op: 'header', field: 'from', value: 'bob' } }, { op: 'seq', set: { saved: false, ranges: [{ from: 1, to: 3 }] } }] });
    expect(() => parseSearchKeys([{ type: 'atom', value: 'BOGUS' }])).toThrow();
  });

  it('round-trips modified UTF-7 folder names, Chinese included', () => {
    expect(encodeMutf7('收件箱/工作')).toBe('&ZTZO9nux-/&XeVPXA-');
    expect(decodeMutf7('&ZTZO9nux-/&XeVPXA-')).toBe('收件箱/工作');
    expect(encodeMutf7('a&b')).toBe('a&-b');
    expect(decodeMutf7('p&AOQA5A-')).toBe('pää');
    expect(decodeMutf7('&AGE-')).toBeNull();
    expect(decodeMutf7('&Jjo!')).toBeNull();
  });
});
