/** The benchmark's client process, as run.ts (bench:smtp) and bench/postfix-dovecot (bench:postfix) drive it. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** One message to send: its recipient, its size and its number (which makes its text). */
export interface Job { to: string; bytes: number; n: number }

/**
 * The client runs in a child process (client.ts), as a sending MTA would: its CPU is not the node's. It builds every
 * message before the clock starts.
 */
export class BenchClient {
  private readonly child: ChildProcess;
  private readonly waiting: Array<(msg: unknown) => void> = [];

  constructor() {
    this.child = fork(join(__dirname, 'client.ts'), [], { execArgv: ['-r', join(__dirname, '../../tools/register.cjs')] });
    this.child.on('message', (msg) => this.waiting.shift()?.(msg));
  }

  private next(): Promise<unknown> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async prepare(port: number, connections: number, jobs: Job[]): Promise<void> {
    const ready = this.next();
    this.child.send({ prepare: { port, connections, jobs } });
    if ((await ready) !== 'ready') throw new Error('bench client did not get ready');
  }

  /** Sends the prepared messages; resolves with the client's CPU milliseconds. */
  async go(): Promise<number> {
    const done = this.next();
    this.child.send('go');
    const r = (await done) as { done?: boolean; cpuMs?: number; error?: string };
    if (r.error) throw new Error(r.error);
    return r.cpuMs!;
  }

  close(): void {
    this.child.kill();
  }
}


export interface SendTimes {
  /** seconds from the go until `counted` reached the total */
  elapsed: number;
  /** seconds from the go until the last 250 */
  smtp: number;
  clientCpuMs: number;
}

/**
 * Sends the prepared messages and polls `counted` (how many are stored, in all) every 100 ms until `total` more are
 * there; `onPoll` runs after each poll. Gives up after 30 minutes.
 */
export async function sendUntilStored(
  client: BenchClient, label: string, total: number, counted: () => Promise<number>, onPoll?: (tick: number) => void,
): Promise<SendTimes> {
  const before = await counted();
  const started = performance.now();
  let smtpDone = 0;
  let clientCpuMs = 0;
  const sending = client.go().then((ms) => { smtpDone = performance.now(); clientCpuMs = ms; });
  let failed: unknown = null;
  sending.catch((err) => { failed = err; });
  let stored = 0;
  let ticks = 0;
  const deadline = started + 30 * 60_000;
  while (stored < total) {
    if (failed) throw failed;
    if (performance.now() > deadline) throw new Error(`${label}: only ${stored} of ${total} stored after 30 min`);
    await sleep(100);
    stored = (await counted()) - before;
    onPoll?.(++ticks);
  }
  const elapsed = (performance.now() - started) / 1000;
  await sending;
  if (stored !== total) throw new Error(`${label}: ${stored} stored, ${total} sent`);
  return { elapsed, smtp: (smtpDone - started) / 1000, clientCpuMs };
}
