/** GET /api/nodes: the mail nodes' heartbeats (written by libs/delivery's writer, as a node does), up or silent. */
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisConnectionLimiter } from '@dizi/delivery/adapters/redis/redis-connection-limiter';
import { NODES_KEY, NodeHeartbeatWriter } from '@dizi/delivery/adapters/redis/node-heartbeat';
import { TEST_REDIS_URL } from '@dizi/testing/test-database';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant } from './tenancy-fixture';

describe('mail nodes', () => {
  let api: TestApi;
  let op: string;
  let admin: string;
  let redis: Redis;
  const writers: NodeHeartbeatWriter[] = [];

  beforeAll(async () => {
    api = await startTestApi();
    op = await api.operatorToken();
    await seedTenant(api.db.dataSource, 'Acme', ['acme.test'], [{ local: 'boss', role: 'tenant_admin' }], TEST_PASSWORD);
    admin = await api.login('boss@acme.test', TEST_PASSWORD);
    // The node's view of Redis: the same prefix as the API's.
    redis = new Redis(TEST_REDIS_URL, { keyPrefix: `dizi-test:${api.db.name}:` });
  });
  afterAll(async () => {
    for (const w of writers) await w.stop();
    await redis?.quit();
    await api?.close();
  });

  it('lists each node with its roles and open connections, a node that stopped reporting as silent, and forgets a stopped one', async () => {
    expect((await api.request('GET', '/api/nodes', { token: op })).body.items).toEqual([]);
    const mx = new NodeHeartbeatWriter(redis, { name: 'mx1.dizi.test', roles: ['smtp', 'delivery'] });
    const store = new NodeHeartbeatWriter(redis, { name: 'imap1.dizi.test', roles: ['imap', 'pop3'] });
    writers.push(mx, store);
    // One SMTP connection admitted in this process: the heartbeat counts it.
    const limiter = new RedisConnectionLimiter(redis, () => undefined, 'smtp');
    const admission = await limiter.admit('192.0.2.7', { perMinute: 100, concurrent: 10 });
    expect(admission.admitted).toBe(true);
    await mx.beat();
    // imap1 last reported a minute ago (killed): its entry is what it wrote then.
    await redis.hset(NODES_KEY, store.id, JSON.stringify(store.record(Date.now() - 60_000)));

    const r = await api.request('GET', '/api/nodes', { token: op });
    expect(r.status).toBe(200);
    expect(r.body.heartbeatSeconds).toBe(5);
    expect(r.body.items.map((n: { name: string; status: string; roles: string[] }) => `${n.name} ${n.status} ${n.roles.join(',')}`)).toEqual([
      'mx1.dizi.test up smtp,delivery',
      'imap1.dizi.test silent imap,pop3',
    ]);
    expect(r.body.items[0].connections).toMatchObject({ smtp: 1 });
    expect(Date.now() - Date.parse(r.body.items[1].lastSeenAt)).toBeGreaterThan(55_000);

    if (admission.admitted) await admission.release();
    await limiter.close();
    await mx.beat();
    expect((await api.request('GET', '/api/nodes', { token: op })).body.items[0].connections).toMatchObject({ smtp: 0 });
    await store.stop();
    expect((await api.request('GET', '/api/nodes', { token: op })).body.items.map((n: { name: string }) => n.name)).toEqual(['mx1.dizi.test']);
  });

  it('skips an entry that is not a heartbeat, and shows nodes to operators only', async () => {
    await redis.hset(NODES_KEY, 'garbage', '{"name": 1');
    expect((await api.request('GET', '/api/nodes', { token: op })).status).toBe(200);
    expect((await api.request('GET', '/api/nodes', { token: admin })).status).toBe(403);
    expect((await api.request('GET', '/api/nodes')).status).toBe(401);
  });
});
