/** Usage metering on real PostgreSQL: sampled peaks, counts from the spool, closing twice, catching up after downtime. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@dizi/testing/test-database';
import { closeUsageDays, gbDays, sampleUsage } from '../src/usage-meter';

const at = (iso: string) => new Date(`${iso}T12:00:00Z`);

describe('usage metering', () => {
  let db: TestDatabase;
  let tenant: string;
  let otherTenant: string;
  let alice: string;
  const q = (sql: string, params: unknown[] = []) => db.dataSource.query(sql, params);

  /** One message into the spool on `day`: from a mailbox of ours (or outside) to local and remote recipients. */
  const spool = async (day: string, from: string | null, recipients: Array<[string, 'local' | 'remote']>, source = from ? 'submission' : 'smtp') => {
    const [m] = await q(`INSERT INTO spool_message (blob_hash, size, mail_from, source, auth_mailbox_id, received_at) VALUES (repeat('b', 64), 10, 'x@y.test', $1, $2, $3) RETURNING id`, [
      source, from, at(day),
    ]);
    for (const [address, kind] of recipients) {
      await q(`INSERT INTO spool_recipient (message_id, address, kind, domain, status) VALUES ($1, $2, $3, $4, 'delivered')`, [m.id, address, kind, address.split('@')[1]]);
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    [{ id: tenant }] = await q(`INSERT INTO tenant (name, created_at) VALUES ('Metered', '2026-02-01') RETURNING id`);
    [{ id: otherTenant }] = await q(`INSERT INTO tenant (name, created_at) VALUES ('Other', '2026-02-01') RETURNING id`);
    const [d] = await q(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, 'metered.test', 'metered.test') RETURNING id`, [tenant]);
    await q(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, 'other.test', 'other.test')`, [otherTenant]);
    [{ id: alice }] = await q(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes, used_bytes, created_at)
       VALUES ($1, $2, 'alice', 'alice@metered.test', 'x', 10000000000, 2500000000, '2026-02-01') RETURNING id`,
      [tenant, d.id],
    );
    await q(`INSERT INTO blob (hash, size) VALUES (repeat('b', 64), 10)`);
  });
  afterAll(() => db?.drop());

  it('samples peaks while the day runs: a mailbox deleted later in the day still counts', async () => {
    const [d] = await q(`SELECT id FROM domain WHERE name = 'metered.test'`);
    const [bob] = await q(`INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes, used_bytes, created_at) VALUES ($1, $2, 'bob', 'bob@metered.test', 'x', 1, 0, '2026-02-01') RETURNING id`, [tenant, d.id]);
    await sampleUsage(db.dataSource, at('2026-03-01'));
    await q(`DELETE FROM mailbox WHERE id = $1`, [bob.id]);
    await sampleUsage(db.dataSource, at('2026-03-01'));
    const [row] = await q(`SELECT mailboxes_peak, storage_bytes_peak FROM usage_daily WHERE tenant_id = $1 AND day = '2026-03-01'`, [tenant]);
    expect(row).toEqual({ mailboxes_peak: 2, storage_bytes_peak: '2500000000' });
  });

  it('closes each day once with sent-outside and received counts from the spool; running again changes nothing', async () => {
    await spool('2026-03-01', alice, [['x@remote.test', 'remote'], ['y@remote.test', 'remote']]); // one message sent outside
    await spool('2026-03-01', alice, [['b@other.test', 'local']]); // to another tenant: received there, not sent outside
    await spool('2026-03-01', null, [['alice@metered.test', 'local']]); // from outside
    await spool('2026-03-01', null, [['alice@metered.test', 'local']], 'system'); // our own notices are not traffic
    await spool('2026-03-02', null, [['alice@metered.test', 'local']]); // the next day
    await q(`INSERT INTO usage_close (last_closed_day) VALUES ('2026-02-28')`);
    const first = await closeUsageDays(db.dataSource, at('2026-03-02'));
    expect(first.days).toEqual(['2026-03-01']);
    const rows = async () => q(`SELECT tenant_id, to_char(day, 'YYYY-MM-DD') AS day, mailboxes_peak, sent_outside, received, closed_at IS NOT NULL AS closed FROM usage_daily ORDER BY day, tenant_id = $1 DESC`, [tenant]);
    const closed = await rows();
    expect(closed).toEqual([
      { tenant_id: tenant, day: '2026-03-01', mailboxes_peak: 2, sent_outside: 1, received: 1, closed: true },
      { tenant_id: otherTenant, day: '2026-03-01', mailboxes_peak: 0, sent_outside: 0, received: 1, closed: true },
    ]);
    const again = await closeUsageDays(db.dataSource, at('2026-03-02'));
    expect(again.days).toEqual([]);
    // A late sample for a closed day changes nothing either.
    await sampleUsage(db.dataSource, at('2026-03-01'));
    expect(await rows()).toEqual(closed);
  });

  it('catches up every day missed while the job was down, one statement set per day', async () => {
    const r = await closeUsageDays(db.dataSource, at('2026-03-05'));
    expect(r.days).toEqual(['2026-03-02', '2026-03-03', '2026-03-04']);
    const [day2] = await q(`SELECT mailboxes_peak, storage_bytes_peak, received FROM usage_daily WHERE tenant_id = $1 AND day = '2026-03-02'`, [tenant]);
    // Never sampled that day: the mailboxes that existed then, today's storage.
    expect(day2).toEqual({ mailboxes_peak: 1, storage_bytes_peak: '2500000000', received: 1 });
    expect(r.queries).toBe(2 + 3 * 4);
    expect(gbDays(2_500_000_000)).toBe(3);
  });
});
