/**
 * Sieve at delivery: (1) interpretation cost per message of a 50-rule global and a 20-rule user script (parsed
 * once and cached, as delivery does) on the bench:smtp message, no database; (2) delivery rate end to end (SMTP in →
 * message row, bench:smtp's node and client) with no scripts and with both scripts active, in turn, `BENCH_RUNS`
 * rounds (default 2) of `BENCH_MESSAGES` (default 2000) × 10 KB over 10 connections to one mailbox.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { SieveFilter } from '@dizi/delivery/local/sieve-filter';
import { sieveHeaderFields } from '@dizi/delivery/local/sieve-delivery';
import type { ActiveSieveScript } from '@dizi/delivery/ports/sieve-script-store';
import { PgSieveScriptStore } from '@dizi/delivery/adapters/postgres/pg-sieve-script-store';
import { startTestNode, type TestNode } from '../../apps/mta/test/harness';
import { BenchClient, sendUntilStored } from '../smtp-deliver/bench-client';
import { message } from '../smtp-deliver/messages';
import { globalScript, userScript } from './scripts';

const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2000);
const LIMITS = { maxActions: 32, maxRedirects: 4, maxScriptSize: 64 * 1024 };

function interpretation(): void {
  const raw = message(10 * 1024, 1, 'inbox@bench.test');
  const head = raw.subarray(0, raw.indexOf('\r\n\r\n') + 4);
  const scripts: ActiveSieveScript[] = [
    { id: 'g', level: 'global', ownerId: null, name: 'global', content: globalScript(), final: false, updatedAt: new Date(0) },
    { id: 'u', level: 'mailbox', ownerId: 'mb', name: 'user', content: userScript(), final: false, updatedAt: new Date(0) },
  ];
  const ctx = {
    message: { headers: sieveHeaderFields(head), size: raw.length, envelope: { from: 'sender@outside.test', to: 'inbox@bench.test' } },
    userAddresses: ['inbox@bench.test'], mailboxExists: (n: string) => n === 'Junk', limits: LIMITS,
  };
  let t = performance.now();
  const cold = new SieveFilter();
  const first = cold.run(scripts, ctx);
  const parseMs = performance.now() - t;
  if (first.errors.length > 0 || first.actions.length !== 1 || first.actions[0].type !== 'keep') throw new Error(`unexpected result ${JSON.stringify(first)}`);
  const filter = new SieveFilter();
  filter.run(scripts, ctx);
  const n = 20_000;
  for (let i = 0; i < 2000; i++) filter.run(scripts, { ...ctx, message: { ...ctx.message, headers: sieveHeaderFields(head) } });
  t = performance.now();
  for (let i = 0; i < n; i++) filter.run(scripts, { ...ctx, message: { ...ctx.message, headers: sieveHeaderFields(head) } });
  const perMessage = ((performance.now() - t) / n) * 1000;
  t = performance.now();
  for (let i = 0; i < n; i++) sieveHeaderFields(head);
  const headerUs = ((performance.now() - t) / n) * 1000;
  console.log(`interpretation: 50-rule global + 20-rule user script, parsed and cached: ${perMessage.toFixed(1)} µs per message`
    + ` (of which header decoding ${headerUs.toFixed(1)} µs); first run with parsing ${parseMs.toFixed(1)} ms`);
}

async function deliveryRate(): Promise<void> {
  const node: TestNode = await startTestNode({
    roles: ['smtp', 'delivery', 'scheduler'],
    settings: { concurrentConnectionsPerIp: 10_000, connectionsPerIpPerMinute: 100_000 },
  });
  const client = new BenchClient();
  try {
    const tenant = await node.seed.tenant('Bench');
    const domain = await node.seed.domain(tenant.id, 'bench.test');
    const inbox = await node.seed.mailbox(domain.id, 'inbox');
    const scripts = new PgSieveScriptStore(node.ctx.pool);
    const sql = (t: string, p?: unknown[]) => node.db.dataSource.query(t, p);
    const counted = async () => (await sql(`SELECT message_count AS n FROM mailbox WHERE id = $1`, [inbox.id]))[0].n as number;
    await scripts.put({ level: 'global' }, 'global', globalScript());
    await scripts.put({ level: 'mailbox', mailboxId: inbox.id }, 'user', userScript());
    const results: Record<string, number[]> = { none: [], sieve: [] };
    const cpu: Record<string, number[]> = { none: [], sieve: [] };
    let n = 0;
    for (let round = 0; round < RUNS; round++) {
      for (const mode of ['none', 'sieve'] as const) {
        await scripts.setActive({ level: 'global' }, mode === 'sieve' ? 'global' : null);
        await scripts.setActive({ level: 'mailbox', mailboxId: inbox.id }, mode === 'sieve' ? 'user' : null);
        const jobs = Array.from({ length: MESSAGES }, () => ({ to: inbox.address, bytes: 10 * 1024, n: n++ }));
        await client.prepare(node.ports.smtp, 10, jobs);
        const before = process.cpuUsage();
        const { elapsed } = await sendUntilStored(client, mode, jobs.length, counted);
        const used = process.cpuUsage(before);
        results[mode].push(jobs.length / elapsed);
        cpu[mode].push((used.user + used.system) / 1000 / jobs.length);
        console.log(`round ${round + 1} ${mode}: ${Math.round(jobs.length / elapsed)} msgs/s, node CPU ${((used.user + used.system) / 1000 / jobs.length).toFixed(2)} ms per message`);
      }
    }
    const folders = await sql(`SELECT f.name, count(m.*)::int AS n FROM folder f LEFT JOIN message m ON m.folder_id = f.id WHERE f.mailbox_id = $1 GROUP BY f.name HAVING count(m.*) > 0`, [inbox.id]);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`delivery, ${MESSAGES} × 10 KB, 10 connections, ${RUNS} rounds (median): no script ${Math.round(median(results.none))} msgs/s`
      + ` (${median(cpu.none).toFixed(2)} ms CPU), 50-rule global + 20-rule user script ${Math.round(median(results.sieve))} msgs/s (${median(cpu.sieve).toFixed(2)} ms CPU);`
      + ` stored in ${folders.map((f: { name: string; n: number }) => `${f.name} ${f.n}`).join(', ')}`);
  } finally {
    client.close();
    await node.close();
  }
}

async function main(): Promise<void> {
  interpretation();
  if (process.env.BENCH_ONLY !== 'interpretation') await deliveryRate();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
