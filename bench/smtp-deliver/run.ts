/**
 * SMTP in → mailbox throughput of one mail node (roles smtp, delivery, scheduler) started in this process on a fresh
 * test database. A message counts only once its row is in `message` (the mailbox counters committed with the rows,
 * polled every 100 ms, then checked against the rows), so the figures are end to
 * end: SMTP session, blob fsync, spool commit, BullMQ, delivery job, store append. Scenarios:
 *   a) 5,000 × 10 KB to one mailbox over 10 and over 100 concurrent connections (each sends many messages);
 *   b) 10,000 × 10 KB to 10,000 mailboxes across 1,000 domains, 100 connections;
 *   c) 500 × 300 KB to one mailbox, 10 connections.
 * Also printed: when the last 250 arrived (SMTP alone), per-stage time inside the node, PostgreSQL statements and CPU
 * time (node, PostgreSQL backends, client) per message, and the peak RSS of this process (the node alone). The SMTP
 * client is a child process (client.ts), as a sending MTA is. `BENCH_SCALE=0.2` runs a fifth of each for a quick look.
 */
import 'reflect-metadata';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { startTestNode, type TestNode } from '../../apps/mta/test/harness';
import { BenchClient, sendUntilStored, type Job } from './bench-client';


const SCALE = Number(process.env.BENCH_SCALE ?? 1);
/** `BENCH_ONLY=a` (or `b`, `c`, `ab`…) runs only those scenarios; a letter given twice (`ccc`) runs that one again (for profiles of a warm node). */
const ONLY = process.env.BENCH_ONLY ?? 'abc';
const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MB`;

interface Stage { calls: number; ms: number }
const stages = new Map<string, Stage>();
function timed<T extends object, K extends keyof T>(name: string, obj: T, key: K): void {
  const original = obj[key] as unknown as (...a: unknown[]) => Promise<unknown>;
  (obj as Record<K, unknown>)[key] = async function (this: unknown, ...args: unknown[]) {
    const t = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      const s = stages.get(name) ?? { calls: 0, ms: 0 };
      s.calls += 1;
      s.ms += performance.now() - t;
      stages.set(name, s);
    }
  };
}

/** Statements the node's pool sends (BEGIN/COMMIT included), counted per client as it is checked out. */
const queries = { total: 0 };
function countQueries(pool: TestNode['ctx']['pool']): void {
  const counted = new WeakSet<object>();
  pool.on('acquire', (client) => {
    if (counted.has(client)) return;
    counted.add(client);
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      queries.total += 1;
      return query(...a);
    };
  });
}

/**
 * CPU seconds (user + system) of this process's event loop (the first thread) and of its other threads together, from
 * /proc/self/task: worker threads (summaries, blob reads and writes), libuv's pool and V8's helpers (GC, compiler) all
 * call themselves "node", so they are not told apart. Threads that exit during a run are missed.
 */
function threadCpu(): Map<string, number> {
  const byKind = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const kind = Number(tid) === process.pid ? 'event loop' : 'other threads';
      byKind.set(kind, (byKind.get(kind) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // gone meanwhile
    }
  }
  return byKind;
}

/**
 * CPU seconds (user + system) of the PostgreSQL backends serving this database, from /proc: on a busy shared machine
 * CPU per message says more than wall-clock rates. Backends that exit during a run are missed (an underestimate).
 */
async function postgresCpu(node: TestNode): Promise<Map<number, number>> {
  const rows: Array<{ pid: number }> = await node.db.dataSource.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`);
  const ticks = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // gone, or not on this machine
    }
  }
  return ticks;
}


async function run(node: TestNode, client: BenchClient, label: string, connections: number, jobs: Job[], mailboxIds: string[]) {
  await client.prepare(node.ports.smtp, connections, jobs);
  const sql = (t: string, p?: unknown[]) => node.db.dataSource.query(t, p);
  // Polled every 100 ms: the mailboxes' message counters, committed in the same transaction as the message rows. A
  // count(*) over the message table cost PostgreSQL ~0.6 ms of CPU per message in (c), once (a) had left 10,000 rows.
  const counted = async () => (await sql(`SELECT coalesce(sum(message_count), 0)::int AS n FROM mailbox WHERE id = ANY($1)`, [mailboxIds]))[0].n as number;
  const rowCount = async () => (await sql(`SELECT count(*)::int AS n FROM message WHERE mailbox_id = ANY($1)`, [mailboxIds]))[0].n as number;
  const rowsBefore = await rowCount();
  stages.clear();
  queries.total = 0;
  const cpuBefore = process.cpuUsage();
  const threadsBefore = threadCpu();
  const pgBefore = await postgresCpu(node);
  const { elapsed, smtp, clientCpuMs } = await sendUntilStored(client, label, jobs.length, counted);
  // The counters against the rows themselves, once the clock has stopped.
  const rowsStored = (await rowCount()) - rowsBefore;
  if (rowsStored !== jobs.length) throw new Error(`${label}: the mailbox counters say ${jobs.length} new messages, the message table ${rowsStored}`);
  console.log(`${label}: ${jobs.length} stored in ${elapsed.toFixed(1)} s = ${Math.round(jobs.length / elapsed)} msgs/s end to end`
    + ` (SMTP alone: last 250 after ${smtp.toFixed(1)} s = ${Math.round(jobs.length / smtp)} msgs/s)`);
  const perMessage = queries.total / jobs.length;
  const cpu = process.cpuUsage(cpuBefore);
  const threads = [...threadCpu()].map(([kind, t]) => `${kind} ${(((t - (threadsBefore.get(kind) ?? 0)) * 1000) / jobs.length).toFixed(2)}`);
  const pgAfter = await postgresCpu(node);
  let pgSeconds = 0;
  for (const [pid, t] of pgAfter) pgSeconds += t - (pgBefore.get(pid) ?? 0);
  const rows = [...stages.entries()].map(([name, s]) => `${name} ${s.calls}× avg ${(s.ms / s.calls).toFixed(1)} ms`);
  console.log(`  stages: ${rows.join('; ')}; PostgreSQL statements per message ${perMessage.toFixed(1)}`);
  console.log(`  CPU per message: node ${((cpu.user + cpu.system) / 1000 / jobs.length).toFixed(2)} ms,`
    + ` PostgreSQL backends ${((pgSeconds * 1000) / jobs.length).toFixed(2)} ms, client ${(clientCpuMs / jobs.length).toFixed(2)} ms`);
  console.log(`  node CPU per message by thread (ms): ${threads.join(', ')}`);
  return Math.round(jobs.length / elapsed);
}

async function main(): Promise<void> {
  const node = await startTestNode({
    roles: ['smtp', 'delivery', 'scheduler'],
    settings: { concurrentConnectionsPerIp: 10_000, connectionsPerIpPerMinute: 100_000 },
    // Passed through to the node's configuration when set.
    env: Object.fromEntries(['DELIVERY_CONCURRENCY', 'DELIVERY_HANDOFF_LIMIT', 'SPOOL_SUMMARY_WORKERS', 'INGEST_SLOTS', 'LOG_LEVEL'].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : []))),
  });
  countQueries(node.ctx.pool);
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 100);
  const results: string[] = [];
  const client = new BenchClient();
  try {
    const store = node.ctx.store as unknown as Record<string, unknown>;
    timed('putBlob', store, 'putBlob');
    timed('appendMany', store, 'appendMany');
    const sql = (t: string, p?: unknown[]) => node.db.dataSource.query(t, p);
    const tenant = await node.seed.tenant('Bench');
    const domain = await node.seed.domain(tenant.id, 'bench.test');
    const inbox = await node.seed.mailbox(domain.id, 'inbox');

    const count = (n: number) => Math.max(1, Math.round(n * SCALE));
    for (const connections of ONLY.includes('a') ? [10, 100] : []) {
      const jobs = Array.from({ length: count(5000) }, (_, i) => ({ to: inbox.address, bytes: 10 * 1024, n: i + connections * 100_000 }));
      results.push(`a) 10 KB, one mailbox, ${connections} connections: ${await run(node, client, `a) ${connections} conn`, connections, jobs, [inbox.id])} msgs/s (issue's Postfix+Dovecot figure ${connections === 10 ? 317 : 282})`);
    }

    if (ONLY.includes('b')) {
    // b) 1,000 domains × 10 mailboxes, seeded in bulk; folders through the store as the API does.
    const seedStart = performance.now();
    const hash = (await sql(`SELECT password_hash FROM mailbox WHERE id = $1`, [inbox.id]))[0].password_hash;
    const domains = count(1000);
    await sql(
      `INSERT INTO domain (tenant_id, name, unicode_name, status, smtp_enabled, local_only, is_default, mailbox_default_quota_bytes)
       SELECT $1, 'd' || g || '.bench.test', 'd' || g || '.bench.test', 'active', true, false, false, 1073741824 FROM generate_series(1, $2) g`,
      [tenant.id, domains],
    );
    const many: Array<{ id: string; address: string }> = await sql(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, display_name, role, password_hash, status, may_send_outside, quota_bytes, used_bytes)
       SELECT d.tenant_id, d.id, 'u' || g, 'u' || g || '@' || d.name, '', 'user', $2, 'active', true, 1073741824, 0
         FROM domain d CROSS JOIN generate_series(1, 10) g WHERE d.tenant_id = $1 AND d.name LIKE 'd%.bench.test'
       RETURNING id, address`,
      [tenant.id, hash],
    );
    for (let i = 0; i < many.length; i += 20) await Promise.all(many.slice(i, i + 20).map((m) => node.ctx.store.createDefaultFolders(m.id)));
    console.log(`seeded ${domains} domains, ${many.length} mailboxes in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
    const spread = Array.from({ length: count(10_000) }, (_, i) => ({ to: many[i % many.length].address, bytes: 10 * 1024, n: i }));
    results.push(`b) 10 KB to ${many.length} mailboxes in ${domains} domains, 100 connections: ${await run(node, client, 'b) spread', 100, spread, many.map((m) => m.id))} msgs/s (issue's Postfix+Dovecot figure 256)`);
    }

    for (let round = 0; round < [...ONLY].filter((ch) => ch === 'c').length; round++) {
    const big = Array.from({ length: count(500) }, (_, i) => ({ to: inbox.address, bytes: 300 * 1024, n: i + 9_000_000 + round * 1000 }));
    results.push(`c) 300 KB, one mailbox, 10 connections: ${await run(node, client, 'c) 300 KB', 10, big, [inbox.id])} msgs/s (issue's Postfix+Dovecot figure 201)`);
    }
  } finally {
    clearInterval(sampler);
    client.close();
    await node.close();
  }
  console.log(`\nDELIVERY_CONCURRENCY ${process.env.DELIVERY_CONCURRENCY ?? '32 (default)'}, scale ${SCALE}, text ${process.env.BENCH_TEXT === 'varied' ? 'varied' : 'repeated'}`);
  for (const r of results) console.log(r);
  console.log(`peak RSS of the node process (server only): ${mb(peak)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
