// The Redis POP3 lock on the machine's real Redis, with a short TTL.
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '@dizi/testing/test-database';
import { RedisMailboxLock } from './pop3-redis-lock';

describe('RedisMailboxLock', () => {
  let redis: Redis;
  const prefix = `dizi-test-lock-${randomBytes(4).toString('hex')}:`;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys.map((k) => k.slice(prefix.length)));
    redis.disconnect();
  });

  it('is exclusive, outlives its TTL while refreshed, and is free after release', async () => {
    const lock = new RedisMailboxLock(redis, { ttlMs: 300, refreshMs: 100 });
    const lease = await lock.acquire('mb-1');
    expect(lease).not.toBeNull();
    expect(await lock.acquire('mb-1')).toBeNull();
    await new Promise((r) => setTimeout(r, 700));
    expect(await lock.acquire('mb-1')).toBeNull();
    expect(await redis.pttl(RedisMailboxLock.key('mb-1'))).toBeGreaterThan(0);
    await lease!.release();
    expect(await redis.exists(RedisMailboxLock.key('mb-1'))).toBe(0);
    const next = await lock.acquire('mb-1');
    expect(next).not.toBeNull();
    await next!.release();
  });

  it('tells the holder when the lease is gone and never releases a successor', async () => {
    const lock = new RedisMailboxLock(redis, { ttlMs: 300, refreshMs: 50 });
    let lost = 0;
    const lease = await lock.acquire('mb-2', () => lost++);
    // Another holder took over after an expiry.
    await redis.set(RedisMailboxLock.key('mb-2'), 'someone-else');
    await new Promise((r) => setTimeout(r, 200));
    expect(lost).toBe(1);
    await lease!.release();
    expect(await redis.get(RedisMailboxLock.key('mb-2'))).toBe('someone-else');
  });
});
