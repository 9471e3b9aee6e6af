/**
 * Mailbox search latency: 1 domain with 100,000 mailboxes, 500 `GET /api/mailboxes?domain=…&q=…&limit=50`
 * through the real HTTP API with common and rare fragments; prints p50/p95/p99 in ms.
 * The API answers a one-domain search from its in-memory n-gram index (exact totals); for comparison the bench
 * also times what an exact count(*) of the matches costs in SQL, as the cross-domain search path would need.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { startTestApi } from '../../apps/api/test/harness';

const MAILBOXES = 100_000;
const REQUESTS = 500;
const FIRST = ['anna', 'bob', 'chen', 'david', 'emma', 'fatima', 'george', 'hana', 'ivan', 'julia', 'kenji', 'li', 'maria', 'noah', 'olga', 'pedro', 'qing', 'rosa', 'sven', 'tariq', 'ursula', 'victor', 'wei', 'xena', 'yusuf', 'zoe'];
const LAST = ['smith', 'garcia', 'wang', 'mueller', 'rossi', 'dubois', 'tanaka', 'kim', 'nguyen', 'silva', 'ivanova', 'kowalski', 'johnson', 'zhang', 'ali', 'larsen', 'novak', 'haddad', 'okafor', 'martin'];
// Common ones match thousands of mailboxes, rare ones a handful, some nothing at all.
const COMMON = ['an', 'ma', 'son', 'li', 'er', 'smith', 'wang', 'anna', 'ia', 'ro'];
const RARE = ['emma.kim4217', 'zhang12345', 'olga.novak9', 'qing.haddad77', 'xena.larsen', 'tariq.okafor5555', 'nobody-here', 'zzzz', 'Ursula Silva', '.rossi88'];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const api = await startTestApi();
  try {
    const op = await api.operatorToken();
    const tenant = await api.request('POST', '/api/tenants', { token: op, body: { name: 'Bench' } });
    const domain = await api.request('POST', '/api/domains', { token: op, body: { tenantId: tenant.body.id, name: 'bench.test' } });
    let t = performance.now();
    await api.db.dataSource.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, display_name, password_hash, quota_bytes, used_bytes)
       SELECT $1, $2, lp, lp || '@bench.test', initcap(f) || ' ' || initcap(l), '{ARGON2ID}x', 1073741824, (i * 7919) % 1073741824
         FROM generate_series(1, $3) AS i,
              LATERAL (SELECT ($4::text[])[1 + i % array_length($4::text[], 1)] AS f, ($5::text[])[1 + (i / 26) % array_length($5::text[], 1)] AS l) n,
              LATERAL (SELECT f || '.' || l || i AS lp) a`,
      [tenant.body.id, domain.body.id, MAILBOXES, FIRST, LAST],
    );
    // What autovacuum does soon after a bulk load: statistics, and GIN pending lists merged into the trigram indexes.
    await api.db.dataSource.query(`VACUUM ANALYZE mailbox`);
    console.log(`setup: ${MAILBOXES} mailboxes inserted in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const fragments = Array.from({ length: REQUESTS }, (_, i) => (i % 2 ? COMMON[(i >> 1) % COMMON.length] : RARE[(i >> 1) % RARE.length]));
    const get = (q: string) => api.request('GET', `/api/mailboxes?domain=bench.test&q=${encodeURIComponent(q)}&limit=50`, { token: op });
    for (const q of [...COMMON, ...RARE]) await get(q); // warm caches and the JIT

    // The floor: an authenticated request that does no mailbox work.
    const floor: number[] = [];
    for (let i = 0; i < 100; i++) {
      t = performance.now();
      await api.request('GET', '/api/auth/me', { token: op });
      floor.push(performance.now() - t);
    }

    const times: Record<'common' | 'rare', number[]> = { common: [], rare: [] };
    const totals = new Map<string, string>();
    const perFragment = new Map<string, number[]>();
    for (const q of fragments) {
      t = performance.now();
      const r = await get(q);
      const ms = performance.now() - t;
      if (r.status !== 200) throw new Error(`GET failed: ${r.status} ${JSON.stringify(r.body)}`);
      (COMMON.includes(q) ? times.common : times.rare).push(ms);
      perFragment.set(q, [...(perFragment.get(q) ?? []), ms]);
      totals.set(q, `${r.body.total}${r.body.totalCapped ? '+' : ''}`);
    }
    const report = (name: string, values: number[]) => {
      const s = [...values].sort((a, b) => a - b);
      console.log(`${name.padEnd(8)} n=${String(s.length).padEnd(4)} p50 ${percentile(s, 50).toFixed(1)} ms  p95 ${percentile(s, 95).toFixed(1)} ms  p99 ${percentile(s, 99).toFixed(1)} ms`);
    };
    console.log(`\n${REQUESTS} requests GET /api/mailboxes?domain=bench.test&q=<fragment>&limit=50, one at a time:`);
    report('all', [...times.common, ...times.rare]);
    report('common', times.common);
    report('rare', times.rare);
    report('floor', floor);
    console.log('(floor: GET /api/auth/me, the same HTTP, rate-limit and token checks without the search)');
    console.log('per fragment: matches (+ = capped at 1,001 by the SQL path), median ms');
    for (const [q, n] of totals) {
      const s = [...perFragment.get(q)!].sort((a, b) => a - b);
      console.log(`  ${q.padEnd(18)} ${n.padStart(6)}  ${percentile(s, 50).toFixed(1)}`);
    }

    // What an exact total would add per request, measured in SQL alone.
    const exact: number[] = [];
    for (const q of COMMON) {
      t = performance.now();
      await api.db.dataSource.query(
        `SELECT count(*) FROM mailbox m WHERE m.domain_id = $1 AND (m.local_part LIKE $2 OR lower(m.display_name) LIKE $2)`,
        [domain.body.id, `%${q.toLowerCase()}%`],
      );
      exact.push(performance.now() - t);
    }
    report('\nexact count(*) of common fragments (SQL only, not used by the API):', exact);

    // The first search after a change in the domain rebuilds the domain's index: what that costs.
    const first: number[] = [];
    const [{ address }] = await api.db.dataSource.query(`SELECT address FROM mailbox WHERE domain_id = $1 LIMIT 1`, [domain.body.id]);
    for (let i = 0; i < 10; i++) {
      const patched = await api.request('PATCH', `/api/mailboxes/${address}`, { token: op, body: { displayName: `Renamed ${i}` } });
      if (patched.status !== 200) throw new Error(`PATCH failed: ${patched.status} ${JSON.stringify(patched.body)}`);
      t = performance.now();
      await get(COMMON[i % COMMON.length]);
      first.push(performance.now() - t);
    }
    report('first search after a change (index rebuilt):', first);
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
