/**
 * Password hashes whose cost would stall sign-in: the CSV import refuses them row by row with the
 * reason, a hash already stored with such a cost is refused at sign-in without being computed, and
 * an import that cannot fit the tenant's limits fails before hashing its plaintext rows.
 */
import bcrypt from 'bcryptjs';
import { Algorithm, hash as argon2Hash } from '@node-rs/argon2';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant } from './tenancy-fixture';

/** A well-formed bcrypt string at any cost (nobody could compute cost 31 to make a real one). */
const bcryptAt = (cost: number) => `$2b$${String(cost).padStart(2, '0')}$${'abcdefghijklmnopqrstuv'}${'A'.repeat(31)}`;
/** A well-formed argon2id string with any parameters. */
const argon2At = (m: number, t: number, p: number) => `$argon2id$v=19$m=${m},t=${t},p=${p}$c2FsdHNhbHRzYWx0$${'A'.repeat(43)}`;

describe('password hash costs', () => {
  let api: TestApi;
  let op: string;

  const importCsv = async (domain: string, csv: string) => {
    const r = await api.request('POST', `/api/domains/${domain}/mailboxes/import`, { token: op, raw: { contentType: 'text/csv', data: csv } });
    expect(r.status).toBe(202);
    for (;;) {
      const job = await api.request('GET', `/api/imports/${r.body.jobId}`, { token: op });
      if (job.body.status !== 'running') return job.body;
      await sleep(50);
    }
  };

  beforeAll(async () => {
    api = await startTestApi();
    op = await api.operatorToken();
    await seedTenant(api.db.dataSource, 'Costs', ['costs.test'], [], TEST_PASSWORD);
  });
  afterAll(() => api?.close());

  it('refuses imported hashes above the cost limits, each with its reason, and keeps the affordable ones', async () => {
    const sane = await argon2Hash('sane-password', { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    const csv = [
      `b31@costs.test,,1M,{BLF-CRYPT}${bcryptAt(31)}`,
      `b13@costs.test,,1M,${bcryptAt(13)}`,
      `mem@costs.test,,1M,{ARGON2ID}${argon2At(4_194_304, 1, 1)}`,
      `passes@costs.test,,1M,${argon2At(19456, 1000, 1)}`,
      `lanes@costs.test,,1M,${argon2At(19456, 2, 255)}`,
      `work@costs.test,,1M,${argon2At(65536, 8, 1)}`,
      `ok-bcrypt@costs.test,,1M,${bcrypt.hashSync('sane-password', 4)}`,
      `ok-argon@costs.test,,1M,${sane}`,
    ]
      // The hash is the fourth field, quoted: argon2 parameters hold commas.
      .map((line) => line.replace(/^([^,]*,[^,]*,[^,]*,)(.*)$/, '$1"$2"'))
      .join('\n');
    const job = await importCsv('costs.test', csv);
    const rows = (await api.request('GET', `/api/imports/${job.id}/rows?outcome=failed`, { token: op })).body.items as { address: string; reason: string }[];
    const reasons = Object.fromEntries(rows.map((r) => [r.address.split('@')[0], r.reason]));
    expect(reasons).toEqual({
      b31: expect.stringMatching(/BLF-CRYPT cost 31 is above the import limit of 12/),
      b13: expect.stringMatching(/BLF-CRYPT cost 13 is above the import limit/),
      mem: expect.stringMatching(/m=4194304 KiB is above the import limit/),
      passes: expect.stringMatching(/t=1000 is above the import limit/),
      lanes: expect.stringMatching(/p=255 is above the import limit/),
      work: expect.stringMatching(/m×t=524288 is above the import limit/),
    });
    expect(job).toMatchObject({ status: 'done', created: 2, failed: 6 });
    expect(await api.login('ok-bcrypt@costs.test', 'sane-password')).toBeTruthy();
  });

  it('refuses sign-in against a stored hash above the limits at once, without computing it', async () => {
    const [domain] = await api.db.dataSource.query(`SELECT id, tenant_id FROM domain WHERE name = 'costs.test'`);
    for (const [local, hash] of [
      ['planted-bcrypt', `{BLF-CRYPT}${bcryptAt(31)}`],
      ['planted-argon', `{ARGON2ID}${argon2At(4_194_304, 3, 1)}`],
    ]) {
      await api.db.dataSource.query(
        `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes) VALUES ($1, $2, $3, $4, $5, 1048576)`,
        [domain.tenant_id, domain.id, local, `${local}@costs.test`, hash],
      );
      const started = Date.now();
      const res = await api.request('POST', '/api/auth/login', { body: { username: `${local}@costs.test`, password: 'any-guess-123' } });
      expect(res.status).toBe(401);
      // bcrypt cost 31 is days of CPU, argon2id m=4 GiB four gigabytes: refused before either starts.
      expect(Date.now() - started).toBeLessThan(3000);
    }
  });

  it('fails an import over the tenant limit before hashing its plaintext passwords', async () => {
    await api.request('POST', '/api/domains', { token: op, body: { tenantId: (await api.db.dataSource.query(`SELECT tenant_id FROM domain WHERE name = 'costs.test'`))[0].tenant_id, name: 'small.test', maxMailboxes: 3 } });
    // 1,500 plaintext rows: hashing them all (argon2id, ~25 ms each) takes tens of seconds here.
    const csv = Array.from({ length: 1500 }, (_, i) => `u${i}@small.test,,1M,plain-password-${i}`).join('\n');
    const started = Date.now();
    const job = await importCsv('small.test', csv);
    const took = Date.now() - started;
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/domain allows 3 mailboxes.*nothing was created/);
    expect(took).toBeLessThan(8000);
  });
});
