/** Signed outgoing billing webhooks on real PostgreSQL and a real HTTP receiver: signature, retries with backoff, once on success. */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@dizi/testing/test-database';
import { BILLING_SYSTEM, changeTenantBilling } from '../src/billing-state';
import { MAX_ATTEMPTS, retryDelaySeconds, sendDueBillingEvents } from '../src/outgoing-webhooks';

const SECRET = 'a-shared-secret-of-the-isp';

describe('outgoing billing webhooks', () => {
  let db: TestDatabase;
  let server: Server;
  let url = '';
  let tenant: string;
  const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
  let answer = 500;

  beforeAll(async () => {
    db = await createTestDatabase();
    [{ id: tenant }] = await db.dataSource.query(`INSERT INTO tenant (name) VALUES ('Hooked') RETURNING id`);
    server = createServer(async (req, res) => {
      let body = '';
      for await (const c of req) body += c;
      received.push({ headers: req.headers, body });
      res.writeHead(answer).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  });
  afterAll(async () => {
    server?.close();
    await db?.drop();
  });

  it('a status change is posted signed; a failure is retried after the backoff, and a success is never sent again', async () => {
    await db.dataSource.transaction((m) => changeTenantBilling(m, BILLING_SYSTEM, tenant, { status: 'past_due' }));
    const t0 = new Date();
    expect(await sendDueBillingEvents(db.dataSource, { url, secret: SECRET }, t0)).toEqual({ delivered: 0, failed: 1, gaveUp: 0 });
    expect(received).toHaveLength(1);
    // Not before the backoff has passed.
    expect(await sendDueBillingEvents(db.dataSource, { url, secret: SECRET }, new Date(t0.getTime() + 10_000))).toEqual({ delivered: 0, failed: 0, gaveUp: 0 });
    answer = 204;
    const later = new Date(t0.getTime() + (retryDelaySeconds(1) + 1) * 1000);
    expect(await sendDueBillingEvents(db.dataSource, { url, secret: SECRET }, later)).toEqual({ delivered: 1, failed: 0, gaveUp: 0 });
    expect(await sendDueBillingEvents(db.dataSource, { url, secret: SECRET }, new Date(later.getTime() + 86_400_000))).toEqual({ delivered: 0, failed: 0, gaveUp: 0 });
    expect(received).toHaveLength(2);

    const last = received[1];
    const event = JSON.parse(last.body);
    expect(event).toMatchObject({ type: 'tenant.billing_status', tenantId: tenant, data: { from: 'none', to: 'past_due', mode: 'stripe' } });
    expect(last.headers['dizi-event-id']).toBe(event.id);
    expect(received[0].headers['dizi-event-id']).toBe(event.id);
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(last.headers['dizi-signature']))!;
    expect(v1).toBe(createHmac('sha256', SECRET).update(`${t}.${last.body}`).digest('hex'));
    expect(v1).not.toBe(createHmac('sha256', 'another secret').update(`${t}.${last.body}`).digest('hex'));
  });

  it('gives up after the last attempt; without a receiver nothing piles up', async () => {
    answer = 503;
    await db.dataSource.transaction((m) => changeTenantBilling(m, BILLING_SYSTEM, tenant, { status: 'suspended' }));
    let now = Date.now();
    for (let i = 1; i <= MAX_ATTEMPTS; i++) {
      const r = await sendDueBillingEvents(db.dataSource, { url, secret: SECRET }, new Date(now));
      expect(r.failed + r.gaveUp).toBe(1);
      if (i === MAX_ATTEMPTS) expect(r.gaveUp).toBe(1);
      now += (retryDelaySeconds(i) + 1) * 1000;
    }
    const [row] = await db.dataSource.query(`SELECT attempts, failed_at IS NOT NULL AS failed, last_error FROM billing_outbox ORDER BY id DESC LIMIT 1`);
    expect(row).toEqual({ attempts: MAX_ATTEMPTS, failed: true, last_error: 'HTTP 503' });

    await db.dataSource.transaction((m) => changeTenantBilling(m, BILLING_SYSTEM, tenant, { status: 'active' }));
    await sendDueBillingEvents(db.dataSource, null);
    const [{ n }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM billing_outbox WHERE delivered_at IS NULL AND failed_at IS NULL`);
    expect(n).toBe(0);
  });
});
