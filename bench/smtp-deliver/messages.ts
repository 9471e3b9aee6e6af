/**
 * The benchmark's messages: plain text of about `bytes`, dot-stuffing free, CRLF lines of 78 characters. By default
 * (`repeated`) every line is the same sentence with its first digit changed, as since the first session: cheap to
 * index, since a search index passes over repeated text. `varied` (BENCH_TEXT=varied) never repeats: words drawn
 * from a vocabulary of some 20,000 made-up words by a 32-bit generator seeded with `n`, which is what the indexer
 * pays for in mail where no line comes twice.
 */
export type BenchText = 'repeated' | 'varied';

export function message(bytes: number, n: number, to: string, text: BenchText = 'repeated'): Buffer {
  const head = `From: Bench Sender <sender@outside.test>\r\nTo: ${to}\r\nSubject: bench message ${n}\r\n`
    + `Message-ID: <bench-${n}-${Date.now()}@outside.test>\r\nDate: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\n`
    + `Content-Type: text/plain; charset=us-ascii\r\n\r\n`;
  const lines: string[] = [];
  let size = head.length;
  if (text === 'varied') {
    const next = xorshift(n + 1);
    while (size < bytes) {
      let l = '';
      while (l.length < 70) l += `${l ? ' ' : ''}${word(next)}`;
      l += '\r\n';
      lines.push(l);
      size += l.length;
    }
    return Buffer.from(head + lines.join(''), 'latin1');
  }
  const line = 'The quick brown fox jumps over the lazy dog while the mail node counts bytes ok\r\n'.slice(-78);
  let i = 0;
  while (size < bytes) {
    const l = `${(n + i++) % 10}${line.slice(1)}`;
    lines.push(l);
    size += l.length;
  }
  return Buffer.from(head + lines.join(''), 'latin1');
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'to', 'vi', 'ze', 'po', 'qua', 'dri', 'xen', 'bo', 'fu', 'gre', 'tha', 'wy', 'jo', 'ble'];

/** One of 20 × 20 × 20 + 20 × 20 × 5 made-up words, sometimes with a number or capitalised. */
function word(next: () => number): string {
  const r = next();
  let w = SYLLABLES[r % 20] + SYLLABLES[(r >>> 5) % 20];
  if ((r >>> 10) % 4 !== 0) w += SYLLABLES[(r >>> 13) % 20];
  if ((r >>> 18) % 16 === 0) w += String((r >>> 22) % 100);
  return (r >>> 28) % 8 === 0 ? w[0].toUpperCase() + w.slice(1) : w;
}

/** xorshift32: 2^32 - 1 values before it repeats. */
function xorshift(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}
