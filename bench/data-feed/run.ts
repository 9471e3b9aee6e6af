/**
 * CPU per message of smtp-server's DATA parsing (SMTPStream: dot unstuffing, end of DATA, the message stream) with
 * its own _feedDataStream and with ours (libs/smtp/src/inbound/data/fast-data-feed.ts), for 300 KB messages written
 * in 64 KB chunks as a socket delivers them: the SMTP benchmark's plain text (no dot at all), text with sentences and
 * dot-stuffed lines, and a base64 attachment. One process, no network. `BENCH_RUNS` (default 200) messages per figure,
 * `BENCH_ROUNDS` (default 7) alternating rounds; medians are printed.
 * Run: node -r ./tools/register.cjs bench/data-feed/run.ts
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { SMTPStream } from 'smtp-server/lib/smtp-stream';
import { fastFeedDataStream } from '@dizi/smtp/inbound/data/fast-data-feed';
import { message } from '../smtp-deliver/messages';

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CHUNK = 64 * 1024;
const SIZE = 300 * 1024;
const original = SMTPStream.prototype._feedDataStream;

/** Dot-stuffed as a client sends it: a line that starts with a dot gets another one. */
function stuffed(text: string): Buffer {
  return Buffer.from(`${text.replace(/^\./gm, '..')}.\r\n`, 'latin1');
}

function sentences(): Buffer {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const words = 'the meeting report. budget quarter, team project. schedule friday review draft numbers. v1.2.3 example.org'.split(' ');
  let text = 'Subject: notes\r\n\r\n';
  while (text.length < SIZE) {
    let line = rnd() < 0.02 ? '.' : '';
    while (line.length < 70) line += `${words[Math.floor(rnd() * words.length)]} `;
    text += `${line}\r\n`;
  }
  return stuffed(text);
}

function attachment(): Buffer {
  const b64 = randomBytes((SIZE * 3) / 4).toString('base64').replace(/.{76}/g, '$&\r\n');
  return stuffed(`Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`);
}

function chunked(data: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += CHUNK) chunks.push(data.subarray(i, i + CHUNK));
  return chunks;
}

/** One message through a parser already in command mode: DATA mode, the chunks, the end of the message stream. */
async function receive(parser: SMTPStream, chunks: Buffer[]): Promise<number> {
  const stream = parser.startDataMode();
  let bytes = 0;
  stream.on('data', (b: Buffer) => (bytes += b.length));
  const ended = new Promise<void>((resolve) => stream.on('end', resolve));
  for (const c of chunks) parser.write(c);
  await ended;
  parser.continue();
  return bytes;
}

/** CPU microseconds per message (user + system) over RUNS messages. */
async function cpuPerMessage(feed: typeof original, chunks: Buffer[], expectBytes: number): Promise<number> {
  const parser = new SMTPStream();
  parser._feedDataStream = feed;
  const start = process.cpuUsage();
  for (let i = 0; i < RUNS; i++) {
    const got = await receive(parser, chunks);
    if (got !== expectBytes) throw new Error(`received ${got} bytes, expected ${expectBytes}`);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / RUNS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const messages: Array<[string, Buffer]> = [
    ['smtp bench plain text (no dots)', Buffer.concat([message(SIZE, 1, 'alice@acme.test'), Buffer.from('.\r\n')])],
    ['sentences, 2% dot-stuffed lines', sentences()],
    ['base64 attachment', attachment()],
  ];
  console.log(`node ${process.version}, ${RUNS} messages × ${ROUNDS} rounds per figure, ${CHUNK / 1024} KB chunks`);
  console.log(`load before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const [name, data] of messages) {
    const chunks = chunked(data);
    // What both must deliver: the content with escape dots removed, without the terminator line.
    const expectBytes = data.length - 3 - (data.toString('latin1').match(/\n\.\./g)?.length ?? 0);
    await cpuPerMessage(original, chunks, expectBytes);
    await cpuPerMessage(fastFeedDataStream, chunks, expectBytes);
    const figures = { original: [] as number[], fast: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      figures.original.push(await cpuPerMessage(original, chunks, expectBytes));
      figures.fast.push(await cpuPerMessage(fastFeedDataStream, chunks, expectBytes));
    }
    const o = median(figures.original);
    const f = median(figures.fast);
    console.log(`${name} (${(data.length / 1024).toFixed(0)} KB, ${chunks.length} chunks): original ${o.toFixed(0)} µs/msg `
      + `[${figures.original.map((x) => x.toFixed(0)).join(' ')}], fast ${f.toFixed(0)} µs/msg `
      + `[${figures.fast.map((x) => x.toFixed(0)).join(' ')}], saved ${(o - f).toFixed(0)} µs (${((1 - f / o) * 100).toFixed(0)}%)`);
  }
  console.log(`load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

void main();
