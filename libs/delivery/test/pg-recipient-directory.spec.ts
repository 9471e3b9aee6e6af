/** The SMTP role's directory lookups: answered together for concurrent sessions, and briefly reused. */
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Test infrastructure, not a runtime dependency of the delivery lib.
import { createTestDatabase, type TestDatabase } from '@dizi/testing/test-database';
import { PgRecipientDirectory } from '../src/adapters/postgres/pg-recipient-directory';

let db: TestDatabase;
let pool: Pool;
let tenantId: string;
let domainId: string;
let aliceId: string;
const statements: string[] = [];

async function mailbox(localPart: string, status = 'active'): Promise<string> {
  const { rows: [m] } = await pool.query(
    `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, status, quota_bytes, used_bytes)
     VALUES ($1, $2, $3, $3 || '@d.test', 'x', $4, 1000, 10) RETURNING id`,
    [tenantId, domainId, localPart, status],
  );
  return m.id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new Pool({ connectionString: db.url, max: 4 });
  const query = pool.query.bind(pool) as (...a: unknown[]) => unknown;
  (pool as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
    statements.push(String(a[0]));
    return query(...a);
  };
  const { rows: [t] } = await pool.query(`INSERT INTO tenant (name) VALUES ('t') RETURNING id`);
  tenantId = t.id;
  const { rows: [d] } = await pool.query(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, 'd.test', 'd.test') RETURNING id`, [tenantId]);
  domainId = d.id;
  await pool.query(`INSERT INTO domain (tenant_id, name, unicode_name, status) VALUES ($1, 'off.test', 'off.test', 'disabled')`, [tenantId]);
  await pool.query(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, 'c.test', 'c.test')`, [tenantId]);
  aliceId = await mailbox('alice');
  await mailbox('away', 'suspended');
  await pool.query(
    `INSERT INTO alias (tenant_id, domain_id, local_part, address, destinations) VALUES ($1, $2, 'sales', 'sales@d.test', '{alice@d.test}')`,
    [tenantId, domainId],
  );
  await pool.query(
    `INSERT INTO alias (tenant_id, domain_id, local_part, address, destinations)
     SELECT $1, id, '*', '*@c.test', '{alice@d.test}' FROM domain WHERE name = 'c.test'`,
    [tenantId],
  );
  await pool.query(
    `INSERT INTO alias (tenant_id, domain_id, local_part, address, destinations) VALUES ($1, $2, 'me', 'me@d.test', '{alice@d.test}')`,
    [tenantId, domainId],
  );
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('PgRecipientDirectory', () => {
  it('answers concurrent sessions in one round trip, each as it would alone', async () => {
    const dir = new PgRecipientDirectory(pool, { cacheMs: 0 });
    statements.length = 0;
    const [alice, sales, any, away, nobody, off, far, bad] = await Promise.all(
      ['alice@d.test', 'sales@d.test', 'who@c.test', 'away@d.test', 'nobody@d.test', 'x@off.test', 'y@far.test', '@d.test']
        .map((a) => dir.resolveRecipient(a)),
    );
    expect(alice).toMatchObject({ kind: 'local', target: 'mailbox', tenantId, mailbox: { id: aliceId, quotaBytes: 1000, usedBytes: 10 } });
    expect(sales).toMatchObject({ kind: 'local', target: 'alias' });
    expect(any).toMatchObject({ kind: 'local', target: 'catch-all' });
    expect(away).toEqual({ kind: 'unavailable', address: 'away@d.test', domain: 'd.test', reason: 'mailbox-suspended' });
    expect(nobody).toMatchObject({ kind: 'unavailable', reason: 'unknown-user' });
    expect(off).toMatchObject({ kind: 'unavailable', reason: 'domain-disabled' });
    expect(far).toEqual({ kind: 'remote', address: 'y@far.test', domain: 'far.test' });
    expect(bad).toMatchObject({ kind: 'unavailable', reason: 'unknown-user' });
    expect(statements).toHaveLength(1);

    statements.length = 0;
    const senders = await Promise.all([
      dir.resolveSender('alice@d.test', aliceId), dir.resolveSender('me@d.test', aliceId), dir.resolveSender('sales@d.test', null),
      dir.resolveSender('someone@far.test', null),
    ]);
    expect(senders).toEqual([{ local: true, owned: true }, { local: true, owned: true }, { local: true, owned: false }, { local: false, owned: false }]);
    expect(statements).toHaveLength(1);
  });

  it('reuses an address that takes mail for cacheMs, and never a refusal', async () => {
    const dir = new PgRecipientDirectory(pool, { cacheMs: 60_000 });
    expect(await dir.resolveRecipient('late@d.test')).toMatchObject({ kind: 'unavailable', reason: 'unknown-user' });
    const late = await mailbox('late');
    // The refusal was not kept: the new mailbox takes mail at once.
    expect(await dir.resolveRecipient('late@d.test')).toMatchObject({ kind: 'local', target: 'mailbox', mailbox: { id: late } });
    // A suspension reaches this node's RCPT checks only when the answer expires (delivery reads afresh).
    await pool.query(`UPDATE mailbox SET status = 'suspended' WHERE id = $1`, [late]);
    statements.length = 0;
    expect(await dir.resolveRecipient('late@d.test')).toMatchObject({ kind: 'local', target: 'mailbox' });
    expect(statements).toHaveLength(0);
    expect(await new PgRecipientDirectory(pool, { cacheMs: 0 }).resolveRecipient('late@d.test'))
      .toMatchObject({ kind: 'unavailable', reason: 'mailbox-suspended' });
  });
});
