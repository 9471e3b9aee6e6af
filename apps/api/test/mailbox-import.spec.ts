/** CSV import and export of mailboxes through the real API, and crash safety of the import in a child process. */
import bcrypt from 'bcryptjs';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TestApi, TEST_PASSWORD } from './harness';

const ROOT = resolve(__dirname, '../../..');
const CHILD = resolve(__dirname, 'fixtures/mailbox-import-child.ts');

let api: TestApi;
let op: string;
let tenant: string;
let tmp: string;

const openssl = (flag: '-6' | '-1', password: string) => execFileSync('openssl', ['passwd', flag, password], { encoding: 'utf8' }).trim();

async function ok<T = any>(status: number, method: string, path: string, token: string, body?: unknown): Promise<T> {
  const r = await api.request<T>(method, path, { token, body });
  if (r.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function importCsv(domain: string, csv: string, token = op, query = ''): Promise<string> {
  const r = await api.request('POST', `/api/domains/${domain}/mailboxes/import${query}`, { token, raw: { contentType: 'text/csv', data: csv } });
  if (r.status !== 202) throw new Error(`import: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.jobId;
}

async function finished(jobId: string, token = op): Promise<any> {
  for (let i = 0; i < 1200; i++) {
    const job = await ok(200, 'GET', `/api/imports/${jobId}`, token);
    if (job.status !== 'running') return job;
    await sleep(50);
  }
  throw new Error(`import ${jobId} still running`);
}

async function rows(jobId: string, query = '') {
  return (await ok(200, 'GET', `/api/imports/${jobId}/rows?limit=500${query}`, op)).items as { line: number; address: string; outcome: string; reason: string }[];
}

async function stored(address: string) {
  const [r] = await api.db.dataSource.query(`SELECT * FROM mailbox WHERE address = $1`, [address]);
  return r;
}

async function countIn(domain: string): Promise<number> {
  const [{ n }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM mailbox m JOIN domain d ON d.id = m.domain_id WHERE d.name = $1`, [domain]);
  return n;
}

beforeAll(async () => {
  api = await startTestApi();
  op = await api.operatorToken();
  tmp = mkdtempSync(join(tmpdir(), 'dizi-import-'));
  tenant = (await ok(201, 'POST', '/api/tenants', op, { name: 'Importers' })).id;
  for (const name of ['imp.test', 'imp2.test', 'crash.test']) {
    await ok(201, 'POST', '/api/domains', op, { tenantId: tenant, name, mailboxDefaultQuotaBytes: 5_000_000, mailboxMaxQuotaBytes: 2 * 1024 ** 3 });
  }
  await ok(201, 'POST', '/api/mailboxes', op, { address: 'exists@imp.test', password: TEST_PASSWORD });
  await ok(201, 'POST', '/api/mailboxes', op, { address: 'admin@imp2.test', password: TEST_PASSWORD, role: 'domain_admin' });
  await ok(201, 'POST', '/api/mailboxes', op, { address: 'user@imp2.test', password: TEST_PASSWORD });
});

afterAll(async () => {
  await api?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('CSV import', () => {
  const sha512 = openssl('-6', 'sha512-secret');
  const md5 = openssl('-1', 'md5-secret');
  const blf = bcrypt.hashSync('bcrypt-secret', 4);
  const salt = randomBytes(8);
  const ssha = Buffer.concat([createHash('sha1').update('ssha-secret').update(salt).digest(), salt]).toString('base64');
  const csv = [
    'address,display name,quota,password', // 1
    'good1@imp.test,Good One,10M,plain-password-1', // 2
    'not..valid@imp.test,Bad,1M,plain-password-2', // 3
    `good2@imp.test,"Two, with a comma",1G,{SHA512-CRYPT}${sha512}`, // 4
    'GOOD1@imp.test,Duplicate,1M,plain-password-3', // 5
    'exists@imp.test,Exists,1M,plain-password-4', // 6
    'weird@imp.test,Weird,1M,{FOO}abc', // 7
    '', // 8
    `bare,Bare Local,2048,{MD5-CRYPT}${md5}`, // 9
    `bcrypt@imp.test,,,{BLF-CRYPT}${blf}`, // 10
    `ssha@imp.test,,,{SSHA}${ssha}`, // 11
    'aliased@imp.test,,,password123', // 12
    'other@elsewhere.test,,,password123', // 13
    'bigquota@imp.test,,100G,password123', // 14
    'badquota@imp.test,,lots,password123', // 15
    'short@imp.test,,,short', // 16
    `bad6@imp.test,,,{SHA512-CRYPT}$6$salt$tooshort`, // 17
  ].join('\n');

  let firstJob: any;

  it('reports per row what it did and why a row failed', async () => {
    const [d] = await api.db.dataSource.query(`SELECT id FROM domain WHERE name = 'imp.test'`);
    await api.db.dataSource.query(
      `INSERT INTO alias (tenant_id, domain_id, local_part, address, destinations) VALUES ($1, $2, 'aliased', 'aliased@imp.test', '{exists@imp.test}')`,
      [tenant, d.id],
    );
    const jobId = await importCsv('imp.test', csv);
    firstJob = await finished(jobId);
    expect(firstJob).toMatchObject({ status: 'done', processed: 15, created: 5, skipped: 1, failed: 9, error: null, domainId: d.id, kind: 'mailboxes' });
    const outcomes = await rows(jobId);
    const byLine = Object.fromEntries(outcomes.map((r) => [r.line, r]));
    expect(outcomes.map((r) => r.line)).toEqual([2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect(byLine[2]).toMatchObject({ address: 'good1@imp.test', outcome: 'created' });
    expect(byLine[3]).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/^address: the name before @ may only hold/) });
    expect(byLine[4]).toMatchObject({ address: 'good2@imp.test', outcome: 'created' });
    expect(byLine[5]).toMatchObject({ outcome: 'failed', reason: 'duplicate: the address is already on line 2' });
    expect(byLine[6]).toMatchObject({ address: 'exists@imp.test', outcome: 'skipped', reason: expect.stringMatching(/^exists/) });
    expect(byLine[7]).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('unknown password scheme {FOO}') });
    expect(byLine[9]).toMatchObject({ address: 'bare@imp.test', outcome: 'created' });
    expect(byLine[12]).toMatchObject({ outcome: 'failed', reason: 'address: already used by an alias' });
    expect(byLine[13]).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('not in imp.test') });
    expect(byLine[14]).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/^quota: .*maximum/) });
    expect(byLine[15]).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/^quota: "lots"/) });
    expect(byLine[16]).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/^password: shorter than 8/) });
    expect(byLine[17]).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/^password: SHA512-CRYPT/) });
    expect((await rows(jobId, '&outcome=failed')).map((r) => r.line)).toEqual([3, 5, 7, 12, 13, 14, 15, 16, 17]);

    expect(await stored('good1@imp.test')).toMatchObject({ display_name: 'Good One', quota_bytes: String(10 * 1024 ** 2), role: 'user', status: 'active' });
    expect((await stored('good1@imp.test')).password_hash).toMatch(/^\{ARGON2ID\}\$argon2id\$/);
    expect(await stored('good2@imp.test')).toMatchObject({ display_name: 'Two, with a comma', quota_bytes: String(1024 ** 3), password_hash: `{SHA512-CRYPT}${sha512}` });
    expect(await stored('bare@imp.test')).toMatchObject({ quota_bytes: '2048', password_hash: `{MD5-CRYPT}${md5}` });
    expect((await stored('bcrypt@imp.test')).quota_bytes).toBe('5000000');
    for (const a of ['weird@imp.test', 'aliased@imp.test', 'bigquota@imp.test', 'short@imp.test', 'other@imp.test']) expect(await stored(a)).toBeUndefined();
    expect((await stored('exists@imp.test')).display_name).toBe('');
    const [audit] = await api.db.dataSource.query(`SELECT after FROM audit_event WHERE action = 'mailbox.import' AND object_id = $1`, [jobId]);
    expect(audit.after).toMatchObject({ created: 5, skipped: 1, failed: 9 });
  });

  it('imported hashes sign in and become argon2id at the first successful login', async () => {
    await api.login('good2@imp.test', 'sha512-secret');
    expect((await stored('good2@imp.test')).password_hash).toMatch(/^\{ARGON2ID\}\$argon2id\$/);
    await api.login('good2@imp.test', 'sha512-secret');
    for (const [address, password] of [['bare@imp.test', 'md5-secret'], ['bcrypt@imp.test', 'bcrypt-secret'], ['ssha@imp.test', 'ssha-secret'], ['good1@imp.test', 'plain-password-1']]) {
      await api.login(address, password);
      expect((await stored(address)).password_hash).toMatch(/^\{ARGON2ID\}/);
    }
  });

  it('running the same file again creates nothing twice and reports existing addresses as skipped', async () => {
    const before = await countIn('imp.test');
    const again = await finished(await importCsv('imp.test', csv));
    expect(again).toMatchObject({ status: 'done', processed: 15, created: 0, skipped: 6, failed: 9 });
    const skipped = await rows(again.id, '&outcome=skipped');
    expect(skipped.map((r) => r.line)).toEqual([2, 4, 6, 9, 10, 11]);
    expect(skipped.every((r) => r.reason.startsWith('exists'))).toBe(true);
    expect(await countIn('imp.test')).toBe(before);
  });

  it('fails the whole import with a clear error when it goes over a limit, creating nothing', async () => {
    await ok(201, 'POST', '/api/domains', op, { tenantId: tenant, name: 'tiny.test', maxMailboxes: 3 });
    const lines = Array.from({ length: 5 }, (_, i) => `u${i}@tiny.test,User ${i},1M,{SHA512-CRYPT}${sha512}`).join('\n');
    const job = await finished(await importCsv('tiny.test', lines));
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/5 new mailboxes.*domain allows.*3 mailboxes.*nothing was created/);
    expect(job.created).toBe(0);
    expect(await countIn('tiny.test')).toBe(0);
    expect(await rows(job.id)).toEqual([]);
  });

  it('fails an unreadable file as a whole, naming the line', async () => {
    const job = await finished(await importCsv('imp2.test', 'a1@imp2.test,A,1M,password123\na2@imp2.test,"unclosed,1M,password123\n'));
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/cannot be read as CSV.*line/i);
    expect(await stored('a1@imp2.test')).toBeUndefined();
  });

  it('checks who may import and read jobs, and what the body must be', async () => {
    const user = await api.login('user@imp2.test', TEST_PASSWORD);
    const admin2 = await api.login('admin@imp2.test', TEST_PASSWORD);
    const asUser = await api.request('POST', '/api/domains/imp2.test/mailboxes/import', { token: user, raw: { contentType: 'text/csv', data: 'x@imp2.test,,,password123' } });
    expect(asUser.status).toBe(403);
    expect((await api.request('POST', '/api/domains/imp.test/mailboxes/import', { token: admin2, raw: { contentType: 'text/csv', data: 'x@imp.test,,,password123' } })).status).toBe(404);
    expect((await api.request('GET', `/api/imports/${firstJob.id}`, { token: admin2 })).status).toBe(404);
    expect((await api.request('GET', `/api/imports/${firstJob.id}/rows`, { token: user })).status).toBe(404);
    expect((await api.request('GET', '/api/domains/imp.test/mailboxes/export', { token: admin2 })).status).toBe(404);
    const json = await api.request('POST', '/api/domains/imp2.test/mailboxes/import', { token: admin2, body: { rows: [] } });
    // A JSON body on the CSV route is the wrong media type: 415, unread (it was a 400 once read).
    expect(json.status).toBe(415);
    expect(json.body.error).toBe('unsupported_media_type');
    const empty = await api.request('POST', '/api/domains/imp2.test/mailboxes/import', { token: admin2, raw: { contentType: 'text/csv', data: '\n\n' } });
    expect(empty.status).toBe(400);
    const own = await finished(await importCsv('imp2.test', 'mine@imp2.test,Mine,1M,password123', admin2), admin2);
    expect(own).toMatchObject({ status: 'done', created: 1, startedBy: 'admin@imp2.test' });
    expect(await stored('mine@imp2.test')).toBeDefined();
  });
});

describe('job liveness', () => {
  it('reads a running job as interrupted once its heartbeat is older than 60 s or its owner is gone', async () => {
    const [d] = await api.db.dataSource.query(`SELECT id FROM domain WHERE name = 'imp.test'`);
    const insert = async (kind: string, heartbeatAgo: string) => {
      const [j] = await api.db.dataSource.query(
        `INSERT INTO import_job (tenant_id, domain_id, kind, status, processed, started_by, heartbeat_at)
         VALUES ($1, $2, $3, 'running', 7, 'test', now() - $4::interval) RETURNING id`,
        [tenant, d.id, kind, heartbeatAgo],
      );
      return j.id as string;
    };
    const stale = await insert('other', '61 seconds');
    const fresh = await insert('other', '5 seconds');
    const orphan = await insert('mailboxes', '1 second');
    expect(await ok(200, 'GET', `/api/imports/${stale}`, op)).toMatchObject({ status: 'interrupted', processed: 7, error: expect.stringContaining('run it again') });
    expect((await ok(200, 'GET', `/api/imports/${fresh}`, op)).status).toBe('running');
    expect((await ok(200, 'GET', `/api/imports/${orphan}`, op)).status).toBe('interrupted');
    const [row] = await api.db.dataSource.query(`SELECT status, finished_at FROM import_job WHERE id = $1`, [stale]);
    expect(row.status).toBe('interrupted');
    expect(row.finished_at).not.toBeNull();
  });
});

describe('CSV export', () => {
  it('exports the import format, and importing it into another domain round-trips', async () => {
    const r = await api.request('GET', '/api/domains/imp.test/mailboxes/export', { token: op });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(r.headers.get('content-disposition')).toContain('imp.test-mailboxes.csv');
    const text = r.body as string;
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('address,display name,quota,password');
    const source = await api.db.dataSource.query(`SELECT local_part, display_name, quota_bytes, password_hash FROM mailbox m JOIN domain d ON d.id = m.domain_id WHERE d.name = 'imp.test' ORDER BY local_part`);
    expect(lines.length - 1).toBe(source.length);
    expect(text).toContain('"Two, with a comma"');
    expect(lines.slice(1).every((l) => /\{[A-Z0-9-]+\}\$/.test(l))).toBe(true);

    const refused = await finished(await importCsv('imp2.test', text));
    expect(refused).toMatchObject({ status: 'done', created: 0, failed: source.length });

    const job = await finished(await importCsv('imp2.test', text, op, '?rehome=true'));
    expect(job).toMatchObject({ status: 'done', created: source.length, failed: 0 });
    const copy = await api.db.dataSource.query(`SELECT local_part, display_name, quota_bytes, password_hash FROM mailbox m JOIN domain d ON d.id = m.domain_id WHERE d.name = 'imp2.test' AND local_part = ANY($1) ORDER BY local_part`, [source.map((s: any) => s.local_part)]);
    expect(copy).toEqual(source);
    await api.login('good2@imp2.test', 'sha512-secret');

    const back = await api.request('GET', '/api/domains/imp2.test/mailboxes/export', { token: op });
    const moved = (back.body as string).trim().split('\n').filter((l) => source.some((s: any) => l.startsWith(`${s.local_part}@`)));
    expect(moved.map((l) => l.replace('@imp2.test', '@imp.test')).sort()).toEqual(lines.slice(1).sort());
  });
});

describe('crash safety', () => {
  const ROWS = 20_000;
  let file: string;

  beforeAll(() => {
    const hash = `{SHA512-CRYPT}${openssl('-6', 'crash-secret')}`;
    const out = ['address,display name,quota,password'];
    for (let i = 0; i < ROWS; i++) out.push(`user${String(i).padStart(5, '0')}@crash.test,User ${i},100M,${hash}`);
    file = join(tmp, 'crash.csv');
    writeFileSync(file, out.join('\n') + '\n');
  });

  function runChild(...pace: string[]): { child: ChildProcess; jobId: Promise<string>; exit: Promise<number | null>; output: () => string } {
    const child = spawn(process.execPath, ['-r', join(ROOT, 'tools/register.cjs'), CHILD, api.db.url, 'crash.test', file, ...pace], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const jobId = (async () => {
      for (let i = 0; i < 600; i++) {
        const m = /job ([0-9a-f-]{36})/.exec(out);
        if (m) return m[1];
        if (child.exitCode !== null) break;
        await sleep(50);
      }
      throw new Error(`the import child printed no job id: ${out}`);
    })();
    return { child, jobId, exit, output: () => out };
  }

  it('a killed import leaves nothing behind, reads interrupted, and a re-run creates every row exactly once', async () => {
    // 500 lines every 100 ms: about 4 s for the file, time enough to kill it half-way.
    const first = runChild('500', '100');
    const jobId = await first.jobId;
    let processed = 0;
    for (let i = 0; i < 400 && processed === 0; i++) {
      const [job] = await api.db.dataSource.query(`SELECT processed, status FROM import_job WHERE id = $1`, [jobId]);
      processed = job.processed;
      if (!processed) await sleep(25);
    }
    expect(processed).toBeGreaterThan(0);
    expect(processed).toBeLessThan(ROWS);
    const running = await ok(200, 'GET', `/api/imports/${jobId}`, op);
    expect(running.status).toBe('running');
    first.child.kill('SIGKILL');
    expect(await first.exit).toBe(null);

    let job: any;
    for (let i = 0; i < 100; i++) {
      job = await ok(200, 'GET', `/api/imports/${jobId}`, op);
      if (job.status !== 'running') break;
      await sleep(50);
    }
    expect(job.status).toBe('interrupted');
    expect(job.error).toContain('nothing of it was saved');
    expect(await countIn('crash.test')).toBe(0);
    const [{ n: rowCount }] = await api.db.dataSource.query(`SELECT count(*)::int AS n FROM import_job_row WHERE job_id = $1`, [jobId]);
    expect(rowCount).toBe(0);

    const second = runChild();
    const secondId = await second.jobId;
    expect(await second.exit).toBe(0);
    expect(second.output()).toContain('status done');
    const done = await ok(200, 'GET', `/api/imports/${secondId}`, op);
    expect(done).toMatchObject({ status: 'done', processed: ROWS, created: ROWS, skipped: 0, failed: 0 });
    const [counts] = await api.db.dataSource.query(
      `SELECT count(*)::int AS n, count(DISTINCT address)::int AS distinct_addresses FROM mailbox m JOIN domain d ON d.id = m.domain_id WHERE d.name = 'crash.test'`,
    );
    expect(counts).toEqual({ n: ROWS, distinct_addresses: ROWS });
    expect(await stored('user19999@crash.test')).toMatchObject({ display_name: 'User 19999', quota_bytes: String(100 * 1024 ** 2) });
    expect((await ok(200, 'GET', `/api/imports/${jobId}`, op)).status).toBe('interrupted');
  });
});
