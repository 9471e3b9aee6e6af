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

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const CHUNK = 64 * 1024;
const WORDS = ('the a meeting report budget quarter team project schedule friday review draft numbers customer order shipment invoice '
  + 'thanks please attached question office lunch plan update agenda notes call week month figures travel hotel flight '
  + 'Zürich naïve déjà-vu alice@example.org bob.smith@acme.test 2024-05-17 v1.2.3 x86_64').split(' ');

/** Varied words from a seeded generator, CRLF lines under 78: more distinct words than the benchmark's repeated line. */
function variedMessage(bytes: number): Buffer {
  let seed = 12345;
  // In 32-bit integer arithmetic: the product in doubles lost its low bits, and the text repeated after ~75 KB.
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 2 ** 31);
  const head = 'From: Dana Example <dana@example.org>\r\nTo: alice@acme.test\r\nSubject: Notes from the weekly review\r\n'
    + 'Date: Fri, 17 May 2024 10:00:00 +0000\r\nMessage-ID: <review-1@example.org>\r\nMIME-Version: 1.0\r\n'
    + 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n';
  let body = '';
  while (head.length + body.length < bytes) {
    let line = '';
    while (line.length < 60) line += `${WORDS[Math.floor(rnd() * WORDS.length)]}${Math.floor(rnd() * 50)} `;
    body += `${line.trim()}.\r\n`;
  }
  return Buffer.from(head + body);
}

function multipartMessage(bytes: number): Buffer {
  const text = message(bytes / 2, 1, 'alice@acme.test').toString('latin1').split('\r\n\r\n')[1];
  const html = `<html><body><p>${text.replace(/\r\n/g, '<br>\r\n')}</p></body></html>\r\n`;
  const attachment = Buffer.alloc(bytes / 4, 7).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from([
    'From: Dana Example <dana@example.org>', 'To: alice@acme.test', 'Subject: multipart', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="outer"', '', '--outer', 'Content-Type: multipart/alternative; boundary="inner"', '',
    '--inner', 'Content-Type: text/plain; charset=us-ascii', '', text, '--inner', 'Content-Type: text/html; charset=us-ascii',
    'Content-Transfer-Encoding: quoted-printable', '', html, '--inner--', '', '--outer',
    'Content-Type: application/octet-stream; name="a.bin"', 'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="a.bin"', '', attachment, '--outer--', '',
  ].join('\r\n'), 'latin1');
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
    ['varied words 300 KB', variedMessage(300 * 1024)],
    ['multipart 10 KB', multipartMessage(10 * 1024)],
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
