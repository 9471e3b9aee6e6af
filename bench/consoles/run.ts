/**
 * The consoles' figures (issue 16): in Chromium, a domain of 100,000 mailboxes — time from navigation to the first
 * rows, and from pressing Enter in the search box to the result; and the operator dashboard's database work on a
 * month of mail log for 10,000 mailboxes — p50/p95 of GET /api/stats/dashboard and p95 of each chart's query (from
 * the API's Server-Timing header; the charts' queries run concurrently), first on the raw log alone, then after the
 * scheduler's rollup (the way a running installation reads it). Real API, portal (`next start`), PostgreSQL and
 * Chromium, as the browser tests run them. `BENCH_MAILBOXES`, `BENCH_LOG_ROWS`, `BENCH_RUNS` scale it;
 * `BENCH_ONLY=dashboard` skips the browser part.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { rollUpMailLog } from '../../libs/delivery/src/adapters/postgres/mail-log-rollup';
import { DEMO_PASSWORD, passwordSignIn, startStack } from '../../apps/portal/e2e/stack';

const MAILBOXES = Number(process.env.BENCH_MAILBOXES ?? 100_000);
const LOG_ROWS = Number(process.env.BENCH_LOG_ROWS ?? 1_000_000);
const SENDERS = 10_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 10);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const ms = (v: number) => `${v.toFixed(0)} ms`;

async function main(): Promise<void> {
  const stack = await startStack();
  try {
    const db = stack.db.dataSource;
    let t = performance.now();
    const [alice] = await db.query(`SELECT tenant_id, domain_id, password_hash FROM mailbox WHERE address = 'alice@demo.test'`);
    await db.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, display_name, role, password_hash, quota_bytes, used_bytes)
       SELECT $1, $2, 'u' || lpad(n::text, 6, '0'), 'u' || lpad(n::text, 6, '0') || '@demo.test', 'User ' || n, 'user', $3, 1073741824, (n * 7919) % 1073741824
         FROM generate_series(1, $4) n`,
      [alice.tenant_id, alice.domain_id, alice.password_hash, MAILBOXES],
    );
    // A month of mail log: 10,000 local senders and receivers, sessions, deliveries, outbound and refusals.
    await db.query(
      `INSERT INTO mail_log (at, level, kind, node, result, mail_from, recipients, reason)
       SELECT now() - random() * interval '30 days', CASE WHEN n % 11 = 0 THEN 'warn' ELSE 'info' END,
              (ARRAY['session', 'delivery', 'outbound', 'session'])[1 + n % 4], 'mx' || (1 + n % 3),
              CASE WHEN n % 11 = 0 THEN 'rejected' WHEN n % 4 = 2 THEN 'delivered' ELSE 'accepted' END,
              'u' || lpad((1 + n % $2)::text, 6, '0') || '@demo.test', ARRAY['u' || lpad((1 + (n * 7) % $2)::text, 6, '0') || '@demo.test'],
              CASE WHEN n % 11 = 0 THEN (ARRAY['550 5.1.1 unknown recipient', '554 5.7.1 spam', '550 5.7.1 DMARC reject'])[1 + n % 3] ELSE '' END
         FROM generate_series(1, $1) n`,
      [LOG_ROWS, SENDERS],
    );
    await db.query('VACUUM ANALYZE mailbox');
    await db.query('VACUUM ANALYZE mail_log');
    console.log(`setup: ${MAILBOXES} mailboxes, ${LOG_ROWS} mail log rows in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    // Dashboard: the operator's request, as the page makes it (server-side, with the session's token).
    const measureDashboard = async (label: string) => {
      const fetchDashboard = async () => {
        const r = await fetch(`${stack.apiUrl}/api/stats/dashboard`, { headers: { authorization: `Bearer ${stack.operatorToken}` } });
        if (r.status !== 200) throw new Error(`dashboard: HTTP ${r.status}`);
        await r.arrayBuffer();
        return r.headers.get('server-timing') ?? '';
      };
      await fetchDashboard(); // first request warms the API's code paths
      const total: number[] = [];
      const charts = new Map<string, number[]>();
      for (let i = 0; i < RUNS; i++) {
        t = performance.now();
        const timing = await fetchDashboard();
        total.push(performance.now() - t);
        for (const m of timing.matchAll(/([\w-]+);dur=([\d.]+)/g)) charts.set(m[1], [...(charts.get(m[1]) ?? []), Number(m[2])]);
      }
      console.log(`dashboard ${label} (all charts, ${LOG_ROWS} log rows): p50 ${ms(percentile(total, 50))}, p95 ${ms(percentile(total, 95))} over ${RUNS} requests`);
      console.log(`  p95 per chart: ${[...charts].map(([name, v]) => `${name} ${ms(percentile(v, 95))}`).join(', ')}`);
    };
    await measureDashboard('raw log only, before any rollup');
    const pool = new Pool({ connectionString: stack.db.url, max: 2 });
    try {
      t = performance.now();
      const rolled = await rollUpMailLog(pool);
      console.log(`rollup: ${rolled.hours} hours caught up in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      t = performance.now();
      const again = await rollUpMailLog(pool);
      console.log(`rollup again (as the scheduler runs it every minute): ${again.hours} hours in ${ms(performance.now() - t)}`);
      // Statistics for the new rows, as autovacuum would gather them shortly after.
      await db.query('ANALYZE mail_hourly, mail_refusal_hourly, mail_sender_daily');
    } finally {
      await pool.end();
    }
    await measureDashboard('from the hourly rollups');
    if (process.env.BENCH_ONLY === 'dashboard') return;

    // The mailbox list in Chromium, signed in as the domain admin.
    const context = await stack.browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await passwordSignIn(page, stack.portalUrl, 'admin@demo.test', DEMO_PASSWORD);
    const first: number[] = [];
    const search: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      t = performance.now();
      await page.goto(`${stack.portalUrl}/admin/domains/demo.test`);
      await page.getByTestId('mailbox-address').first().waitFor({ timeout: 120_000 });
      first.push(performance.now() - t);
      const box = page.getByTestId('mailbox-search').locator('input');
      const wanted = `u${String(1 + ((i * 9973) % MAILBOXES)).padStart(6, '0')}`;
      await box.fill(wanted);
      t = performance.now();
      await box.press('Enter');
      await page.getByTestId('mailbox-count').filter({ hasText: /^1 mailbox$/ }).waitFor({ timeout: 120_000 });
      search.push(performance.now() - t);
    }
    console.log(`mailbox list of ${MAILBOXES + 4} mailboxes: first rows p50 ${ms(percentile(first, 50))}, p95 ${ms(percentile(first, 95))}; search result p50 ${ms(percentile(search, 50))}, p95 ${ms(percentile(search, 95))} (${RUNS} runs)`);
    await context.close();
  } finally {
    await stack.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
