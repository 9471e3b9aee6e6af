/**
 * What the content filter costs per message: a clean ~10 KB message scanned by a real clamd and spamd (started here
 * like the tests start them: test signatures, shipped SpamAssassin rules, offline), each alone and both at once as the
 * node does, then through SMTP end to end (DATA → 250, filters off vs on) on a node with the smtp role. Prints
 * median / p95 / mean ms and the load average, since the machine is shared. `BENCH_RUNS` (default 40) per figure.
 */
import 'reflect-metadata';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { clamdScan } from '@dizi/filters/clamd-client';
import { DaemonContentScanner } from '@dizi/filters/daemon-content-scanner';
import { spamdSymbols } from '@dizi/filters/spamd-client';
import { startClamd, startSpamd } from '@dizi/testing/scanner-daemons';
import { startTestNode } from '../../apps/mta/test/harness';
import { SmtpTalk } from '../../apps/mta/test/smtp-talk';

const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const WORDS = ('the a meeting report budget quarter team project schedule friday review draft numbers customer order shipment invoice '
  + 'thanks please attached question office lunch plan update agenda notes call week month figures travel hotel flight').split(' ');

/** A plain-text business-like message of about `bytes`, varied words (a seeded generator), CRLF lines under 78. */
function message(bytes: number, n: number): Buffer {
  let seed = 12345 + n;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const head = `Received: from mail.example.org (mail.example.org [192.0.2.25]) by mx.dizi.test with ESMTP id ${n};\r\n\t${new Date().toUTCString()}\r\n`
    + `From: Dana Example <dana@example.org>\r\nTo: alice@acme.test\r\nSubject: Notes from the weekly review ${n}\r\n`
    + `Date: ${new Date().toUTCString()}\r\nMessage-ID: <review-${n}-${Date.now()}@example.org>\r\nMIME-Version: 1.0\r\n`
    + 'Content-Type: text/plain; charset=us-ascii\r\n\r\nHi Alice,\r\n\r\n';
  let body = '';
  while (head.length + body.length < bytes) {
    let line = '';
    while (line.length < 60) line += `${WORDS[Math.floor(rnd() * WORDS.length)]} `;
    body += `${line.trim()}.\r\n`;
  }
  return Buffer.from(head + body + '\r\nBest,\r\nDana\r\n');
}

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return `median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms, mean ${(s.reduce((a, b) => a + b, 0) / s.length).toFixed(1)} ms (n=${s.length})`;
}

async function time(runs: number, once: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 3; i++) await once(-1 - i); // warm-up
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await once(i);
    out.push(performance.now() - t);
  }
  return out;
}

/** CPU time (ms) used so far by every process named like `name` (Linux /proc; 0 elsewhere): wall time on a loaded machine is mostly waiting. */
function cpuMs(name: RegExp): number {
  if (!existsSync('/proc/self/stat')) return 0;
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!name.test(readFileSync(`/proc/${pid}/comm`, 'utf8'))) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const msg = message(10 * 1024, 0);
  console.log(`message: ${msg.length} bytes; load average at start: ${load()}`);
  const [clamd, spamd] = await Promise.all([startClamd(), startSpamd()]);
  console.log(`clamd ready in ${clamd.startMs} ms, spamd ready in ${spamd.startMs} ms (spawn → PING answered)`);
  try {
    const timeoutMs = 30_000;
    console.log(`clamd INSTREAM (TCP):      ${stats(await time(RUNS, () => clamdScan(clamd.address, Readable.from([msg]), { timeoutMs })))}`);
    console.log(`clamd INSTREAM (unix):     ${stats(await time(RUNS, () => clamdScan(clamd.socket, Readable.from([msg]), { timeoutMs })))}`);
    const spamdCpu = cpuMs(/spamd/);
    const spamdTimes = await time(RUNS, () => spamdSymbols(spamd.address, Readable.from([msg]), msg.length, { timeoutMs }));
    console.log(`spamd SYMBOLS:             ${stats(spamdTimes)}; spamd CPU ${((cpuMs(/spamd/) - spamdCpu) / (RUNS + 3)).toFixed(0)} ms per message`);
    const scanner = new DaemonContentScanner({ openMessage: async () => Readable.from([msg]) });
    const request = {
      message: { hash: 'x', size: msg.length }, timeoutMs,
      virus: { address: clamd.address, maxBytes: 25 << 20 }, spam: { address: spamd.address, maxBytes: 1 << 20 },
    };
    console.log(`both at once (the node):   ${stats(await time(RUNS, () => scanner.scan(request)))}`);

    const node = await startTestNode({ settings: { connectionsPerIpPerMinute: 100_000, concurrentConnectionsPerIp: 1000 } });
    try {
      const tenant = await node.seed.tenant('acme');
      const domain = await node.seed.domain(tenant.id, 'acme.test');
      await node.seed.mailbox(domain.id, 'alice');
      const talk = await SmtpTalk.open(node.ports.smtp);
      await talk.cmd('EHLO bench.example.org');
      const smtpOnce = async (i: number) => {
        await talk.cmd('MAIL FROM:<dana@example.org>');
        await talk.cmd('RCPT TO:<alice@acme.test>');
        const t = performance.now();
        const r = await talk.data(message(10 * 1024, 1000 + i));
        if (r.code !== 250) throw new Error(`DATA answered ${r.line}`);
        return performance.now() - t;
      };
      const measure = async () => {
        for (let i = 0; i < 3; i++) await smtpOnce(-1 - i);
        const out: number[] = [];
        for (let i = 0; i < RUNS; i++) out.push(await smtpOnce(i));
        return out;
      };
      console.log(`SMTP DATA → 250, filters off: ${stats(await measure())}`);
      await node.setSettings({ antivirusEnabled: true, antivirusAddress: clamd.address, antispamEnabled: true, antispamAddress: spamd.address });
      console.log(`SMTP DATA → 250, filters on:  ${stats(await measure())}`);
      await talk.quit();
    } finally {
      await node.close();
    }
  } finally {
    await Promise.all([clamd.stop(), spamd.stop()]);
  }
  console.log(`load average at end: ${load()}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
