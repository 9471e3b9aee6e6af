/**
 * Mailbox CSV import throughput: 100,000 rows with existing {SHA512-CRYPT} hashes (one openssl hash
 * reused, unique addresses) imported through the real HTTP API running in this process; prints the
 * elapsed seconds and the process's peak RSS, sampled every 100 ms.
 * `node --expose-gc -r ./tools/register.cjs bench/mailbox-import/run.ts` also forces a full GC every 2 s.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestApi } from '../../apps/api/test/harness';

const ROWS = 100_000;
const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MB`;

async function main(): Promise<void> {
  const api = await startTestApi();
  try {
    const op = await api.operatorToken();
    const tenant = await api.request('POST', '/api/tenants', { token: op, body: { name: 'Bench' } });
    await api.request('POST', '/api/domains', { token: op, body: { tenantId: tenant.body.id, name: 'bench.test' } });
    const hash = execFileSync('openssl', ['passwd', '-6', 'bench-password'], { encoding: 'utf8' }).trim();
    const lines = ['address,display name,quota,password'];
    for (let i = 0; i < ROWS; i++) lines.push(`user${i}@bench.test,Bench User ${i},1G,{SHA512-CRYPT}${hash}`);
    let csv: string | null = lines.join('\n');
    lines.length = 0;
    console.log(`CSV: ${ROWS} rows, ${mb(Buffer.byteLength(csv))}`);

    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const samples: { at: number; rss: number; heap: number; processed: number }[] = [];
    let processed = 0;
    const sampler = setInterval(() => {
      // Under --expose-gc, a full collection every 2 s shows live memory rather than garbage V8 has not reclaimed yet.
      if (global.gc && samples.length % 20 === 0) global.gc();
      const { rss, heapUsed } = process.memoryUsage();
      peak = Math.max(peak, rss);
      samples.push({ at: performance.now(), rss, heap: heapUsed, processed });
    }, 100);

    const started = performance.now();
    const r = await api.request('POST', '/api/domains/bench.test/mailboxes/import', { token: op, raw: { contentType: 'text/csv', data: csv } });
    csv = null;
    if (r.status !== 202) throw new Error(`import refused: ${r.status} ${JSON.stringify(r.body)}`);
    let job: any;
    for (;;) {
      job = (await api.request('GET', `/api/imports/${r.body.jobId}`, { token: op })).body;
      processed = job.processed;
      if (job.status !== 'running') break;
      await sleep(100);
    }
    const elapsed = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const [{ n }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM mailbox`);

    console.log(`job ${job.status}: processed ${job.processed}, created ${job.created}, skipped ${job.skipped}, failed ${job.failed}; ${n} mailboxes in the database`);
    console.log(`elapsed: ${elapsed.toFixed(1)} s (${Math.round(ROWS / elapsed)} rows/s), target < 30 s`);
    console.log(`RSS: before ${mb(baseline)}, peak ${mb(peak)} (+${mb(peak - baseline)})${global.gc ? ', full GC every 2 s' : '; run with node --expose-gc to see live memory'}`);
    const quarter = (f: number) => samples.find((s) => s.processed >= ROWS * f) ?? samples[samples.length - 1];
    console.log(`RSS (heap used) by progress: ${[0.25, 0.5, 0.75, 1].map((f) => `${f * 100}% ${mb(quarter(f).rss)} (${mb(quarter(f).heap)})`).join(', ')}`);
  } finally {
    await api.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
