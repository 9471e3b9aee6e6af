/** The sign-in throttle on real Redis, with limits read live (the mail nodes pass their operator settings). */
import Redis from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '@dizi/testing/test-database';
import { LoginThrottle, type LoginThrottleLimits } from '../src/login-throttle';

describe('LoginThrottle', () => {
  const prefix = `dizi-test:login-throttle-${process.pid}-${Date.now()}:`;
  const redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    const plain = new Redis(TEST_REDIS_URL);
    if (keys.length > 0) await plain.del(...keys);
    plain.disconnect();
    redis.disconnect();
  });

  it('pauses an account+address pair at the limit of the moment, and lifts the pause when the limit is raised', async () => {
    let limits: LoginThrottleLimits = { maxFailuresPerAccountIp: 2, maxFailuresPerIp: 1000 };
    const throttle = new LoginThrottle(redis, () => limits);
    expect(await throttle.waitBeforeAttempt('ann@a.test', '192.0.2.1')).toBe(0);
    await throttle.recordFailure('ann@a.test', '192.0.2.1');
    expect(await throttle.waitBeforeAttempt('ann@a.test', '192.0.2.1')).toBe(0);
    await throttle.recordFailure('ann@a.test', '192.0.2.1');
    expect(await throttle.waitBeforeAttempt('ann@a.test', '192.0.2.1')).toBeGreaterThan(0);
    // Another address of the same account is not paused.
    expect(await throttle.waitBeforeAttempt('ann@a.test', '192.0.2.2')).toBe(0);
    limits = { ...limits, maxFailuresPerAccountIp: 5 };
    expect(await throttle.waitBeforeAttempt('ann@a.test', '192.0.2.1')).toBe(0);
    limits = { ...limits, maxFailuresPerAccountIp: 1 };
    expect(await throttle.waitBeforeAttempt('ann@a.test', '192.0.2.1')).toBeGreaterThan(0);
  });

  it('pauses an address that fails for many accounts at the per-address limit', async () => {
    const throttle = new LoginThrottle(redis, { maxFailuresPerAccountIp: 100, maxFailuresPerIp: 3 });
    for (const who of ['a', 'b', 'c']) await throttle.recordFailure(`${who}@b.test`, '198.51.100.7');
    expect(await throttle.waitBeforeAttempt('d@b.test', '198.51.100.7')).toBeGreaterThan(0);
    expect(await throttle.waitBeforeAttempt('d@b.test', '198.51.100.8')).toBe(0);
  });
});
