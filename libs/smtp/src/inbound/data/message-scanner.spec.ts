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
});
