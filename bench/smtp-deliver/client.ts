/**
 * The benchmark's SMTP client, run as a child process of run.ts: a sending MTA is another process (usually another
 * machine), so its CPU — building messages, and the kernel's loopback work its socket writes pay for — is not
 * charged to the mail node's event loop. Protocol over the IPC channel:
 *   parent → { prepare: { port, connections, jobs: [{ to, bytes, n }] } }   child builds every message, then → 'ready'
 *   parent → 'go'                                                          child sends them, then → { done, cpuMs } or { error }
 */
import { message } from './messages';
import { SmtpTalk } from '../../apps/mta/test/smtp-talk';

interface Job { to: string; bytes: number; n: number }
interface Prepare { port: number; connections: number; jobs: Job[] }

const END_OF_DATA = Buffer.from('\r\n.\r\n');

async function sendAll(port: number, connections: number, jobs: Array<{ to: string; data: Buffer }>): Promise<void> {
  let next = 0;
  const worker = async () => {
    const talk = await SmtpTalk.open(port);
    if (talk.greeting.code !== 220) throw new Error(`greeting ${talk.greeting.line}`);
    await expect(talk.cmd('EHLO client.outside.test'), 250);
    for (;;) {
      const i = next++;
      if (i >= jobs.length) break;
      const job = jobs[i];
      await expect(talk.cmd('MAIL FROM:<sender@outside.test>'), 250);
      await expect(talk.cmd(`RCPT TO:<${job.to}>`), 250);
      await expect(talk.cmd('DATA'), 354);
      // The message and its terminator in one write, as an MTA's buffered stream sends them: a separate small write of
      // the terminator would wait for the body's ACK (Nagle), which the server delays by 40 ms (delayed ACK).
      talk.write(job.data);
      await expect(talk.read(), 250);
    }
    await talk.cmd('QUIT');
  };
  await Promise.all(Array.from({ length: connections }, worker));
}

async function expect(reply: Promise<{ code: number; line: string }>, code: number): Promise<void> {
  const r = await reply;
  if (r.code !== code) throw new Error(`expected ${code}, got ${r.line || 'a closed connection'}`);
}

let prepared: Prepare | null = null;
let built: Array<{ to: string; data: Buffer }> = [];

process.on('message', (msg: { prepare?: Prepare } | 'go') => {
  if (msg === 'go') {
    const cpu = process.cpuUsage();
    sendAll(prepared!.port, prepared!.connections, built).then(
      () => {
        const used = process.cpuUsage(cpu);
        process.send!({ done: true, cpuMs: (used.user + used.system) / 1000 });
      },
      (err: unknown) => process.send!({ error: String(err) }),
    );
    return;
  }
  if (msg.prepare) {
    prepared = msg.prepare;
    built = prepared.jobs.map((j) => ({ to: j.to, data: Buffer.concat([message(j.bytes, j.n, j.to, process.env.BENCH_TEXT === 'varied' ? 'varied' : 'repeated'), END_OF_DATA]) }));
    process.send!('ready');
  }
});
