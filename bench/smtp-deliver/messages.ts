/**
 * The benchmark's messages: plain text of about `bytes`, dot-stuffing free, CRLF lines of 78 characters. By default
 * (`repeated`) every line is the same sentence with its first digit changed, as since the first session: cheap to
 * index, since a search index passes over repeated text. `varied` (BENCH_TEXT=varied) never repeats: words drawn
 * by a 32-bit generator seeded with `n` from 20,000 made-up words with the frequencies of natural language (Zipf: the
 * k-th most common word comes about 1/k as often; 10 KB then holds some 600 distinct words, as English prose does),
 * which is what the indexer pays for in mail where no line comes twice.
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
const VOCABULARY = 20_000;

/** The k-th word of the vocabulary (0 the most common): two to four syllables, spelled from k's digits in base 20. */
function vocabularyWord(k: number): string {
  let w = '';
  let x = k + 20 * 20;
  while (x > 0) {
    w += SYLLABLES[x % 20];
    x = Math.floor(x / 20);
  }
  return w;
}

/** A word with Zipf frequencies (log-uniform rank), sometimes capitalised or with a number. */
function word(next: () => number): string {
  const rank = Math.floor(Math.exp((next() / 2 ** 32) * Math.log(VOCABULARY + 1))) - 1;
  const r = next();
  let w = vocabularyWord(rank);
  if (r % 32 === 0) w += String((r >>> 5) % 100);
  return (r >>> 12) % 16 === 0 ? w[0].toUpperCase() + w.slice(1) : w;
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
