/**
 * summariseMessage on part-splitter.ts against the summariser as it was on mailsplit (mailsplit-summary.ts): the same
 * summary, field for field (offsets, BODYSTRUCTURE, ENVELOPE, line counts, search text and its lexemes), or an error
 * from both, over the fixtures, imaptest's mailboxes (shared/imaptest, when present) and generated messages: nested
 * multiparts, digests, attached messages, header-only parts, missing or padded delimiters, boundary look-alikes, LF
 * and CRLF and bare CR line ends, lines cut short at the end. The old splitter is given each message whole (its
 * output also depended on where the stream's chunks ended; the new one is checked to give one answer for any cut).
 * `SUMMARY_DIFF_MESSAGES` raises the number of generated messages (default 600).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { searchTextParts, summariseMessage, type MessageSummary, type SummaryLimits } from '../src/message-summary';
import { searchTokens, searchTokensOf } from '../src/search-tokens';
import { summariseMessage as summariseWithMailsplit } from './mailsplit-summary';

const GENERATED = Number(process.env.SUMMARY_DIFF_MESSAGES ?? 600);

/** A small deterministic PRNG: the same messages on every run. */
function prng(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return Math.floor((x / 2147483648) * n);
  };
}

function fixtureMessages(): Array<[string, Buffer]> {
  const dir = join(__dirname, 'fixtures');
  return readdirSync(dir).filter((f) => f.endsWith('.eml')).map((f) => [f, readFileSync(join(dir, f))]);
}

/**
 * The messages of imaptest's mbox files, as LF and as CRLF: from the shared folder every checkout of this project sits
 * beside (the path libs/imap/test/imaptest.spec.ts reads too, so a clone elsewhere still finds it).
 */
function imaptestMessages(): Array<[string, Buffer]> {
  const dir = '/work/shared/imaptest/tests';
  if (!existsSync(dir)) return [];
  const out: Array<[string, Buffer]> = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.mbox'))) {
    const text = readFileSync(join(dir, file), 'latin1');
    text.split(/^From [^\n]*\n/m).filter((m) => m.trim()).forEach((m, n) => {
      out.push([`${file} #${n}`, Buffer.from(m, 'latin1')]);
      out.push([`${file} #${n} CRLF`, Buffer.from(m.replace(/\n/g, '\r\n'), 'latin1')]);
    });
  }
  return out;
}

/** A random MIME message, built to hit the splitter's odd cases more often than mail does. */
function generated(rnd: (n: number) => number): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)];
  const eolStyle = rnd(4);
  const eol = () => (eolStyle === 0 ? '\n' : eolStyle === 1 ? pick(['\r\n', '\r\n', '\r\n', '\n']) : '\r\n');
  const boundaries: string[] = [];
  const words = ['hello', 'Wörld', 'naïve', '海淀区', 'a@b.example', 'Mail@Example.COM', 'x', '', ' ', '=3D', '=E2=80=94',
    'PGI+Ym9sZDwvYj4=', '\t', '<p>Hi</p>', '&amp;', 'From me', 'Content-Type: text/plain', '\xe9t\xe9'];
  const bodyLine = (): string => {
    const r = rnd(14);
    if (r === 0 && boundaries.length) {
      // Boundary look-alikes: an outer boundary with padding, a close delimiter, or something after it.
      return `--${pick(boundaries)}${pick(['', '--', '  ', ' \t', '-', 'x', '--x', '---', ' --', '\r'])}`;
    }
    if (r === 1) return pick(['--', '---', '-', '\rX--b', '\r--b', `\r${pick(['', '-'])}--${pick(boundaries.length ? boundaries : ['b'])}`]);
    if (r === 2) return '';
    return Array.from({ length: rnd(6) }, () => pick(words)).join(' ');
  };
  const body = (lines: number) => Array.from({ length: lines }, () => bodyLine() + eol()).join('');
  const header = (fields: string[]) => fields.map((f) => f + eol()).join('');

  const part = (depth: number, inDigest: boolean): string => {
    const kind = depth > 3 ? rnd(6) : rnd(12);
    const extra: string[] = [];
    if (rnd(4) === 0) extra.push(`Content-Disposition: ${pick(['inline', 'attachment', 'attachment; filename="a.eml"', 'attachment; filename="r.txt"'])}`);
    if (rnd(6) === 0) extra.push(`Content-Transfer-Encoding: ${pick(['7bit', '8bit', 'base64', 'quoted-printable', 'binary', 'x-weird'])}`);
    if (rnd(8) === 0) extra.push('Content-Language: en', 'Content-ID: <id@x>', 'Content-Description: some part');
    const headerOnly = rnd(12) === 0;
    const finish = (fields: string[], content: string) => header([...fields, ...extra]) + (headerOnly ? '' : eol() + content);
    if (kind <= 2) {
      const charset = pick(['', '; charset=us-ascii', '; charset=utf-8', '; charset="UTF-8"', '; charset=iso-8859-1', '; charset=gb2312', '; charset=utf-16']);
      const type = kind === 2 ? 'text/html' : 'text/plain';
      return finish(inDigest && rnd(2) ? [] : [`Content-Type: ${type}${charset}`], body(rnd(8)));
    }
    if (kind === 3) return finish(['Content-Type: application/octet-stream; name="f.bin"', 'Content-Transfer-Encoding: base64'], body(rnd(3)));
    if (kind === 4) return finish(rnd(2) ? [] : ['X-Other: no type'], body(rnd(4)));
    if (kind === 5) return finish([`Content-Type: text/plain; boundary="${pick(boundaries.length ? boundaries : ['tb'])}"`], body(rnd(6)));
    if (kind === 6 || kind === 7) {
      const inner = message(depth + 1);
      return finish([`Content-Type: message/rfc822${rnd(6) ? '' : '; boundary="rb"'}`], inner);
    }
    // A multipart.
    const subtype = pick(['mixed', 'alternative', 'digest', 'related', 'MIXED']);
    const b = pick(['b1', 'b2', 'outer', '----=_Part_0_1.2', 'a b', 'x', 'b1x', "q'(x)"]) + (rnd(3) ? '' : String(depth));
    boundaries.push(b);
    const quoted = rnd(3) ? `"${b}"` : /^[\w.=-]+$/.test(b) ? b : `"${b}"`;
    let out = header([`Content-Type: multipart/${subtype}; boundary=${quoted}`, ...extra]);
    if (headerOnly) return out;
    out += eol();
    if (rnd(3) === 0) out += body(rnd(3));
    const children = rnd(4);
    for (let i = 0; i < children; i++) {
      out += `--${b}${rnd(6) ? '' : pick(['  ', '\t', ' \t '])}${eol()}`;
      out += part(depth + 1, subtype === 'digest');
    }
    if (rnd(5)) out += `--${b}--${rnd(6) ? '' : ' '}${rnd(8) ? eol() : ''}`;
    if (rnd(3) === 0) out += body(rnd(3));
    boundaries.pop();
    return out;
  };

  const message = (depth: number): string => {
    const fields = [`From: ${pick(['Alice <alice@example.org>', '=?utf-8?B?5byg5LiJ?= <z@example.cn>', 'bob@example.com'])}`,
      `To: ${pick(['carol@example.net', 'Team: a@x.example, b@y.example;', ''])}`, `Subject: ${pick(['Hello', 'Re: Fwd: plan', '=?utf-8?Q?caf=C3=A9?='])}`,
      'Date: Tue, 14 Oct 2025 09:12:31 +0800', `Message-ID: <m${rnd(1000)}@example.org>`];
    return header(fields) + part(depth, false);
  };

  let text = message(0);
  // Cut the last line short now and then: a message need not end with a line break.
  if (rnd(4) === 0) text = text.replace(/\r?\n$/, '');
  return Buffer.from(text, 'utf8');
}

/** Lines deleted, repeated or swapped at random: messages that are broken in ways a generator would not think of. */
function mutated(raw: Buffer, rnd: (n: number) => number): Buffer {
  const lines = raw.toString('latin1').split(/(?<=\n)/);
  for (let k = 1 + rnd(3); k > 0 && lines.length > 1; k--) {
    const i = rnd(lines.length);
    const r = rnd(4);
    if (r === 0) lines.splice(i, 1);
    else if (r === 1) lines.splice(i, 0, lines[i]);
    else if (r === 2) lines[i] = lines[i].replace(/\r?\n$/, '\n');
    else lines.splice(i, 0, lines[rnd(lines.length)]);
  }
  return Buffer.from(lines.join(''), 'latin1');
}

/** Messages the old summariser refused for lost bytes (see compare). */
const recovered: string[] = [];

type Outcome = { summary: MessageSummary; tokens: string[] } | { error: string };

async function outcome(run: () => Promise<MessageSummary>, tokens: (s: MessageSummary) => string[]): Promise<Outcome> {
  try {
    const summary = await run();
    return { summary, tokens: tokens(summary) };
  } catch (err) {
    return { error: String(err) };
  }
}

/** The summary as plain data: the lazy search body read, so that toEqual compares what every reader sees. */
function plain(o: Outcome): unknown {
  if ('error' in o) return o;
  return { ...o.summary, searchText: { headers: o.summary.searchText.headers, body: o.summary.searchText.body }, tokens: o.tokens };
}

function chunked(raw: Buffer, rnd: (n: number) => number): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < raw.length;) {
    const size = 1 + rnd(rnd(2) ? 16 : 400);
    chunks.push(raw.subarray(at, at + size));
    at += size;
  }
  return Readable.from(chunks);
}

async function compare(name: string, raw: Buffer, rnd: (n: number) => number, limits: SummaryLimits = {}): Promise<boolean> {
  const before = await outcome(() => summariseWithMailsplit(raw, limits), (s) => searchTokens(`${s.searchText.headers}\n${s.searchText.body}`));
  const now = await outcome(() => summariseMessage(raw, limits), (s) => searchTokensOf(searchTextParts(s.searchText)));
  // mailsplit gave the header of a part that its parent's close delimiter cut short twice (as a part, then as
  // multipart data) and the summariser refused the message; such a message now has a summary.
  const lost = 'error' in before && before.error.includes('lost bytes');
  if (lost) recovered.push(name);
  else expect(plain(now), name).toEqual(plain(before));
  // Any chunking: one answer.
  const cut = await outcome(() => summariseMessage(chunked(raw, rnd), limits), (s) => searchTokensOf(searchTextParts(s.searchText)));
  expect(plain(cut), `${name}, in chunks`).toEqual(plain(now));
  return 'error' in now;
}

/** mailsplit's odd cases, each written out: the generator reaches some of them only rarely. */
const CORNERS: Array<[string, string, SummaryLimits?]> = [
  ['a body of one empty line keeps it when the next part opens',
    'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n'],
  ['and gives it up to a close delimiter',
    'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\r\n--b--\r\nepilogue\r\n'],
  ['a top-level text part with a boundary parameter is split on it, and returns to the top after a close',
    'Content-Type: text/plain; boundary=x\r\n\r\nroot text\r\n--x\r\n\r\nchild text\r\n--x--\r\nafter close\r\n--x\r\n\r\nagain\r\n--x--\r\nend\r\n'],
  ['a close delimiter cut short after a CR', 'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n--b--\rX'],
  ['a last line read with the line break before it', 'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n\rX--b'],
  ['a last line that is a boundary', 'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n--b\r'],
  ['lines that start with a CR', 'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n\rX--b\r\n\r\nmore\r\n\r--b\r\n--b--\r\n'],
  ['a header-only part closed by its parent', 'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n--b--\r\n'],
  ['an attached message in base64 is not read into', 'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA0KDQpoaQ0K\r\n--b--\r\n'],
  ['digest parts without a type, an .eml attachment without one',
    'Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: in digest\n\nbody\n--d\nContent-Disposition: attachment; filename="m.eml"\n\nSubject: eml\n\nhi\n--d--\n'],
  ['as many parts as allowed', 'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\na\r\n--b\r\n\r\nb\r\n--b\r\n\r\nc\r\n--b--\r\n', { maxParts: 4 }],
  ['a multipart without a boundary inside messages inside a multipart: its lines are read whole, wherever chunks end',
    `Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: multipart/mixed\r\n\r\n${'xx--a\r\n'.repeat(60)}--a--\r\n`],
  // Lines past part-splitter's LONG_LINE are handed on before their end: the summary must not change for it.
  ['a long line in a part, then a boundary',
    `Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n${'w '.repeat(50_000)}\r\n--b\r\n\r\n\r\n${'v'.repeat(70_000)}\r\n--b--\r\n`],
  ['a long first body line of a part that ends the message', `Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n${'z'.repeat(80_000)}`],
  ['a long header line within the header limit', `Subject: ${'s'.repeat(100_000)}\r\nContent-Type: text/plain\r\n\r\nbody\r\n`],
  ['a long line in a preamble', `Content-Type: multipart/mixed; boundary=b\r\n\r\n${'p'.repeat(70_000)}\r\n--b\r\n\r\nx\r\n--b--\r\n`],
  ['no header at all', ''],
  ['a header without its end', 'Subject: x\r\nFrom: a@b.example'],
];

describe('summariseMessage against the mailsplit summariser', () => {
  it('gives the same summary in the corner cases', async () => {
    const rnd = prng(3);
    for (const [name, text, limits] of CORNERS) {
      await compare(name, Buffer.from(text, 'latin1'), rnd, limits);
      await compare(`${name}, LF`, Buffer.from(text.replace(/\r\n/g, '\n'), 'latin1'), rnd, limits);
    }
    expect(recovered).toEqual(['a header-only part closed by its parent', 'a header-only part closed by its parent, LF']);
  });

  // mailsplit refused these (and delivery deferred the message until it bounced); the summary is now degraded instead.
  it('summarises a message past a limit where mailsplit gave up, the same whole and in chunks', async () => {
    const rnd = prng(4);
    const tooMany = 'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\na\r\n--b\r\n\r\nb\r\n--b\r\n\r\nc\r\n--b--\r\n';
    const bigHeader = `Subject: ${'x'.repeat(3000)}\r\nFrom: a@b.example\r\n\r\nbody\r\n`;
    for (const [text, limits, error] of [
      [tooMany, { maxParts: 3 }, 'Max allowed child nodes exceeded'],
      [bigHeader, { maxHeaderSize: 100 }, 'Max header size for a MIME node exceeded'],
    ] as const) {
      for (const raw of [Buffer.from(text, 'latin1'), Buffer.from(text.replace(/\r\n/g, '\n'), 'latin1')]) {
        const before = await outcome(() => summariseWithMailsplit(raw, limits), () => []);
        expect(before).toEqual({ error: `Error: ${error}` });
        const now = await outcome(() => summariseMessage(raw, limits), (s) => searchTokensOf(searchTextParts(s.searchText)));
        if ('error' in now) throw new Error(now.error);
        expect(now.summary.degraded).toMatch(/beyond the limits/);
        // What was read is read: the From after a Subject too long to keep, the parts up to the limit.
        if (text === bigHeader) expect(now.summary.from?.address).toBe('a@b.example');
        else expect(now.summary.bodyStructure.kind === 'multipart' && now.summary.bodyStructure.children.length).toBe(2);
        expect(now.summary.size).toBe(raw.length);
        const cut = await outcome(() => summariseMessage(chunked(raw, rnd), limits), (s) => searchTokensOf(searchTextParts(s.searchText)));
        expect(plain(cut)).toEqual(plain(now));
      }
    }
  });

  it('decodes text parts as before: ASCII in every charset, UTF-8 valid or not, with a byte order mark or not', async () => {
    const rnd = prng(9);
    const ascii = Buffer.from(Array.from({ length: 127 }, (_, i) => i + 1).filter((c) => c !== 0x0a && c !== 0x0d));
    const charsets = ['', 'us-ascii', 'ASCII', 'utf-8', 'UTF8', 'iso-8859-1', 'ISO-8859-15', 'windows-1252', 'iso-8859-99', 'utf-16', 'utf-7',
      'iso-2022-jp', 'gb2312', 'x-unknown'];
    const bytes = ['\xef\xbb\xbf', 'a', 'Zz', ' ', '\xc3\xa9', '\xe6\xb5\xb7', '\xf0\xa0\x80\x80', '\xc0\x80', '\xed\xa0\x80', '\xf4\x90\x80\x80',
      '\x80', '\xe6\xb5', '\xff', '+ADw-', '\x1b$B', 'x@y.example'];
    for (const charset of charsets) {
      const type = `Content-Type: text/plain${charset ? `; charset=${charset}` : ''}\r\n`;
      const bodies = [ascii.toString('latin1'), '\xef\xbb\xbfhello \xc3\xa9', ...Array.from({ length: 12 }, () => Array.from({ length: rnd(10) }, () => bytes[rnd(bytes.length)]).join(''))];
      for (const body of bodies) {
        for (const encoding of ['', 'Content-Transfer-Encoding: base64\r\n']) {
          const content = encoding ? Buffer.from(body, 'latin1').toString('base64') : body;
          await compare(`${charset} ${JSON.stringify(body)} ${encoding}`, Buffer.from(`Subject: t\r\n${type}${encoding}\r\n${content}\r\n`, 'latin1'), rnd);
        }
      }
    }
  });

  it('gives the same summary for every fixture and imaptest message, whole and mutated', async () => {
    const rnd = prng(5);
    const messages = [...fixtureMessages(), ...imaptestMessages()];
    expect(messages.length).toBeGreaterThanOrEqual(9);
    for (const [name, raw] of messages) {
      await compare(name, raw, rnd);
      for (let k = 0; k < 4; k++) await compare(`${name} mutated ${k}`, mutated(raw, rnd), rnd);
    }
  }, 120_000);

  it('gives the same summary for generated messages', async () => {
    const rnd = prng(17);
    let errors = 0;
    let multiparts = 0;
    for (let n = 0; n < GENERATED; n++) {
      const raw = generated(rnd);
      const message = rnd(3) ? raw : mutated(raw, rnd);
      if (await compare(`generated #${n}: ${JSON.stringify(message.toString('latin1'))}`, message, rnd)) errors++;
      if (/multipart/i.test(message.toString('latin1'))) multiparts++;
    }
    // The generator must reach the structures it is for, and rarely make unreadable messages.
    expect(multiparts).toBeGreaterThan(GENERATED / 4);
    expect(errors).toBeLessThan(GENERATED / 20);
  }, 300_000);
});
