/**
 * CPU per message of what every received message goes through besides storage: the DATA scanner (MessageScanner.feed),
 * the MIME summary (summariseMessage) and the spool's search lexemes (spoolSummary), on the SMTP benchmark's plain-text
 * messages (300 KB and 10 KB), a 300 KB body of varied words and a 10 KB multipart (plain + HTML + attachment), fed in
 * 64 KB chunks as DATA arrives. One process, no database. `BENCH_RUNS` (default 200) per figure.
 */
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { spoolSummary } from '@dizi/delivery/local/message-index';
import { summariseMessage } from '@dizi/mime/message-summary';
import { MessageScanner } from '@dizi/smtp/inbound/data/message-scanner';
import { message } from '../smtp-deliver/messages';
import { multipartMessage, variedMessage } from '../../libs/mime/test/sample-messages';

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const CHUNK = 64 * 1024;
/** Varied words from a seeded generator (in 32-bit integer arithmetic: in doubles the product lost its low bits). */
function varied(bytes: number): Buffer {
  let seed = 12345;
  return variedMessage(bytes, () => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 2 ** 31));
}

function chunks(raw: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < raw.length; i += CHUNK) out.push(raw.subarray(i, i + CHUNK));
  return out;
}

/** CPU milliseconds (user + system) per run, after as many warm-up runs. */
async function cpuPerRun(runs: number, work: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < Math.min(runs, 50); i++) await work();
  const start = process.cpuUsage();
  for (let i = 0; i < runs; i++) await work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / runs;
}

async function main(): Promise<void> {
  const cases: Array<[string, Buffer]> = [
    ['plain 300 KB (bench:smtp c)', message(300 * 1024, 1, 'alice@acme.test')],
    ['plain 10 KB (bench:smtp a)', message(10 * 1024, 1, 'alice@acme.test')],
    ['varied words 300 KB', varied(300 * 1024)],
    ['multipart 10 KB', multipartMessage(message(5 * 1024, 1, 'alice@acme.test').toString('latin1').split('\r\n\r\n')[1], 10 * 1024)],
  ];
  console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${RUNS} runs each; CPU ms per message`);
  console.log('message                        scan    summary  lexemes  total');
  for (const [name, raw] of cases) {
    const parts = chunks(raw);
    const scan = await cpuPerRun(RUNS, () => {
      const scanner = new MessageScanner({ maxBytes: 50 * 1024 * 1024, maxHops: 30 });
      for (const part of parts) if (!scanner.feed(part).ok) throw new Error('scanner refused the message');
    });
    const summary = await cpuPerRun(RUNS, () => summariseMessage(Readable.from(parts)));
    const done = await summariseMessage(Readable.from(parts));
    const lexemes = await cpuPerRun(RUNS, () => spoolSummary(done));
    const total = await cpuPerRun(RUNS, async () => spoolSummary(await summariseMessage(Readable.from(parts))));
    const cols = [scan, summary, lexemes, total].map((v) => v.toFixed(3).padStart(7)).join('  ');
    console.log(`${name.padEnd(29)} ${cols}`);
  }
  console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
