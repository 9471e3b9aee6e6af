/**
 * The summary of a hostile message (issue 11, item 9) is always made, in bounded time, and is degraded where a limit
 * is (as Dovecot's is): excess depth and parts are opaque data, a header past the limit is cut for reading only.
 * Offsets still describe the message byte for byte, and any chunking gives the same summary.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatBodyStructure, formatEnvelope } from '../src/imap-format';
import { DEFAULT_SUMMARY_LIMITS, summariseMessage, type BodyStructure, type MessageSummary, type SummaryLimits } from '../src/message-summary';
import { searchTextParts } from '../src/message-summary';
import { searchTokensOf } from '../src/search-tokens';
import {
  badEncodingsMessage,
  brokenBoundariesMessage,
  encodedWordsMessage,
  longLineMessage,
  manyHeadersMessage,
  manyPartsMessage,
  nestedMessage,
} from '@dizi/testing/hostile-messages';

function chunks(raw: Buffer, size: number): Readable {
  const out: Buffer[] = [];
  for (let at = 0; at < raw.length; at += size) out.push(raw.subarray(at, at + size));
  return Readable.from(out);
}

/** Levels of multiparts and attached messages, counted without recursion. */
function depthOf(tree: BodyStructure): number {
  let deepest = 0;
  const stack: Array<[BodyStructure, number]> = [[tree, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    deepest = Math.max(deepest, depth);
    if (node.kind === 'multipart') for (const c of node.children) stack.push([c, depth + 1]);
    else if (node.message) stack.push([node.message.body, depth + 1]);
  }
  return deepest;
}

function leaves(tree: BodyStructure): BodyStructure[] {
  const out: BodyStructure[] = [];
  const stack = [tree];
  while (stack.length) {
    const node = stack.pop()!;
    if (node.kind === 'multipart') stack.push(...node.children);
    else if (node.message) stack.push(node.message.body);
    else out.push(node);
  }
  return out;
}

/** What every summary must be, degraded or not: readable by IMAP, storable as JSON, offsets inside the message. */
function checkUsable(raw: Buffer, s: MessageSummary): void {
  expect(s.size).toBe(raw.length);
  expect(s.partOffsets.TEXT).toMatchObject({ headerStart: 0, bodyEnd: raw.length });
  for (const [key, r] of Object.entries(s.partOffsets)) {
    expect(r.headerStart <= r.bodyStart && r.bodyStart <= r.bodyEnd && r.bodyEnd <= raw.length, key).toBe(true);
  }
  expect(formatBodyStructure(s.bodyStructure, true).length).toBeGreaterThan(0);
  expect(formatEnvelope(s.envelope).length).toBeGreaterThan(0);
  const { searchText, ...kept } = s;
  expect(JSON.parse(JSON.stringify(kept)).partOffsets).toEqual(s.partOffsets);
  expect(searchTokensOf(searchTextParts(searchText)).length).toBeGreaterThan(0);
}

async function summarise(raw: Buffer, limits?: SummaryLimits): Promise<MessageSummary> {
  const started = performance.now();
  const s = await summariseMessage(chunks(raw, 64 * 1024), limits);
  // Seconds at most even on a busy shared machine (each takes well under one on a free core).
  expect(performance.now() - started).toBeLessThan(10_000);
  checkUsable(raw, s);
  return s;
}

describe('summariseMessage on hostile messages', () => {
  it('keeps 1,000 and 20,000 nested multiparts to 50 levels, the deepest one an opaque part holding the rest', async () => {
    expect(DEFAULT_SUMMARY_LIMITS.maxDepth).toBe(50);
    for (const depth of [1000, 20_000]) {
      const raw = nestedMessage(depth);
      const s = await summarise(raw);
      expect(s.degraded).toMatch(/beyond the limits/);
      expect(depthOf(s.bodyStructure)).toBe(50);
      const opaque = leaves(s.bodyStructure).find((l) => l.kind === 'single' && l.type === 'application');
      expect(opaque).toMatchObject({ type: 'application', subtype: 'octet-stream' });
      // The deepest part's body holds every deeper part, byte for byte.
      const number = `2${'.1'.repeat(48)}`;
      const range = s.partOffsets[number];
      expect(raw.toString('latin1', range.headerStart, range.bodyStart)).toBe(`Content-Type: multipart/mixed; boundary="n49"\r\n\r\n`);
      expect(raw.toString('latin1', range.bodyStart, range.bodyStart + 6)).toBe('--n49\r');
      expect(raw.toString('latin1', range.bodyEnd, range.bodyEnd + 7)).toBe('\r\n--n48');
      expect(s.searchText.body).toContain('nestedmarker');
      expect(s.envelope.subject).toBe(`nested ${depth}`);
    }
  });

  it('reads nesting within the limit as before, and the same in any chunks', async () => {
    const raw = nestedMessage(48);
    const whole = await summariseMessage(raw);
    expect(whole.degraded).toBeUndefined();
    expect(depthOf(whole.bodyStructure)).toBe(49);
    for (const size of [1, 7, 4096]) expect(await summariseMessage(chunks(raw, size))).toEqual(whole);
    const deeper = await summariseMessage(raw, { maxDepth: 10 });
    expect(depthOf(deeper.bodyStructure)).toBe(10);
    expect(await summariseMessage(chunks(raw, 3), { maxDepth: 10 })).toEqual(deeper);
  });

  it('keeps 1,000 of 50,000 parts, the last one holding the rest of the message', async () => {
    const raw = manyPartsMessage(50_000);
    const s = await summarise(raw);
    expect(s.degraded).toMatch(/beyond the limits/);
    const top = s.bodyStructure;
    if (top.kind !== 'multipart') throw new Error('not a multipart');
    expect(top.children).toHaveLength(999);
    const last = s.partOffsets['999'];
    expect(raw.toString('latin1', last.bodyStart, last.bodyStart + 8)).toBe('part 998');
    expect(raw.toString('latin1', last.bodyStart, last.bodyEnd)).toMatch(/part 49999\r\n--p--\r\n$/);
    expect(s.searchText.body).toContain('partsmarker');
    const fewer = await summariseMessage(chunks(raw.subarray(0, 5000), 13), { maxParts: 10 });
    expect(fewer.bodyStructure.kind === 'multipart' && fewer.bodyStructure.children.length).toBe(9);
    expect(await summariseMessage(raw.subarray(0, 5000), { maxParts: 10 })).toEqual(fewer);
  });

  it('reads a 20 MB line without gathering it, and a line past a chunk end the same', async () => {
    const raw = longLineMessage(20 * 1024 * 1024);
    const s = await summarise(raw);
    expect(s.degraded).toBeUndefined();
    const body = s.partOffsets['1'];
    expect(body.bodyEnd - body.bodyStart).toBe(raw.length - raw.indexOf('\r\n\r\n') - 4);
    expect(s.bodyStructure).toMatchObject({ kind: 'single', size: body.bodyEnd - body.bodyStart, lines: 3 });
    expect(s.searchText.body.startsWith('longlinemarker before the line')).toBe(true);
    const small = longLineMessage(200 * 1024);
    const whole = await summariseMessage(small);
    for (const size of [1000, 65 * 1024, 100_000]) expect(await summariseMessage(chunks(small, size))).toEqual(whole);
  });

  it('reads 20,000 header fields, and cuts a header past maxHeaderSize for reading only', async () => {
    const raw = manyHeadersMessage(20_000);
    const s = await summarise(raw);
    expect(s.degraded).toBeUndefined();
    expect(s.envelope.messageId).toBe('<headersmarker@hostile.example>');
    expect(s.searchText.body).toContain('headersmarker in the body');

    const cut = await summarise(raw, { maxHeaderSize: 64 * 1024 });
    expect(cut.degraded).toMatch(/beyond the limits/);
    // The kept fields are read; the body is where it is, and has the type the cut header no longer says.
    expect(cut.envelope.messageId).toBe('<headersmarker@hostile.example>');
    expect(cut.partOffsets.TEXT.bodyStart).toBe(raw.indexOf('\r\n\r\n') + 4);
    expect(cut.searchText.body).toContain('headersmarker in the body');
    for (const size of [1, 997, 70_000]) {
      if (size === 1) expect(await summariseMessage(chunks(raw.subarray(0, 200_000), 1), { maxHeaderSize: 1000 })).toEqual(await summariseMessage(raw.subarray(0, 200_000), { maxHeaderSize: 1000 }));
      else expect(await summariseMessage(chunks(raw, size), { maxHeaderSize: 64 * 1024 })).toEqual(cut);
    }
  });

  it('reads a Subject of 50,000 encoded words', async () => {
    const raw = encodedWordsMessage(50_000);
    const s = await summarise(raw);
    // Over 1 MiB of header: cut for reading.
    expect(s.degraded).toMatch(/beyond the limits/);
    expect(s.subject.startsWith('中文中文')).toBe(true);
    expect(s.partOffsets.TEXT.bodyStart).toBe(raw.indexOf('\r\n\r\n') + 4);
    expect(s.searchText.body).toContain('wordsmarker in the body');
    const within = await summarise(encodedWordsMessage(20_000));
    expect(within.degraded).toBeUndefined();
    expect(within.subject).toBe('中文'.repeat(20_000));
  });

  it('reads broken boundaries, invalid base64, quoted-printable and charsets without failing', async () => {
    for (const raw of [brokenBoundariesMessage(), badEncodingsMessage()]) {
      const s = await summarise(raw);
      expect(s.degraded).toBeUndefined();
      for (const size of [1, 5, 64]) expect(await summariseMessage(chunks(raw, size))).toEqual(s);
    }
    const broken = await summariseMessage(brokenBoundariesMessage());
    expect(broken.searchText.body).toContain('brokenmarker');
    const bad = await summariseMessage(badEncodingsMessage());
    expect(bad.searchText.body).toContain('encodingmarker');
    expect(bad.bodyStructure.kind === 'multipart' && bad.bodyStructure.children.length).toBe(6);
  });

  it('gives a summary for a message that is no MIME at all', async () => {
    for (const text of ['', '\r\n', '\r\n\r\n', 'no header line\r\n', '--b\r\n--b--\r\n', ': empty name\r\n\r\nx', '\0\0\0']) {
      const raw = Buffer.from(text, 'latin1');
      const s = await summariseMessage(raw);
      checkUsableShape(raw, s);
    }
  });
});

/** checkUsable without the search text (a message of nothing has none). */
function checkUsableShape(raw: Buffer, s: MessageSummary): void {
  expect(s.size).toBe(raw.length);
  expect(s.partOffsets.TEXT.bodyEnd).toBe(raw.length);
  expect(formatBodyStructure(s.bodyStructure, true).length).toBeGreaterThan(0);
}
