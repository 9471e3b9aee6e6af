import { describe, expect, it } from 'vitest';
import { MessageScanner, ScanResult } from './message-scanner';

const limits = { maxBytes: 10_000, maxHops: 3 };

/** Feeds chunks in order; returns the joined output or the first refusal. */
function scan(chunks: Array<string | Buffer>, l = limits): { output: string } | { refusal: string } {
  const s = new MessageScanner(l);
  const out: Buffer[] = [];
  const take = (r: ScanResult) => {
    if (!r.ok) return `${r.refusal.code} ${r.refusal.enhanced}`;
    out.push(r.output);
    return null;
  };
  for (const c of chunks) {
    const refused = take(s.feed(Buffer.isBuffer(c) ? c : Buffer.from(c, 'latin1')));
    if (refused) return { refusal: refused };
  }
  const refused = take(s.end());
  return refused ? { refusal: refused } : { output: Buffer.concat(out).toString('latin1') };
}

describe('MessageScanner', () => {
  it('passes CRLF text through unchanged', () => {
    expect(scan(['Subject: a\r\n\r\nbody\r\n'])).toEqual({ output: 'Subject: a\r\n\r\nbody\r\n' });
  });

  it('turns bare LF into CRLF, also when CR and LF arrive in different chunks', () => {
    expect(scan(['a\nb\r', '\nc\n'])).toEqual({ output: 'a\r\nb\r\nc\r\n' });
    expect(scan(['\n\n'])).toEqual({ output: '\r\n\r\n' });
  });

  it('refuses a bare CR, also at a chunk boundary and at the very end', () => {
    expect(scan(['a\rb\r\n'])).toEqual({ refusal: '554 5.6.0' });
    expect(scan(['a\r', 'b\r\n'])).toEqual({ refusal: '554 5.6.0' });
    expect(scan(['a\r\r\n'])).toEqual({ refusal: '554 5.6.0' });
    expect(scan(['a\r'])).toEqual({ refusal: '554 5.6.0' });
  });

  it('refuses NUL anywhere', () => {
    expect(scan([Buffer.from([0x61, 0x00, 0x0d, 0x0a])])).toEqual({ refusal: '554 5.6.0' });
  });

  it('counts Received lines of the header only, case-insensitively, across chunks, not continuation lines', () => {
    const two = 'Received: a\r\n\tb\r\nRECEIVED: c\r\nX-Received: d\r\nReceivedX: e\r\n';
    expect(scan([two, '\r\nReceived: in body\r\nReceived: in body\r\n'])).toHaveProperty('output');
    expect(scan(['Received: 1\r\nrecei', 'ved: 2\r\nReceived: 3\r\n\r\n'])).toEqual({ refusal: '554 5.4.6' });
  });

  it('applies the same checks in the body (scanned apart from the header), wherever the chunks split it', () => {
    const head = 'Subject: a\r\n\r\n';
    const cases: Array<[string, { output: string } | { refusal: string }]> = [
      ['one\r\ntwo\r\n', { output: `${head}one\r\ntwo\r\n` }],
      ['one\ntwo\n\nthree', { output: `${head}one\r\ntwo\r\n\r\nthree` }],
      ['one\rtwo\r\n', { refusal: '554 5.6.0' }],
      ['one\r\r\n', { refusal: '554 5.6.0' }],
      ['one\r\ntwo\r', { refusal: '554 5.6.0' }],
      ['one\x00\r\n', { refusal: '554 5.6.0' }],
      ['\tReceived: x\r\nReceived: y\r\nReceived: z\r\n', { output: `${head}\tReceived: x\r\nReceived: y\r\nReceived: z\r\n` }],
    ];
    for (const [body, expected] of cases) {
      const whole = head + body;
      for (let cut = 0; cut <= whole.length; cut++) {
        expect(scan([whole.slice(0, cut), whole.slice(cut)]), `${JSON.stringify(whole)} cut at ${cut}`).toEqual(expected);
      }
      expect(scan([...whole]), `${JSON.stringify(whole)} byte by byte`).toEqual(expected);
    }
  });

  it('refuses output over the size limit (after normalisation)', () => {
    expect(scan(['x'.repeat(10), '\n'], { maxBytes: 11, maxHops: 3 })).toEqual({ refusal: '552 5.3.4' });
    expect(scan(['x'.repeat(9), '\n'], { maxBytes: 11, maxHops: 3 })).toEqual({ output: `${'x'.repeat(9)}\r\n` });
  });

  it('gives the verdict and output of a byte-by-byte reading however the message is cut into chunks', () => {
    // The rules read over the whole message at once, one byte after the other: the specification feed() must meet.
    const reference = (all: Buffer, maxHops: number): { output: string } | { refusal: string } => {
      const out: number[] = [];
      let hops = 0;
      let inHeader = true;
      let line: number[] = [];
      for (let i = 0; i < all.length; i++) {
        const b = all[i];
        if (b === 0) return { refusal: 'NUL' };
        if (b === 0x0d && all[i + 1] !== 0x0a) return { refusal: 'bare CR' };
        if (b === 0x0d) continue;
        if (b !== 0x0a) {
          out.push(b);
          if (inHeader) line.push(b);
          continue;
        }
        out.push(0x0d, 0x0a);
        if (!inHeader) continue;
        if (!line.length) inHeader = false;
        else if (Buffer.from(line).toString('latin1').toLowerCase().startsWith('received:') && ++hops >= maxHops) return { refusal: 'hops' };
        line = [];
      }
      return { output: Buffer.from(out).toString('latin1') };
    };
    const scanned = (chunks: Buffer[], maxHops: number): { output: string } | { refusal: string } => {
      const s = new MessageScanner({ maxBytes: 1e9, maxHops });
      const out: Buffer[] = [];
      for (const r of [...chunks.map((c) => s.feed(c)), s.end()]) {
        if (!r.ok) {
          const text = r.refusal.text;
          return { refusal: /NUL/.test(text) ? 'NUL' : /bare CR/.test(text) ? 'bare CR' : /hops/.test(text) ? 'hops' : text };
        }
        out.push(r.output);
      }
      return { output: Buffer.concat(out).toString('latin1') };
    };
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    const pieces = ['Received: x\r\n', 'received:\n', '\tReceived: y\r\n', 'Subject: s\r\n', 'a', 'bc', '\r\n', '\n', '\r', '\0', ' ', '\r\n\r\n'];
    const outcomes = new Set<string>();
    for (let n = 0; n < 3000; n++) {
      let text = '';
      const parts = 1 + rnd(30);
      for (let k = 0; k < parts; k++) {
        // Mostly clean CRLF text: faults are rare, so they turn up in the body and at chunk edges too.
        const piece = pieces[rnd(pieces.length)];
        text += piece.length === 1 && /[\0\r\n]/.test(piece) && rnd(4) ? '\r\n' : piece;
      }
      const all = Buffer.from(text, 'latin1');
      const chunks: Buffer[] = [];
      for (let at = 0; at < all.length;) {
        const size = rnd(3) ? 1 + rnd(8) : 0;
        chunks.push(all.subarray(at, at + size));
        at += size;
      }
      const expected = reference(all, 3);
      outcomes.add('output' in expected ? 'output' : expected.refusal);
      expect(scanned(chunks, 3), JSON.stringify(text)).toEqual(expected);
      expect(scanned([all], 3), JSON.stringify(text)).toEqual(expected);
    }
    expect([...outcomes].sort()).toEqual(['NUL', 'bare CR', 'hops', 'output']);
  });
});
