/** The spool's group commit: many received messages made durable by one statement, all or nothing. */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpoolRequest } from '@dizi/smtp/inbound/ports';
// Test infrastructure, not a runtime dependency of the delivery lib.
import { createTestDatabase, type TestDatabase } from '@dizi/testing/test-database';
import { insertSpoolRows, type SpoolRow } from '../src/adapters/postgres/spool-rows';
import type { SpoolSummary } from '../src/inbound/spool-summary';

let db: TestDatabase;
let pool: Pool;
let mailboxId: string;
const hash = (c: string) => c.repeat(64);

function row(o: { blob: string; auth?: string | null; rcpts: Array<[string, 'local' | 'remote']>; summary?: SpoolSummary | null }): SpoolRow {
  const req: SpoolRequest = {
    id: randomUUID(), source: o.auth ? 'submission' : 'smtp', sessionId: `s-${randomUUID()}`, clientIp: '192.0.2.7', helo: 'client.test',
    mailFrom: 'sender@ext.test', authMailboxId: o.auth ?? null, maxBytes: 1_000_000, envId: null, dsnRet: null,
    recipients: o.rcpts.map(([address, kind]) => ({
      address, kind, domain: address.split('@')[1], tenantId: null, dsnNotify: kind === 'local' ? 'SUCCESS,FAILURE' : null, originalAddress: null,
    })),
  };
  return { req, blobHash: hash(o.blob), size: 123, summary: o.summary ?? null, marks: null };
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new Pool({ connectionString: db.url, max: 4 });
  const { rows: [t] } = await pool.query(`INSERT INTO tenant (name) VALUES ('t') RETURNING id`);
  const { rows: [d] } = await pool.query(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, 'd.test', 'd.test') RETURNING id`, [t.id]);
  const { rows: [m] } = await pool.query(
    `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes) VALUES ($1, $2, 'me', 'me@d.test', 'x', 1000000) RETURNING id`,
    [t.id, d.id],
  );
  mailboxId = m.id;
  await pool.query(`INSERT INTO blob (hash, size) VALUES ($1, 123), ($2, 123)`, [hash('a'), hash('b')]);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('insertSpoolRows', () => {
  it('commits messages, recipients and send counts of several sessions in one statement', async () => {
    const summary = JSON.stringify({ subject: 'say "hi" \\ 你好', n: [1, 2] });
    const rows = [
      row({ blob: 'a', auth: mailboxId, rcpts: [['one@d.test', 'local'], ['far@ext.test', 'remote']], summary: { json: summary, searchKeys: '3,17,9007199254740991' } }),
      row({ blob: 'a', rcpts: [['two@d.test', 'local']] }),
      row({ blob: 'b', auth: mailboxId, rcpts: [['three@d.test', 'local']], summary: { json: '{}', searchKeys: '' } }),
    ];
    await insertSpoolRows(pool, rows);

    const { rows: messages } = await pool.query(
      `SELECT id, blob_hash, source, auth_mailbox_id, summary, search_keys::text[] AS search_keys FROM spool_message WHERE id = ANY($1::uuid[])`,
      [rows.map((r) => r.req.id)],
    );
    expect(messages).toHaveLength(3);
    expect(messages.find((m) => m.id === rows[0].req.id)).toMatchObject({
      source: 'submission', auth_mailbox_id: mailboxId, summary: JSON.parse(summary), search_keys: ['3', '17', '9007199254740991'],
    });
    expect(messages.find((m) => m.id === rows[1].req.id)).toMatchObject({ source: 'smtp', summary: null, search_keys: null });
    expect(messages.find((m) => m.id === rows[2].req.id)).toMatchObject({ summary: {}, search_keys: [] });
    const { rows: recipients } = await pool.query(
      `SELECT message_id, address, kind, domain, dsn_notify, status FROM spool_recipient WHERE message_id = ANY($1::uuid[]) ORDER BY id`,
      [rows.map((r) => r.req.id)],
    );
    expect(recipients).toEqual([
      { message_id: rows[0].req.id, address: 'one@d.test', kind: 'local', domain: 'd.test', dsn_notify: 'SUCCESS,FAILURE', status: 'queued' },
      { message_id: rows[0].req.id, address: 'far@ext.test', kind: 'remote', domain: 'ext.test', dsn_notify: null, status: 'queued' },
      { message_id: rows[1].req.id, address: 'two@d.test', kind: 'local', domain: 'd.test', dsn_notify: 'SUCCESS,FAILURE', status: 'queued' },
      { message_id: rows[2].req.id, address: 'three@d.test', kind: 'local', domain: 'd.test', dsn_notify: 'SUCCESS,FAILURE', status: 'queued' },
    ]);
    const { rows: [count] } = await pool.query(`SELECT messages FROM send_count WHERE mailbox_id = $1`, [mailboxId]);
    expect(count.messages).toBe(2);
    const { rows: refs } = await pool.query(`SELECT hash, refcount FROM blob ORDER BY hash`);
    expect(refs).toEqual([{ hash: hash('a'), refcount: 2 }, { hash: hash('b'), refcount: 1 }]);

    // A later batch adds to today's count.
    await insertSpoolRows(pool, [row({ blob: 'b', auth: mailboxId, rcpts: [['four@d.test', 'local']] })]);
    const { rows: [again] } = await pool.query(`SELECT messages FROM send_count WHERE mailbox_id = $1`, [mailboxId]);
    expect(again.messages).toBe(3);
  });

  it('commits nothing of a batch when one of its messages cannot be stored', async () => {
    const good = row({ blob: 'a', rcpts: [['five@d.test', 'local']] });
    const orphan = row({ blob: 'c', rcpts: [['six@d.test', 'local']] }); // no blob row: the foreign key refuses it
    await expect(insertSpoolRows(pool, [good, orphan])).rejects.toThrow(/foreign key/);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM spool_message WHERE id = ANY($1::uuid[])`, [[good.req.id, orphan.req.id]]);
    expect(rows[0].n).toBe(0);
    const { rows: recipients } = await pool.query(`SELECT count(*)::int AS n FROM spool_recipient WHERE address IN ('five@d.test', 'six@d.test')`);
    expect(recipients[0].n).toBe(0);
  });
});
